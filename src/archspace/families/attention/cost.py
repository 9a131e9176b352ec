"""Analytic cost of attention cells, SE inserts and whole attention networks (see ``table``).

A cell is costed at its insertion point: the backbone's stage output (width C, frames T, height H,
width W). Backbone costs come from the backbone's own family; inserts are added at each position.
"""

from __future__ import annotations

from dataclasses import dataclass

from archspace.complexity.counts import Complexity, out_size
from archspace.families.anynet.spec import AnyNetArch
from archspace.families.anynet.table import BLOCKS, STEM_MAX_POOL, STEMS
from archspace.families.attention.spec import AttentionCell, AttentionOp, SEInsert
from archspace.families.attention.table import (
    attended_groups,
    inner_width,
    op_width,
    pooled_positions,
)
from archspace.families.r3d.spec import R3DArch
from archspace.families.r3d.table import BASIC_BLOCK, STEM
from archspace.families.r3d.table import out_size as out_size_3d


@dataclass(frozen=True)
class Site:
    """Where an insert sits: the stage output's width and (frames, height, width)."""

    channels: int
    frames: int
    height: int
    width: int

    @property
    def positions(self) -> int:
        return self.frames * self.height * self.width


@dataclass
class Counts:
    flops: int = 0
    params: int = 0
    acts: int = 0

    def conv(self, c_in: int, c_out: int, positions: int, bias: bool = False) -> None:
        """A 1x1x1 conv over ``positions`` output positions."""
        self.flops += c_in * c_out * positions + (c_out * positions if bias else 0)
        self.params += c_in * c_out + (c_out if bias else 0)
        self.acts += c_out * positions

    def linear(self, c_in: int, c_out: int) -> None:
        self.flops += c_in * c_out + c_out
        self.params += c_in * c_out + c_out
        self.acts += c_out

    def result(self) -> Complexity:
        return Complexity(self.flops, self.params, self.acts)


def op_input_width(cell: AttentionCell, index: int, channels: int) -> int:
    """Width of op ``index``'s input: C for the first op (it reads f0), C_op for the others."""
    return channels if index == 0 else op_width(channels, cell.op_divisor)


def needs_f0_projection(cell: AttentionCell, channels: int) -> bool:
    """Whether f0 enters a later op's weighted sum and so needs projecting C -> C_op."""
    return op_width(channels, cell.op_divisor) != channels and any(0 in op.inputs for op in cell.ops[1:])


def op_cost(counts: Counts, cell: AttentionCell, op: AttentionOp, index: int, site: Site) -> None:
    c_in = op_input_width(cell, index, site.channels)
    c_inner = inner_width(c_in, cell.inner_divisor)
    c_op = op_width(site.channels, cell.op_divisor)
    positions = site.positions
    if index > 0:
        counts.params += len(op.inputs)  # the learnable weights of the input sum
    if op.type == "map":
        pooled = pooled_positions(op.dimension, site.frames, site.height, site.width)
        counts.conv(c_in, c_inner, positions)              # G1
        counts.conv(c_inner, c_inner, pooled, bias=True)   # G2, hidden layer
        counts.conv(c_inner, 1, pooled, bias=True)         # G2, one weight per position
        counts.conv(c_in, c_op, positions)                 # G3 on the rescaled input
    else:
        c_src = site.channels if cell.kv_source == "cell" else c_in
        groups, length = attended_groups(op.dimension, site.frames, site.height, site.width)
        counts.conv(c_in, c_inner, positions)   # G1 -> Q
        counts.conv(c_src, c_inner, positions)  # G2 -> K
        counts.flops += groups * length * length * (c_inner + c_src)  # Q K^T and A V
        counts.conv(c_src, c_op, positions)     # G3
    if op.gating:
        counts.linear(c_op, c_op)


def cell_cost(cell: AttentionCell, site: Site) -> Complexity:
    """flops / params / acts of one cell inserted at ``site``."""
    counts = Counts()
    c_op = op_width(site.channels, cell.op_divisor)
    for index, op in enumerate(cell.ops):
        if index == 1 and needs_f0_projection(cell, site.channels):
            counts.conv(site.channels, c_op, site.positions)
        op_cost(counts, cell, op, index, site)
    counts.conv(len(cell.ops) * c_op, site.channels, site.positions)  # output projection
    return counts.result()


def se_hidden_width(insert: SEInsert, channels: int) -> int:
    return max(1, int(round(channels * insert.ratio)))


def se_cost(insert: SEInsert, site: Site) -> Complexity:
    counts = Counts()
    hidden = se_hidden_width(insert, site.channels)
    counts.conv(site.channels, hidden, 1, bias=True)
    counts.conv(hidden, site.channels, 1, bias=True)
    return counts.result()


def insert_cost(insert: AttentionCell | SEInsert, site: Site) -> Complexity:
    return cell_cost(insert, site) if isinstance(insert, AttentionCell) else se_cost(insert, site)


def anynet_sites(arch: AnyNetArch, resolution: int) -> list[Site]:
    """Output shape of every stage of an AnyNet model on a ``resolution`` x ``resolution`` image."""
    stem = STEMS[arch.stem]
    size = out_size(resolution, stem.kernel, stem.stride, stem.kernel // 2)
    if stem.max_pool:
        kernel, stride, padding = STEM_MAX_POOL
        size = out_size(size, kernel, stride, padding)
    strided = next(conv for conv in BLOCKS[arch.block].convs if conv.strided)
    sites = []
    for stage in arch.stages:
        size = out_size(size * stage.upsample, strided.kernel, stage.stride, strided.kernel // 2)
        sites.append(Site(stage.width, 1, size, size))
    return sites


def r3d_sites(arch: R3DArch, frames: int, resolution: int) -> list[Site]:
    """Output shape of every stage of an R3D model on a ``frames`` x ``resolution``^2 clip."""
    t, s = (out_size_3d(v, STEM.kernel, STEM.stride) for v in (frames, resolution))
    kernel = next(row.kernel for row in BASIC_BLOCK if row.strided)
    sites = []
    for stage in arch.stages:
        t, s = (out_size_3d(v, kernel, stage.stride) for v in (t, s))
        sites.append(Site(stage.width, t, s, s))
    return sites
