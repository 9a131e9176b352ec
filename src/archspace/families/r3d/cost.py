"""Analytic cost of R3D networks on a (frames, resolution, resolution) clip, walking the table.

flops are multiply-adds of conv and linear layers, params include BatchNorm affine weights, acts
are output elements of conv and linear layers (the project's convention).
"""

from __future__ import annotations

from dataclasses import dataclass

from archspace.complexity.counts import Complexity
from archspace.families.r3d.spec import R3DArch
from archspace.families.r3d.table import BASIC_BLOCK, PROJECTION_KERNEL, STEM, out_size


@dataclass
class VolumeTracker:
    """Running counts and the current (frames, height, width) of the feature volume."""

    frames: int
    height: int
    width: int
    flops: int = 0
    params: int = 0
    acts: int = 0

    @property
    def positions(self) -> int:
        return self.frames * self.height * self.width

    def result(self) -> Complexity:
        return Complexity(self.flops, self.params, self.acts)


def conv3d_bn(cx: VolumeTracker, w_in: int, w_out: int, kernel: int, stride: int = 1, bn: bool = True,
              bias: bool = False) -> VolumeTracker:
    """An isotropic Conv3d (padding kernel // 2) and, if ``bn``, its BatchNorm3d."""
    cx.frames, cx.height, cx.width = (out_size(s, kernel, stride) for s in (cx.frames, cx.height, cx.width))
    weights = kernel ** 3 * w_in * w_out
    cx.flops += weights * cx.positions + (w_out * cx.positions if bias else 0)
    cx.params += weights + (w_out if bias else 0) + (2 * w_out if bn else 0)
    cx.acts += w_out * cx.positions
    return cx


def block_cost(cx: VolumeTracker, w_in: int, w_out: int, stride: int) -> VolumeTracker:
    start = VolumeTracker(cx.frames, cx.height, cx.width)
    for row in BASIC_BLOCK:
        conv3d_bn(cx, w_in if row.w_in == "in" else w_out, w_out, row.kernel, stride if row.strided else 1)
    if w_in != w_out or stride != 1:
        conv3d_bn(start, w_in, w_out, PROJECTION_KERNEL, stride)
        cx.flops, cx.params, cx.acts = cx.flops + start.flops, cx.params + start.params, cx.acts + start.acts
    return cx


def stem_cost(cx: VolumeTracker, in_channels: int, width: int) -> VolumeTracker:
    return conv3d_bn(cx, in_channels, width, STEM.kernel, STEM.stride)


def head_cost(cx: VolumeTracker, width: int, num_classes: int) -> VolumeTracker:
    cx.frames = cx.height = cx.width = 1
    cx.flops += width * num_classes + num_classes
    cx.params += width * num_classes + num_classes
    cx.acts += num_classes
    return cx


def r3d_complexity(arch: R3DArch, frames: int, resolution: int, num_classes: int, in_channels: int) -> Complexity:
    """flops / params / acts of ``arch`` on one ``in_channels`` x frames x resolution^2 clip."""
    cx = stem_cost(VolumeTracker(frames, resolution, resolution), in_channels, arch.stem_width)
    width = arch.stem_width
    for stage in arch.stages:
        for index in range(stage.depth):
            block_cost(cx, width, stage.width, stage.stride if index == 0 else 1)
            width = stage.width
    return head_cost(cx, width, num_classes).result()
