"""Measured complexity of a built torch module, as a cross-check of the analytic counts.

flops come from torch's own per-operator formulas (``torch.utils.flop_counter.flop_registry``,
the table behind ``FlopCounterMode``; they report 2 x multiply-adds and ignore biases), halved,
plus one add per output element of every biased conv/linear layer, so the convention matches
``archspace.complexity``. A lean dispatch mode applies the formulas: ``FlopCounterMode`` itself
also tracks the module hierarchy, which costs ~8x the forward pass. acts are output elements of
Conv2d/3d, Linear and MaxPool2d/3d modules (forward hooks); params are all parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from archspace.complexity.counts import Complexity

_ACT_MODULES = (nn.Conv2d, nn.Conv3d, nn.Linear, nn.MaxPool2d, nn.MaxPool3d)


class _FlopCount(TorchDispatchMode):
    """Sum torch's registered flop formulas over every operator a forward pass dispatches."""

    def __init__(self) -> None:
        super().__init__()
        self.flops = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flops += formula(*args, **kwargs, out_val=out)
        return out


def measure_complexity(module: nn.Module, input_shape: Sequence[int]) -> Complexity:
    """Run one forward pass on zeros of ``input_shape`` (batch 1, on the module's device) and count."""
    acts = 0
    bias_adds = 0

    def hook(layer: nn.Module, _inputs: object, output: torch.Tensor) -> None:
        nonlocal acts, bias_adds
        per_image = output.numel() // output.shape[0]
        acts += per_image
        if isinstance(layer, (nn.Conv2d, nn.Conv3d, nn.Linear)) and layer.bias is not None:
            bias_adds += per_image

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, _ACT_MODULES)]
    was_training = module.training
    module.eval()
    counter = _FlopCount()
    try:
        device = next(module.parameters()).device
        with torch.no_grad(), counter:
            module(torch.zeros(1, *input_shape, device=device))
    finally:
        for handle in handles:
            handle.remove()
        module.train(was_training)
    params = sum(p.numel() for p in module.parameters())
    return Complexity(int(counter.flops // 2 + bias_adds), int(params), int(acts))


def measure_arch(space: Any, arch: Any, resolution: int = 224, num_classes: int = 1000,
                 in_channels: int = 3) -> Complexity:
    """Build ``arch`` with ``space`` on the CPU and measure it on one zero image."""
    module = space.build(arch, num_classes=num_classes, in_channels=in_channels)
    return measure_complexity(module, (in_channels, resolution, resolution))
