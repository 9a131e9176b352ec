"""The differentiable attention supergraph (thesis section 4.4.2, Figure 4.2).

``levels`` x ``nodes`` attention ops, each of a fixed (type, dimension) taken in turn from
``node_kinds``. Level-1 nodes read the cell input f0; a node of a later level reads the
softmax-weighted sum of the previous level's outputs (eq. 4.6), and a sink takes the
softmax-weighted sum of the last level; a zero-initialised 1x1x1 projection maps it back to C and
f0 is added, as in a cell. The connection logits are learned jointly with the weights.

Derivation (``derive``): from the sink keep the ``keep`` strongest last-level nodes, for each kept
node its ``keep`` strongest inputs, level by level down to level 1; the kept nodes, in level
order, become the ops of an ``AttentionCell`` reading the kept inputs (level-1 ops read f0). The
derived cell concatenates all its ops (the cell format of ``AttentionCell``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from archspace.errors import UsageError
from archspace.families.attention.modules import AttentionNetwork, AttentionOpModule, pointwise
from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp
from archspace.families.attention.table import (
    DIMENSIONS,
    INNER_DIVISORS,
    OP_DIVISORS,
    TYPES,
    op_width,
)

NODE_ACTIVATION = {"dot": "softmax", "map": "sigmoid"}


@dataclass(frozen=True)
class SupergraphConfig:
    """Shape of the supergraph and the derivation rule (``keep`` connections per node)."""

    levels: int = 2
    nodes: int = 3
    node_kinds: tuple[tuple[str, str], ...] = (("dot", "spatial"), ("map", "spatial"))
    op_divisor: int = 2
    inner_divisor: int = 4
    keep: int = 2

    def __post_init__(self) -> None:
        for name, value, high in (("levels", self.levels, 8), ("nodes", self.nodes, 8)):
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                raise UsageError(f"supergraph {name} must be an integer in [1, {high}], got {value!r}")
        if not self.node_kinds:
            raise UsageError("supergraph node_kinds must list at least one (type, dimension)")
        for kind in self.node_kinds:
            if len(kind) != 2 or kind[0] not in TYPES or kind[1] not in DIMENSIONS:
                raise UsageError(f"supergraph node kind {kind!r}: expected (type in {list(TYPES)}, "
                                 f"dimension in {list(DIMENSIONS)})")
        if self.op_divisor not in OP_DIVISORS or self.inner_divisor not in INNER_DIVISORS:
            raise UsageError(f"op_divisor must be in {list(OP_DIVISORS)} and inner_divisor in {list(INNER_DIVISORS)}")
        if isinstance(self.keep, bool) or not isinstance(self.keep, int) or not 1 <= self.keep <= self.nodes:
            raise UsageError(f"keep must be an integer in [1, nodes={self.nodes}], got {self.keep!r}")

    def node_op(self, level: int, node: int) -> AttentionOp:
        kind, dimension = self.node_kinds[(level * self.nodes + node) % len(self.node_kinds)]
        return AttentionOp(dimension, kind, NODE_ACTIVATION[kind], False, (0,))

    @property
    def temporal(self) -> bool:
        return any(dimension != "spatial" for _, dimension in self.node_kinds)


class SupergraphCell(nn.Module):
    """All nodes of the supergraph at one insertion point, mixed by learned connection logits."""

    def __init__(self, config: SupergraphConfig, channels: int) -> None:
        super().__init__()
        self.config = config
        shell = AttentionCell((config.node_op(0, 0),), config.op_divisor, config.inner_divisor)
        c_op = op_width(channels, config.op_divisor)
        self.levels = nn.ModuleList(
            nn.ModuleList(AttentionOpModule(shell, config.node_op(level, node), channels if level == 0 else c_op,
                                            channels, weighted_inputs=False) for node in range(config.nodes))
            for level in range(config.levels))
        # connections[l - 1][j, i]: logit of node i of level l - 1 feeding node j of level l.
        self.connections = nn.ParameterList(nn.Parameter(torch.zeros(config.nodes, config.nodes))
                                            for _ in range(config.levels - 1))
        self.sink = nn.Parameter(torch.zeros(config.nodes))
        self.output = pointwise(c_op, channels)
        nn.init.zeros_(self.output.weight)

    def forward(self, f0: torch.Tensor) -> torch.Tensor:
        outputs = [node(f0, f0) for node in self.levels[0]]
        for level, logits in zip(self.levels[1:], self.connections):
            weights = torch.softmax(logits, dim=1)
            stacked = torch.stack(outputs)  # (nodes, N, C_op, T, H, W)
            outputs = [node(torch.tensordot(weights[j], stacked, dims=1), f0) for j, node in enumerate(level)]
        mixed = torch.tensordot(torch.softmax(self.sink, dim=0), torch.stack(outputs), dims=1)
        return f0 + self.output(mixed)

    def derive(self) -> AttentionCell:
        """The cell of the strongest connections (the rule in the module docstring)."""
        config = self.config
        kept: list[list[int]] = [[] for _ in range(config.levels)]
        kept[-1] = _top(self.sink.detach(), config.keep)
        inputs: dict[tuple[int, int], list[int]] = {}
        for level in range(config.levels - 1, 0, -1):
            logits = self.connections[level - 1].detach()
            for node in kept[level]:
                inputs[(level, node)] = _top(logits[node], config.keep)
            kept[level - 1] = sorted({i for node in kept[level] for i in inputs[(level, node)]})
        index: dict[tuple[int, int], int] = {}
        ops: list[AttentionOp] = []
        for level in range(config.levels):
            for node in kept[level]:
                base = config.node_op(level, node)
                reads = (0,) if level == 0 else tuple(sorted(index[(level - 1, i)] for i in inputs[(level, node)]))
                ops.append(AttentionOp(base.dimension, base.type, base.activation, False, reads))
                index[(level, node)] = len(ops)
        return AttentionCell(tuple(ops), config.op_divisor, config.inner_divisor)


def _top(logits: torch.Tensor, k: int) -> list[int]:
    """Indices of the ``k`` largest logits, ties broken by the lower index, ascending."""
    order = sorted(range(len(logits)), key=lambda i: (-float(logits[i]), i))
    return sorted(order[:k])


class SupergraphNetwork(AttentionNetwork):
    """A backbone with a supergraph cell after each stage in ``positions``."""

    def __init__(self, backbone_arch: AttentionNet, backbone: nn.Module, config: SupergraphConfig,
                 positions: tuple[int, ...]) -> None:
        super().__init__(backbone_arch, backbone)
        widths = [stage.width for stage in backbone_arch.backbone.stages]  # type: ignore[attr-defined]
        self.inserts = nn.ModuleDict({str(p): SupergraphCell(config, widths[p]) for p in positions})

    def connection_parameters(self) -> list[nn.Parameter]:
        return [p for name, p in self.named_parameters() if name.endswith(".sink") or ".connections." in name]

    def weight_parameters(self) -> list[nn.Parameter]:
        ids = {id(p) for p in self.connection_parameters()}
        return [p for p in self.parameters() if id(p) not in ids]

    def derive(self) -> AttentionCell:
        """The cell derived from the first insertion point's supergraph (all share one config)."""
        return next(iter(self.inserts.values())).derive()  # type: ignore[operator]
