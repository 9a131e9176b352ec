"""Analytic complexity of AnyNet models, walking the rows of ``archspace.families.anynet.table``.

The same code costs one model or a whole batch: per-stage quantities may be Python ints or numpy
integer arrays (one entry per model), and the block formulas are branch-free (a projection or SE
module that a block lacks is multiplied by 0). Sampling uses the batched form to filter thousands
of candidates by complexity regime at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.complexity import counts as layer
from archspace.complexity.counts import Complexity, CostTracker
from archspace.errors import InvalidArchitecture
from archspace.families.anynet.spec import AnyNetArch
from archspace.families.anynet.table import BLOCKS, STEM_MAX_POOL, STEMS, width_symbols


@dataclass
class StageArrays:
    """One stage for a batch of models: each field an int or an int array (one entry per model)."""

    depth: Any
    width: Any
    stride: Any
    bottleneck_width: Any
    groups: Any
    upsample: Any = 1


def stem_cost(cx: CostTracker, stem: str, w_in: int, w_out: int) -> CostTracker:
    """The stem row: conv + BN, then the optional max-pool."""
    row = STEMS[stem]
    layer.batchnorm2d(layer.conv2d(cx, w_in, w_out, row.kernel, stride=row.stride), w_out)
    if row.max_pool:
        kernel, stride, padding = STEM_MAX_POOL
        layer.maxpool2d(cx, w_out, kernel, stride=stride, padding=padding)
    return cx


def se_width(block: str, se_ratio: float, w_in: Any) -> Any:
    """SE width = round(se_ratio * block input width) for blocks with an SE row, 0 otherwise."""
    if BLOCKS[block].se_after is None:
        return 0 * w_in
    return np.rint(np.asarray(w_in) * se_ratio).astype(np.int64) if isinstance(w_in, np.ndarray) \
        else int(round(w_in * se_ratio))


def _add_scaled(cx: CostTracker, part: CostTracker, scale: Any) -> None:
    cx.flops = cx.flops + part.flops * scale
    cx.params = cx.params + part.params * scale
    cx.acts = cx.acts + part.acts * scale


def se_cost(cx: CostTracker, w_in: Any, w_se: Any) -> CostTracker:
    """Squeeze-excitation: global pool, 1x1 conv down (bias), 1x1 conv up (bias); no size change."""
    part = CostTracker(1, 1)
    layer.conv2d(part, w_in, w_se, 1, bias=True)
    layer.conv2d(part, w_se, w_in, 1, bias=True)
    _add_scaled(cx, part, w_se > 0)
    return cx


def block_cost(cx: CostTracker, block: str, se_ratio: float, stage: StageArrays, w_in: Any, stride: Any) -> CostTracker:
    """One block: its table row's convs (+ BN), SE, and the 1x1 projection when the shape changes."""
    row = BLOCKS[block]
    widths = width_symbols(w_in, stage.width, stage.bottleneck_width)
    height, width = cx.height, cx.width
    for index, conv in enumerate(row.convs):
        c_out = widths[conv.w_out]
        layer.conv2d(cx, widths[conv.w_in], c_out, conv.kernel, stride=stride if conv.strided else 1,
                     groups=stage.groups if conv.grouped else 1)
        layer.batchnorm2d(cx, c_out)
        if index == row.se_after:
            se_cost(cx, c_out, se_width(block, se_ratio, w_in))
    if row.residual:
        shortcut = layer.batchnorm2d(layer.conv2d(CostTracker(height, width), w_in, stage.width, 1, stride=stride),
                                     stage.width)
        _add_scaled(cx, shortcut, (w_in != stage.width) | (stride != 1))
    return cx


def head_cost(cx: CostTracker, w_in: Any, head_width: int, num_classes: int) -> CostTracker:
    if head_width > 0:
        layer.batchnorm2d(layer.conv2d(cx, w_in, head_width, 1), head_width)
        w_in = head_width
    layer.global_avgpool(cx)
    return layer.linear(cx, w_in, num_classes, bias=True)


