"""Torch modules of the NAS-Bench-201 network: edge ops, the cell, and the macro skeleton.

The skeleton is the benchmark's: stem (3x3 conv + BN) -> N cells at C -> residual reduction ->
N cells at 2C -> residual reduction -> N cells at 4C -> BN + ReLU -> global average pool -> linear.
Edge ops follow NAS-Bench-201: ``nor_conv_kxk`` = ReLU -> Conv(k, bias-free) -> BN, ``avg_pool_3x3``
(stride 1, padding not counted in the mean), ``skip_connect`` = identity, ``none`` = zero. A cell
node is the sum of its incoming edges; every edge module exists and runs, as in the benchmark's
``InferCell``. The analytic twin is ``archspace.spaces.nb201`` (``skeleton_cost``,
``edge_op_cost``); tests compare both with ``archspace.complexity.measure``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from archspace.spaces.nb201 import EDGES, OPS


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
    """One shape-preserving edge op on ``channels`` channels."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}; known ops: {list(OPS)}")


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
        edge = 0
        for target in (1, 2, 3):
            total = self.edges[edge](nodes[0])
            for source in range(1, target):
                total = total + self.edges[edge + source](nodes[source])
            edge += target
            nodes.append(total)
        return nodes[3]


class ResidualReduction(nn.Module):
    """The benchmark's ResNet basic block with stride 2 between stages.

    main path: ReLUConvBN 3x3 stride 2 -> ReLUConvBN 3x3; shortcut: 2x2 average pool -> 1x1 conv.
    """

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, stride=2), nn.Conv2d(c_in, c_out, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


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
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False), nn.BatchNorm2d(channels)
        )
        layers: list[nn.Module] = []
        for stage in range(3):
            width = channels * 2**stage
            if stage > 0:
                layers.append(ResidualReduction(width // 2, width))
            layers.extend(NB201CellModule(ops, width) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(4 * channels), nn.ReLU(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.lastact(self.cells(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(features), 1))
