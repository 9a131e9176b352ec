"""Complexity accounting: analytic counts from specs, and a measured count from built modules.

Convention (the RegNet paper's tables): flops = multiply-adds of conv and linear layers (biases of
linear/1x1 SE convs add one per output, as pycls counts them); BatchNorm, activations, pooling,
residual adds and the SE rescale are not counted. params include BatchNorm affine weights.
acts = output elements of conv, linear and max-pool layers.
"""

from archspace.complexity.counts import Complexity

__all__ = ["Complexity"]
