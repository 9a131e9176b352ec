"""The NAS-Bench-201 table: ops, edges and the macro skeleton as data (torch-free).

A cell is a 4-node DAG; its 6 edges, in the order of the benchmark string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``, are 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2; node j is the
sum of its incoming edges and node 3 is the cell's output. The macro network is the benchmark's:
stem (3x3 conv + BN) -> N cells at C -> reduction -> N cells at 2C -> reduction -> N cells at 4C
-> BN + ReLU -> global average pool -> linear. The builder (``modules``), the supernet
(``supernet``), the analytic cost (``cost``) and the layer sequence (``layers``) all read these rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (target node, source node) of each edge, in the order of the benchmark string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
NUM_CELLS = NUM_OPS**NUM_EDGES
PLACE = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)  # base-5 place value of each edge
OP_INDEX: dict[str, int] = {name: i for i, name in enumerate(OPS)}
# For each target node: its incoming (edge index, source node) pairs; they are contiguous.
INCOMING: dict[int, tuple[tuple[int, int], ...]] = {
    t: tuple((e, s) for e, (tt, s) in enumerate(EDGES) if tt == t) for t in (1, 2, 3)}


@dataclass(frozen=True)
class OpRow:
    """One edge op: ``zero`` (adds nothing), ``identity``, ``conv`` (ReLU -> bias-free conv -> BN)
    or ``avg_pool`` (stride 1, padding not counted in the mean); all keep the map's shape."""

    layer: str
    kernel: int = 0
    padding: int = 0


OP_TABLE: dict[str, OpRow] = {
    "none": OpRow("zero"),
    "skip_connect": OpRow("identity"),
    "nor_conv_1x1": OpRow("conv", 1, 0),
    "nor_conv_3x3": OpRow("conv", 3, 1),
    "avg_pool_3x3": OpRow("avg_pool", 3, 1),
}

# Macro skeleton.
NUM_STAGES = 3  # stage s has C * 2**s channels; a reduction precedes stages 1 and 2
STEM_KERNEL = 3  # stem: conv 3x3 (padding 1, no bias) + BN
REDUCTION_KERNEL = 3  # reduction main path: ReLUConvBN 3x3 stride 2 -> ReLUConvBN 3x3 stride 1
REDUCTION_POOL = 2  # reduction shortcut: 2x2 average pool (stride 2) -> 1x1 conv (no bias, no BN)


def stage_width(channels: int, stage: int) -> int:
    return channels * 2**stage