def network_cost(block: str, stem: str, stem_width: int, head_width: int, se_ratio: float,
                 stages: Sequence[StageArrays], resolution: int, num_classes: int, in_channels: int) -> CostTracker:
    """Cost of the whole network; stage fields may be scalars or arrays (batched models)."""
    if resolution < 1:
        raise InvalidArchitecture("resolution", f"must be >= 1, got {resolution}")
    cx = stem_cost(CostTracker(resolution, resolution), stem, in_channels, stem_width)
    total_stride = STEMS[stem].total_stride
    upsampled: Any = 1  # product of the upsampling factors so far
    w_in: Any = stem_width
    for index, stage in enumerate(stages):
        if np.any(np.asarray(stage.upsample) != 1):
            layer.upsample2d(cx, stage.upsample)
            upsampled = upsampled * stage.upsample
        total_stride = total_stride * stage.stride
        if np.any(np.asarray(total_stride) > resolution * np.asarray(upsampled)):
            raise InvalidArchitecture(
                f"stages[{index}].stride",
                f"total stride {np.max(total_stride)} exceeds the input resolution {resolution}"
                + ("" if np.all(np.asarray(upsampled) == 1) else " times the upsampling so far")
                + ": the feature map would shrink below 1x1",
            )
        block_cost(cx, block, se_ratio, stage, w_in, stage.stride)
        w_in = stage.width
        # The remaining blocks of a stage are identical: cost one, multiply by depth - 1.
        repeat = block_cost(CostTracker(cx.height, cx.width), block, se_ratio, stage, w_in, 1)
        _add_scaled(cx, repeat, stage.depth - 1)
    return head_cost(cx, w_in, head_width, num_classes)


def anynet_complexity(arch: AnyNetArch, resolution: int = 224, num_classes: int = 1000,
                      in_channels: int = 3) -> Complexity:
    """flops / params / acts of ``arch`` on a ``resolution`` x ``resolution`` input.

    Raises ``InvalidArchitecture`` when the strides would need a feature map below 1x1.
    """
    stages = [StageArrays(s.depth, s.width, s.stride, s.bottleneck_width, s.groups, s.upsample) for s in arch.stages]
    cx = network_cost(arch.block, arch.stem, arch.stem_width, arch.head_width, arch.se_ratio, stages,
                      resolution, num_classes, in_channels)
    return Complexity(int(cx.flops), int(cx.params), int(cx.acts))


def anynet_complexity_many(archs: Sequence[AnyNetArch], resolution: int = 224, num_classes: int = 1000,
                           in_channels: int = 3) -> list[Complexity]:
    """Complexity of many models at once (grouped by everything that is not a per-stage number)."""
    results: list[Complexity | None] = [None] * len(archs)
    groups: dict[tuple, list[int]] = {}
    for index, arch in enumerate(archs):
        key = (arch.block, arch.stem, arch.stem_width, arch.head_width, arch.se_ratio, len(arch.stages))
        groups.setdefault(key, []).append(index)
    for (block, stem, stem_width, head_width, se_ratio, n_stages), members in groups.items():
        table = np.array([[(s.depth, s.width, s.stride, s.bottleneck_ratio, s.group_width, s.upsample)
                           for s in archs[i].stages] for i in members], dtype=np.float64)
        depth, width, stride = (table[:, :, f].astype(np.int64) for f in range(3))
        bottleneck = np.rint(table[:, :, 1] / table[:, :, 3]).astype(np.int64)  # as StageSpec.bottleneck_width
        groups = bottleneck // table[:, :, 4].astype(np.int64)
        upsample = table[:, :, 5].astype(np.int64)
        stages = [StageArrays(depth[:, k], width[:, k], stride[:, k], bottleneck[:, k], groups[:, k], upsample[:, k])
                  for k in range(n_stages)]
        cx = network_cost(block, stem, stem_width, head_width, se_ratio, stages, resolution, num_classes, in_channels)
        flops, params, acts = (np.broadcast_to(v, (len(members),)) for v in (cx.flops, cx.params, cx.acts))
        for row, index in enumerate(members):
            results[index] = Complexity(int(flops[row]), int(params[row]), int(acts[row]))
    return results  # type: ignore[return-value]
