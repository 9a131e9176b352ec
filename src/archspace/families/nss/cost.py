"""Analytic cost of expanded-space networks, walking the AnyNet rows named by ``table.EXPANDED``.

One code path costs one network or a whole batch: depths and widths may be ints or numpy integer
arrays (one entry per network). ``stage_cost`` exposes the cost of one stage as a function of its
input width, width and depth; the exact FLOPs distributions of network spaces
(``archspace.nss.distribution``) are built from it, so they count exactly what the built module
runs. Convention: flops are multiply-adds of conv and linear layers, params include BatchNorm
affine weights, acts are conv/linear output elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from archspace.complexity import counts as layer
from archspace.complexity.counts import Complexity, CostTracker
from archspace.families.anynet.cost import (
    StageArrays,
    block_cost,
    head_cost,
    network_cost,
    stem_cost,
)
from archspace.families.anynet.spec import AnyNetArch, StageSpec
from archspace.families.nss.spec import NSSArch
from archspace.families.nss.table import EXPANDED


def to_anynet(arch: NSSArch, stem_width: int = EXPANDED.stem_width) -> AnyNetArch:
    """The same network as an AnyNet spec (stem ``res_stem_cifar``, R blocks, strides 1, 2, 2)."""
    stages = tuple(StageSpec(d, w, s) for d, w, s in zip(arch.depths, arch.widths, EXPANDED.strides, strict=True))
    return AnyNetArch(stages=stages, block=EXPANDED.block, stem=EXPANDED.stem, stem_width=stem_width,
                      head_width=EXPANDED.head_width)


def _stage(depth: Any, width: Any, stride: int) -> StageArrays:
    return StageArrays(depth, width, stride, width, 1)


def cost_arrays(depths: Sequence[Any], widths: Sequence[Any], stem_width: int, resolution: int,
                num_classes: int, in_channels: int) -> CostTracker:
    """Cost of the networks with per-stage ``depths[i]`` / ``widths[i]`` (ints or arrays)."""
    stages = [_stage(d, w, s) for d, w, s in zip(depths, widths, EXPANDED.strides, strict=True)]
    return network_cost(EXPANDED.block, EXPANDED.stem, stem_width, EXPANDED.head_width, 0.0, stages,
                        resolution, num_classes, in_channels)


def nss_complexity(arch: NSSArch, stem_width: int, resolution: int, num_classes: int, in_channels: int) -> Complexity:
    cx = cost_arrays(arch.depths, arch.widths, stem_width, resolution, num_classes, in_channels)
    return Complexity(int(cx.flops), int(cx.params), int(cx.acts))


def nss_complexity_many(archs: Sequence[NSSArch], stem_width: int, resolution: int, num_classes: int,
                        in_channels: int) -> list[Complexity]:
    """Batched cost: one vectorized pass over (n, 3) depth and width arrays."""
    if not archs:
        return []
    depths = np.array([a.depths for a in archs], dtype=np.int64)
    widths = np.array([a.widths for a in archs], dtype=np.int64)
    cx = cost_arrays(list(depths.T), list(widths.T), stem_width, resolution, num_classes, in_channels)
    n = len(archs)
    flops, params, acts = (np.broadcast_to(np.asarray(v, dtype=np.int64), (n,)) for v in (cx.flops, cx.params, cx.acts))
    return [Complexity(int(f), int(p), int(a)) for f, p, a in zip(flops, params, acts, strict=True)]


def flops_many(depths: np.ndarray, widths: np.ndarray, stem_width: int, resolution: int, num_classes: int,
               in_channels: int) -> np.ndarray:
    """int64 flops of the networks given as (n, 3) depth and width arrays."""
    depths, widths = np.asarray(depths, dtype=np.int64), np.asarray(widths, dtype=np.int64)
    cx = cost_arrays(list(depths.T), list(widths.T), stem_width, resolution, num_classes, in_channels)
    return np.broadcast_to(np.asarray(cx.flops, dtype=np.int64), (len(depths),)).copy()


def stage_sizes(resolution: int) -> list[int]:
    """Spatial size of the input of every stage (after the stem and the previous stages)."""
    cx = stem_cost(CostTracker(resolution, resolution), EXPANDED.stem, 1, 1)
    strided = next(conv for conv in EXPANDED.block_row.convs if conv.strided)
    sizes = []
    for stride in EXPANDED.strides:
        sizes.append(cx.height)
        cx.height = cx.width = layer.out_size(cx.height, strided.kernel, stride, strided.kernel // 2)
    return sizes


def stage_cost(w_in: Any, width: Any, depth: Any, index: int, size: int) -> CostTracker:
    """Cost of stage ``index`` (first block strided, then depth - 1 repeats) on a size x size input."""
    stride = EXPANDED.strides[index]
    stage = _stage(depth, width, stride)
    cx = block_cost(CostTracker(size, size), EXPANDED.block, 0.0, stage, w_in, stride)
    repeat = block_cost(CostTracker(cx.height, cx.width), EXPANDED.block, 0.0, stage, width, 1)
    cx.flops = cx.flops + repeat.flops * (depth - 1)
    cx.params = cx.params + repeat.params * (depth - 1)
    cx.acts = cx.acts + repeat.acts * (depth - 1)
    return cx


def stem_flops(stem_width: int, resolution: int, in_channels: int) -> int:
    return int(stem_cost(CostTracker(resolution, resolution), EXPANDED.stem, in_channels, stem_width).flops)


def head_flops(width: Any, num_classes: int) -> Any:
    return head_cost(CostTracker(1, 1), width, EXPANDED.head_width, num_classes).flops
