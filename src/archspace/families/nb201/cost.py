"""Analytic cost of the NAS-Bench-201 network, walking the rows of ``archspace.families.nb201.table``.

Cost convention: the network of ``modules`` with every edge module instantiated and run, as the
benchmark's ``InferCell`` does -- including ops on edges that cannot reach the output (their
flops are spent: the forward pass computes every node). This is what a flop counter measures on
the built module and what the benchmark's ``params_mb`` counts: equal for 15,475 of the 15,625
rows; the other 150 rows of the public table carry the count of an isomorphic cell (one 1x1 or
3x3 conv edge more or fewer than the row's own cell, a quirk of the source data; the tests pin
both facts). flops are multiply-adds of conv and linear layers (linear bias included), params
include BatchNorm affine weights, acts are conv/linear output elements.

The cost of a cell is a sum over its edges, so ``op_cost_table`` holds what one edge with each op
adds to the whole network and a cell's cost is a table lookup (vectorized over all cells).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from archspace.complexity import counts
from archspace.complexity.counts import Complexity, CostTracker
from archspace.families.nb201.table import (
    NUM_OPS,
    NUM_STAGES,
    OP_TABLE,
    OPS,
    REDUCTION_KERNEL,
    REDUCTION_POOL,
    STEM_KERNEL,
    stage_width,
)


def _relu_conv_bn(cx: CostTracker, c_in: int, c_out: int, kernel: int, stride: int) -> CostTracker:
    counts.conv2d(cx, c_in, c_out, kernel, stride=stride, padding=kernel // 2)
    return counts.batchnorm2d(cx, c_out)


def edge_op_cost(op: str, channels: int, size: int) -> Complexity:
    """Cost of one edge op on a ``channels`` x ``size`` x ``size`` map (all cell edges keep shape)."""
    row = OP_TABLE[op]
    cx = CostTracker(size, size)
    if row.layer == "conv":
        counts.conv2d(cx, channels, channels, row.kernel, stride=1, padding=row.padding)
        counts.batchnorm2d(cx, channels)
    elif row.layer == "avg_pool":
        counts.avgpool2d(cx, row.kernel, 1, row.padding)
    return cx.result()  # zero and identity cost nothing


def _residual_reduction(cx: CostTracker, c_in: int, c_out: int) -> CostTracker:
    """The reduction block: two ReLUConvBN, shortcut = avg-pool then 1x1 conv."""
    shortcut = CostTracker(cx.height, cx.width)
    counts.avgpool2d(shortcut, REDUCTION_POOL, REDUCTION_POOL, 0)
    counts.conv2d(shortcut, c_in, c_out, 1, padding=0)
    _relu_conv_bn(cx, c_in, c_out, REDUCTION_KERNEL, 2)
    _relu_conv_bn(cx, c_out, c_out, REDUCTION_KERNEL, 1)
    cx.flops, cx.params, cx.acts = cx.flops + shortcut.flops, cx.params + shortcut.params, cx.acts + shortcut.acts
    return cx


def stage_geometry(channels: int, resolution: int) -> list[tuple[int, int]]:
    """(channels, spatial size) of the cells of each stage."""
    sizes = [resolution]
    for _ in range(NUM_STAGES - 1):
        sizes.append(counts.out_size(sizes[-1], REDUCTION_KERNEL, 2, REDUCTION_KERNEL // 2))
    return [(stage_width(channels, s), sizes[s]) for s in range(NUM_STAGES)]


@cache
def skeleton_cost(channels: int, resolution: int, num_classes: int, in_channels: int) -> Complexity:
    """Everything but the cells: stem conv+BN, the reductions, final BN, classifier."""
    cx = CostTracker(resolution, resolution)
    counts.conv2d(cx, in_channels, channels, STEM_KERNEL, padding=STEM_KERNEL // 2)
    counts.batchnorm2d(cx, channels)
    for stage in range(1, NUM_STAGES):
        _residual_reduction(cx, stage_width(channels, stage - 1), stage_width(channels, stage))
    last = stage_width(channels, NUM_STAGES - 1)
    counts.batchnorm2d(cx, last)
    counts.global_avgpool(cx)
    counts.linear(cx, last, num_classes)
    return cx.result()


@cache
def op_cost_table(channels: int, cells_per_stage: int, resolution: int) -> np.ndarray:
    """(5, 3) int64: flops, params, acts that one edge with each op adds to the whole network
    (read-only; cached, since it depends on these three integers only)."""
    table = np.zeros((NUM_OPS, 3), dtype=np.int64)
    for op_index, op in enumerate(OPS):
        for width, size in stage_geometry(channels, resolution):
            c = edge_op_cost(op, width, size)
            table[op_index] += cells_per_stage * np.array([c.flops, c.params, c.acts], dtype=np.int64)
    table.setflags(write=False)
    return table


def cells_complexity(op_indices: np.ndarray, channels: int, cells_per_stage: int, resolution: int,
                     num_classes: int, in_channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """flops, params, acts (int64 arrays) of the networks of cells given as an (n, 6) op-index array."""
    base = skeleton_cost(channels, resolution, num_classes, in_channels)
    summed = op_cost_table(channels, cells_per_stage, resolution)[np.asarray(op_indices)].sum(axis=1)
    return summed[:, 0] + base.flops, summed[:, 1] + base.params, summed[:, 2] + base.acts


def cell_complexity(op_indices: tuple[int, ...], channels: int, cells_per_stage: int, resolution: int,
                    num_classes: int, in_channels: int) -> Complexity:
    """``cells_complexity`` of one cell (the per-call fast path)."""
    flops, params, acts = op_cost_table(channels, cells_per_stage, resolution)[list(op_indices)].sum(axis=0)
    return skeleton_cost(channels, resolution, num_classes, in_channels) + Complexity(int(flops), int(params), int(acts))
