"""The layer sequence of a NAS-Bench-201 network, walking the rows of ``archspace.families.nb201.table``."""

from __future__ import annotations

from collections.abc import Sequence

from archspace.families.layers import LayerConfig, SequenceBuilder
from archspace.families.nb201.table import (
    EDGES,
    NUM_STAGES,
    OP_TABLE,
    REDUCTION_KERNEL,
    REDUCTION_POOL,
    STEM_KERNEL,
    stage_width,
)


def _cell(b: SequenceBuilder, ops: Sequence[str], channels: int, inputs: tuple[int, ...]) -> tuple[int, ...]:
    """Append one cell's edge layers; returns the producers of its output node."""
    producers: dict[int, list[int]] = {0: list(inputs), 1: [], 2: [], 3: []}
    for (target, source), op in zip(EDGES, ops, strict=True):
        row = OP_TABLE[op]
        if row.layer == "zero":
            b.add(LayerConfig("zero", c_in=channels, c_out=channels))
            continue
        index = b.add(LayerConfig(row.layer, row.kernel, 1, row.padding, 1, channels, channels,
                                  tuple(producers[source])))
        producers[target].append(index)
    return tuple(producers[3])


def _reduction(b: SequenceBuilder, c_in: int, c_out: int, inputs: tuple[int, ...]) -> tuple[int, ...]:
    """The residual reduction: two 3x3 convs, avg-pool + 1x1 conv shortcut."""
    pad = REDUCTION_KERNEL // 2
    conv_a = b.add(LayerConfig("conv", REDUCTION_KERNEL, 2, pad, 1, c_in, c_out, inputs))
    conv_b = b.add(LayerConfig("conv", REDUCTION_KERNEL, 1, pad, 1, c_out, c_out, (conv_a,)))
    pool = b.add(LayerConfig("avg_pool", REDUCTION_POOL, REDUCTION_POOL, 0, 1, c_in, c_in, inputs))
    proj = b.add(LayerConfig("conv", 1, 1, 0, 1, c_in, c_out, (pool,)))
    return (conv_b, proj)


def nb201_layer_sequence(ops: Sequence[str], channels: int, cells_per_stage: int, num_classes: int,
                         in_channels: int, macro: bool = True) -> list[LayerConfig]:
    """Layers of the macro network around the cell ``ops`` (``macro=False``: one cell's 6 edges)."""
    b = SequenceBuilder()
    if not macro:
        _cell(b, ops, channels, ())
        return b.layers
    out: tuple[int, ...] = (b.add(LayerConfig("conv", STEM_KERNEL, 1, STEM_KERNEL // 2, 1, in_channels, channels)),)
    for stage in range(NUM_STAGES):
        width = stage_width(channels, stage)
        if stage > 0:
            out = _reduction(b, stage_width(channels, stage - 1), width, out)
        for _ in range(cells_per_stage):
            out = _cell(b, ops, width, out)
    pool = b.add(LayerConfig("global_pool", c_in=width, c_out=width, inputs=out))
    b.add(LayerConfig("linear", c_in=width, c_out=num_classes, inputs=(pool,)))
    return b.layers
