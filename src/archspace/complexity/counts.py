"""Analytic cost of the layers archspace builds, one function per layer type.

Each function takes the running ``CostTracker`` (feature-map size plus counts so far) and the
layer's shape, and advances it exactly as the corresponding torch layer would. Layer builders in
``archspace.families`` use them; tests compare both against torch's flop counter.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Complexity:
    """flops (multiply-adds), params and acts of a network for one input image."""

    flops: int
    params: int
    acts: int

    def __add__(self, other: Complexity) -> Complexity:
        return Complexity(self.flops + other.flops, self.params + other.params, self.acts + other.acts)

    def to_dict(self) -> dict[str, int]:
        return {"flops": self.flops, "params": self.params, "acts": self.acts}


@dataclass
class CostTracker:
    """Running counts and the current feature-map height/width."""

    height: int
    width: int
    flops: int = 0
    params: int = 0
    acts: int = 0

    def result(self) -> Complexity:
        return Complexity(self.flops, self.params, self.acts)


def out_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Spatial output size of a conv/pool with symmetric padding (floor mode)."""
    return (size + 2 * padding - kernel) // stride + 1


def conv2d(cx: CostTracker, w_in: int, w_out: int, kernel: int, stride: int = 1,
           groups: int = 1, bias: bool = False, padding: int | None = None) -> CostTracker:
    """Conv2d with 'same'-style padding kernel // 2 by default."""
    pad = kernel // 2 if padding is None else padding
    cx.height = (cx.height + 2 * pad - kernel) // stride + 1
    cx.width = (cx.width + 2 * pad - kernel) // stride + 1
    locations = cx.height * cx.width
    cx.flops += kernel * kernel * w_in * w_out * locations // groups + (w_out * locations if bias else 0)
    cx.params += kernel * kernel * w_in * w_out // groups + (w_out if bias else 0)
    cx.acts += w_out * locations
    return cx


def batchnorm2d(cx: CostTracker, width: int) -> CostTracker:
    """BatchNorm: affine weight and bias count as params; no flops, no acts."""
    cx.params += 2 * width
    return cx


def maxpool2d(cx: CostTracker, width: int, kernel: int, stride: int, padding: int | None = None) -> CostTracker:
    """Max-pool: output elements count as acts."""
    pad = kernel // 2 if padding is None else padding
    cx.height = out_size(cx.height, kernel, stride, pad)
    cx.width = out_size(cx.width, kernel, stride, pad)
    cx.acts += width * cx.height * cx.width
    return cx


def avgpool2d(cx: CostTracker, kernel: int, stride: int, padding: int | None = None) -> CostTracker:
    """Average pool: changes the size, costs nothing under the convention."""
    pad = kernel // 2 if padding is None else padding
    cx.height = out_size(cx.height, kernel, stride, pad)
    cx.width = out_size(cx.width, kernel, stride, pad)
    return cx


def upsample2d(cx: CostTracker, factor: int) -> CostTracker:
    """Integer-factor upsampling (nearest or bilinear): changes the size, costs nothing (interpolation)."""
    cx.height = cx.height * factor
    cx.width = cx.width * factor
    return cx


def global_avgpool(cx: CostTracker) -> CostTracker:
    cx.height = cx.width = 1
    return cx


def linear(cx: CostTracker, w_in: int, w_out: int, bias: bool = True) -> CostTracker:
    """Fully connected layer applied once (after global pooling)."""
    cx.flops += w_in * w_out + (w_out if bias else 0)
    cx.params += w_in * w_out + (w_out if bias else 0)
    cx.acts += w_out
    return cx
