"""Torch modules of the NAS-Bench-201 network, built from the rows of ``archspace.families.nb201.table``.

Edge ops follow the benchmark: ``conv`` rows are ReLU -> Conv(k, bias-free) -> BN, ``avg_pool``
is stride 1 with padding not counted in the mean, ``identity`` passes through and ``zero`` is a
zero map. A cell node is the sum of its incoming edges; every edge module exists and runs, as in
the benchmark's ``InferCell``. ``macro_layers`` lays out the skeleton for both the stand-alone
network and the supernet, so ``NB201Supernet.extract`` can copy weights position by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from archspace.families.nb201.table import (
    EDGES,
    INCOMING,
    NUM_STAGES,
    OP_TABLE,
    OPS,
    REDUCTION_KERNEL,
    REDUCTION_POOL,
    STEM_KERNEL,
    stage_width,
)


class ReLUConvBN(nn.Sequential):
    """ReLU -> bias-free Conv2d ('same' padding for stride 1) -> BatchNorm2d."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
            nn.BatchNorm2d(c_out),
        )


class Zero(nn.Module):
    """The ``none`` op: a zero map of the input's shape (contributes nothing to the node sum)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def make_op(name: str, channels: int) -> nn.Module:
    """One shape-preserving edge op on ``channels`` channels, from its ``OP_TABLE`` row."""
    row = OP_TABLE.get(name)
    if row is None:
        raise ValueError(f"unknown NB201 op {name!r}; known ops: {list(OPS)}")
    if row.layer == "zero":
        return Zero()
    if row.layer == "identity":
        return nn.Identity()
    if row.layer == "conv":
        return ReLUConvBN(channels, channels, row.kernel)
    return nn.AvgPool2d(row.kernel, stride=1, padding=row.padding, count_include_pad=False)


class NB201CellModule(nn.Module):
    """The 4-node cell: node j = sum of op(node i) over edges i -> j; returns node 3."""

    def __init__(self, ops: Sequence[str], channels: int) -> None:
        super().__init__()
        if len(ops) != len(EDGES):
            raise ValueError(f"an NB201 cell has {len(EDGES)} edges, got {len(ops)} ops")
        self.ops = tuple(ops)
        self.edges = nn.ModuleList(make_op(op, channels) for op in ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            incoming = INCOMING[target]
            total = self.edges[incoming[0][0]](nodes[incoming[0][1]])
            for edge, source in incoming[1:]:
                total = total + self.edges[edge](nodes[source])
            nodes.append(total)
        return nodes[3]


class ResidualReduction(nn.Module):
    """The benchmark's ResNet basic block with stride 2 between stages.

    main path: ReLUConvBN 3x3 stride 2 -> ReLUConvBN 3x3; shortcut: 2x2 average pool -> 1x1 conv.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, REDUCTION_KERNEL, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, REDUCTION_KERNEL)
        self.shortcut = nn.Sequential(nn.AvgPool2d(REDUCTION_POOL, stride=REDUCTION_POOL),
                                      nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        main = self.conv_b(self.conv_a(x))  # main path first: the layer sequence's order
        return self.shortcut(x) + main


def make_stem(in_channels: int, channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, channels, STEM_KERNEL, padding=STEM_KERNEL // 2, bias=False),
                         nn.BatchNorm2d(channels))


def macro_layers(channels: int, cells_per_stage: int, make_cell: Callable[[int], nn.Module]) -> list[nn.Module]:
    """Cells and reductions in forward order: N cells per stage, a reduction before stages 1.."""
    layers: list[nn.Module] = []
    for stage in range(NUM_STAGES):
        width = stage_width(channels, stage)
        if stage > 0:
            layers.append(ResidualReduction(stage_width(channels, stage - 1), width))
        layers.extend(make_cell(width) for _ in range(cells_per_stage))
    return layers


def make_head(channels: int, num_classes: int) -> tuple[nn.Module, nn.Module, nn.Module]:
    """Final BN + ReLU, global average pool, classifier."""
    last = stage_width(channels, NUM_STAGES - 1)
    return nn.Sequential(nn.BatchNorm2d(last), nn.ReLU(inplace=True)), nn.AdaptiveAvgPool2d(1), nn.Linear(last, num_classes)


class NB201Network(nn.Module):
    """The NAS-Bench-201 macro network for one cell (``ops`` in benchmark edge order)."""

    def __init__(
        self,
        ops: Sequence[str],
        channels: int = 16,
        cells_per_stage: int = 5,
        num_classes: int = 10,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        self.stem = make_stem(in_channels, channels)
        self.cells = nn.Sequential(*macro_layers(channels, cells_per_stage, lambda width: NB201CellModule(ops, width)))
        self.lastact, self.pool, self.classifier = make_head(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(features), 1))
