"""The NAS-Bench-201 mixed-op search network (torch), built from the nb201 family's own parts.

Each of the 6 edges of every cell is a ``MixedOp`` over the allowed ops, each op made by
``families.nb201.modules.make_op`` with its BatchNorm made affine-free (``strip_affine``); the
skeleton (stem, residual reductions, head) is ``families.nb201.modules``'s, so the search network
and the stand-alone ``NB201Network`` cannot drift apart. ``fast_pooling`` swaps the average pool
for its faster equivalent and ``none`` is never computed (``MixedOp``'s ``zeros``). All cells share one (6, ops) weight
matrix (group ``cell``); PC-DARTS options as in ``families.darts.supernet``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from archspace.errors import UsageError
from archspace.families.base import positive_option
from archspace.families.nb201.modules import macro_layers, make_head, make_op, make_stem
from archspace.families.nb201.table import EDGES, INCOMING, NUM_EDGES, OPS
from archspace.families.supernet import (
    MixedOp,
    Mixture,
    fast_pooling,
    node_softmax,
    op_subset,
    strip_affine,
)

GROUPS = ("cell",)


@dataclass(frozen=True)
class NB201SearchConfig:
    """Shape of the NB201 search network (the benchmark's is C = 16, N = 5)."""

    channels: int = 16
    cells_per_stage: int = 5
    ops: tuple[str, ...] = OPS
    partial_channels: int = 1
    edge_norm: bool = False
    num_classes: int = 10
    in_channels: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", op_subset(self.ops, OPS))
        for name in ("channels", "cells_per_stage", "partial_channels", "num_classes", "in_channels"):
            positive_option(getattr(self, name), name)
        if self.channels % self.partial_channels:
            raise UsageError(f"channels ({self.channels}) must be a multiple of partial_channels "
                             f"({self.partial_channels})")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ops": list(self.ops)}


class NB201SearchCell(nn.Module):
    """Node j = sum over its incoming edges of a mixed op of the previous node."""

    def __init__(self, config: NB201SearchConfig, channels: int) -> None:
        super().__init__()
        width = channels // config.partial_channels
        self.edges = nn.ModuleList(
            MixedOp([fast_pooling(strip_affine(make_op(op, width))) for op in config.ops], config.partial_channels,
                    zeros=[k for k, op in enumerate(config.ops) if op == "none"])
            for _ in range(NUM_EDGES))

    def forward(self, x: torch.Tensor, weights: torch.Tensor, index: list,
                edge_weights: torch.Tensor | None) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total = None
            for edge, source in INCOMING[target]:
                out = self.edges[edge](nodes[source], weights[edge], index[edge])
                if edge_weights is not None:
                    out = edge_weights[edge] * out
                total = out if total is None else total + out
            nodes.append(total)
        return nodes[3]


class NB201SearchNetwork(nn.Module):
    """The NB201 supernet; ``forward(x, mixture)`` with ``mixture.weights = {"cell": (6, O)}``."""

    def __init__(self, config: NB201SearchConfig) -> None:
        super().__init__()
        self.config = config
        self.op_names = config.ops
        self.op_groups = GROUPS
        self.stem = make_stem(config.in_channels, config.channels)
        self.layers = nn.ModuleList(macro_layers(config.channels, config.cells_per_stage,
                                                 lambda width: NB201SearchCell(config, width)))
        self.lastact, self.pool, self.classifier = make_head(config.channels, config.num_classes)
        self.incoming = [[e for e, _ in INCOMING[t]] for t in (1, 2, 3)]

    def arch_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {"cell": (len(EDGES), len(self.op_names))}
        if self.config.edge_norm:
            shapes["cell_beta"] = (len(EDGES),)
        return shapes

    def edge_weights(self, betas: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor | None]:
        if not self.config.edge_norm or betas is None:
            return {"cell": None}
        return {"cell": node_softmax(betas["cell_beta"], self.incoming)}

    def forward(self, x: torch.Tensor, mixture: Mixture) -> torch.Tensor:
        weights, index = mixture.weights["cell"], mixture.edge_index("cell")
        edges = self.edge_weights(mixture.betas)["cell"]
        out = self.stem(x)
        for layer in self.layers:
            out = layer(out, weights, index, edges) if isinstance(layer, NB201SearchCell) else layer(out)
        return self.classifier(torch.flatten(self.pool(self.lastact(out)), 1))


__all__ = ["GROUPS", "NB201SearchCell", "NB201SearchConfig", "NB201SearchNetwork"]
