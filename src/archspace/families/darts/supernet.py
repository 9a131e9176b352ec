"""The DARTS mixed-op search network (the reference ``model_search.Network``), torch.

Every cell has ``nodes`` intermediate nodes; node j sums one ``MixedOp`` per earlier state
(``table.edge_inputs``: 14 edges for 4 nodes), each holding every op of the mask built by
``modules.make_op`` with affine-free BatchNorm (pooling ops followed by an affine-free BN, as in
the reference; average pools as ``fast_pooling``'s equivalent, ``none`` never computed).
Normal cells share one (edges, ops) weight matrix (group ``normal``), reduction
cells another (``reduce``). PC-DARTS: ``partial_channels`` K > 1 feeds 1/K of the channels to the
ops; ``edge_norm`` adds per-edge parameters ``normal_beta`` / ``reduce_beta`` normalized over
each node's incoming edges. The macro network is the family's: stem to 3C, reductions at
``layers // 3`` and ``2 * layers // 3``, global pool, classifier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from archspace.errors import UsageError
from archspace.families.base import positive_option
from archspace.families.darts.modules import build_steps, make_op
from archspace.families.darts.table import (
    SEARCH_NODES,
    SEARCH_OPS,
    CellPlan,
    edge_inputs,
    macro_plan,
    preprocess_steps,
    stem_steps,
    stride_of,
)
from archspace.families.supernet import MixedOp, Mixture, fast_pooling, node_softmax, op_subset

GROUPS = ("normal", "reduce")


@dataclass(frozen=True)
class DartsSearchConfig:
    """Shape of a DARTS search network (reference: C = 16, 8 layers, 4 nodes, all 8 ops)."""

    channels: int = 16
    layers: int = 8
    nodes: int = SEARCH_NODES
    ops: tuple[str, ...] = SEARCH_OPS
    partial_channels: int = 1
    edge_norm: bool = False
    num_classes: int = 10
    in_channels: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "ops", op_subset(self.ops, SEARCH_OPS))
        for name in ("channels", "layers", "nodes", "partial_channels", "num_classes", "in_channels"):
            positive_option(getattr(self, name), name)
        if self.channels % (2 * self.partial_channels):
            raise UsageError(f"channels ({self.channels}) must be a multiple of 2 x partial_channels "
                             f"({self.partial_channels})")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ops": list(self.ops)}

    @property
    def num_edges(self) -> int:
        return len(edge_inputs(self.nodes))


def _search_op(name: str, channels: int, stride: int) -> nn.Module:
    op = fast_pooling(make_op(name, channels, stride, affine=False))
    if "pool" in name:
        op = nn.Sequential(op, nn.BatchNorm2d(channels, affine=False))
    return op


class SearchCell(nn.Module):
    """Pre-processed inputs, ``nodes`` nodes each summing a mixed op per earlier state, concat."""

    def __init__(self, config: DartsSearchConfig, plan: CellPlan) -> None:
        super().__init__()
        self.nodes = config.nodes
        self.preprocess0 = build_steps(preprocess_steps(plan.c_prev_prev, plan.channels, plan.reduction_prev, False))
        self.preprocess1 = build_steps(preprocess_steps(plan.c_prev, plan.channels, False, False))
        width = plan.channels // config.partial_channels
        self.edges = nn.ModuleList(
            MixedOp([_search_op(op, width, stride_of(plan.reduction, source)) for op in config.ops],
                    config.partial_channels, stride_of(plan.reduction, source),
                    zeros=[k for k, op in enumerate(config.ops) if op == "none"])
            for _, source in edge_inputs(config.nodes))

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor, index: list,
                edge_weights: torch.Tensor | None) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        offset = 0
        for _ in range(self.nodes):
            total = None
            for i, h in enumerate(states):
                e = offset + i
                out = self.edges[e](h, weights[e], index[e])
                if edge_weights is not None:
                    out = edge_weights[e] * out
                total = out if total is None else total + out
            offset += len(states)
            states.append(total)
        return torch.cat(states[-self.nodes:], dim=1)


class DartsSearchNetwork(nn.Module):
    """The DARTS supernet; ``forward(x, mixture)`` with ``mixture.weights`` = {"normal": (E, O),
    "reduce": (E, O)} (see the module docstring)."""

    def __init__(self, config: DartsSearchConfig) -> None:
        super().__init__()
        self.config = config
        self.op_names = config.ops
        self.op_groups = GROUPS
        self.stem = build_steps(stem_steps(config.in_channels, config.channels))
        plans = macro_plan(config.channels, config.layers, config.nodes, config.nodes)
        self.reduction = tuple(p.reduction for p in plans)
        self.cells = nn.ModuleList(SearchCell(config, p) for p in plans)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(plans[-1].c_out, config.num_classes)
        self.incoming = [list(range(sum(j + 2 for j in range(n)), sum(j + 2 for j in range(n + 1))))
                         for n in range(config.nodes)]

    def arch_shapes(self) -> dict[str, tuple[int, ...]]:
        """Architecture parameters this network reads: op weights per group, betas with edge_norm."""
        e, o = self.config.num_edges, len(self.op_names)
        shapes: dict[str, tuple[int, ...]] = {g: (e, o) for g in GROUPS}
        if self.config.edge_norm:
            shapes.update({f"{g}_beta": (e,) for g in GROUPS})
        return shapes

    def edge_weights(self, betas: dict[str, torch.Tensor] | None) -> dict[str, torch.Tensor | None]:
        """Normalized edge weights per group (None without edge normalization)."""
        if not self.config.edge_norm or betas is None:
            return {g: None for g in GROUPS}
        return {g: node_softmax(betas[f"{g}_beta"], self.incoming) for g in GROUPS}

    def forward(self, x: torch.Tensor, mixture: Mixture) -> torch.Tensor:
        edges = self.edge_weights(mixture.betas)
        index = {g: mixture.edge_index(g) for g in GROUPS}
        s0 = s1 = self.stem(x)
        for cell, reduction in zip(self.cells, self.reduction, strict=True):
            g = "reduce" if reduction else "normal"
            s0, s1 = s1, cell(s0, s1, mixture.weights[g], index[g], edges[g])
        return self.classifier(torch.flatten(self.global_pooling(s1), 1))


__all__ = ["GROUPS", "DartsSearchConfig", "DartsSearchNetwork", "SearchCell"]
