"""The differentiable attention supergraph (thesis section 4.4.2, Figure 4.2).

``levels`` x ``nodes`` attention ops, each of a fixed (type, dimension) taken in turn from
``node_kinds``. Level-1 nodes read the cell input f0; a node of a later level reads the
softmax-weighted sum of the previous level's outputs (eq. 4.6), and a sink takes the
softmax-weighted sum of the last level; a 1x1x1 projection maps it back to C and f0 is added, as
in a cell. Temporal and spatiotemporal node kinds need video (``SupergraphNetwork`` refuses them
on an image backbone).

Output projection: unlike an inserted cell (zero-initialised, so insertion starts as the identity),
the supergraph's projection starts at ``output_scale`` (default 0.1) times PyTorch's default conv
init. A supergraph is trained from scratch together with its backbone, so nothing needs it to
start as the identity, and with a zero projection no gradient reaches the connection logits at
step one (d loss / d mixed = W_out^T d loss / d y = 0) and only a trickle for many steps after:
the committed session-2 runs ended with every connection weight at 1/3. ``output_scale=0`` gives
the identity start back (a supergraph inserted into a trained backbone).

Training (``ConnectionOptimizer``): the connection logits are learned jointly with the weights
(single-level, on the same training batches) but by their own optimizer, Adam (lr 0.03, betas
(0.5, 0.999), no weight decay; DARTS's architecture optimizer with a learning rate sized for the
tens of steps a CPU run has). It is stepped inside the backward pass of every training batch, from
a post-accumulate-grad hook, and then drops the logits' gradient, so the weights' optimizer (the
trainer's SGD with weight decay and gradient clipping) never sees them: weight decay cannot pull
them back to 0 and clipping does not shrink their step.

Derivation (``derive``): from the sink keep the ``keep`` strongest last-level nodes, for each kept
node its ``keep`` strongest inputs, level by level down to level 1 (ties: the lower index); the
kept nodes, in level order, become the ops of an ``AttentionCell`` reading the kept inputs
(level-1 ops read f0). The derived cell concatenates all its ops (the cell format of
``AttentionCell``). Softmax is monotone, so the strongest logits are the largest weights.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from archspace.errors import UsageError
from archspace.families.attention.modules import AttentionNetwork, AttentionOpModule, pointwise
from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp
from archspace.families.attention.table import (
    DIMENSIONS,
    INNER_DIVISORS,
    MAX_OPS,
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
    output_scale: float = 0.1

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
        if isinstance(self.output_scale, bool) or not isinstance(self.output_scale, (int, float)) or not (
                0.0 <= self.output_scale <= 1.0):
            raise UsageError(f"supergraph output_scale must be a number in [0, 1], got {self.output_scale!r}")
        if self.max_derived_ops > MAX_OPS:
            raise UsageError(f"a {self.levels} x {self.nodes} supergraph keeping {self.keep} derives cells of up to "
                             f"{self.max_derived_ops} ops; a cell has at most {MAX_OPS} (fewer levels, nodes or keep)")

    @property
    def max_derived_ops(self) -> int:
        """The most ops the derivation can keep: ``keep`` last-level nodes, then at most ``keep``
        inputs each, level by level (never more than ``nodes`` a level)."""
        total, kept = 0, self.keep
        for _ in range(self.levels):
            total += kept
            kept = min(self.nodes, kept * self.keep)
        return total

    def node_op(self, level: int, node: int) -> AttentionOp:
        kind, dimension = self.node_kinds[(level * self.nodes + node) % len(self.node_kinds)]
        return AttentionOp(dimension, kind, NODE_ACTIVATION[kind], False, (0,))

    @property
    def temporal(self) -> bool:
        return any(dimension != "spatial" for _, dimension in self.node_kinds)

    def check_frames(self, frames: int) -> None:
        """Refuse temporal or spatiotemporal node kinds on images (``frames == 1``), in one line."""
        if frames == 1 and self.temporal:
            kinds = ", ".join(f"({kind}, {dim})" for kind, dim in self.node_kinds if dim != "spatial")
            raise UsageError(f"supergraph node kinds {kinds} attend over time, but images have T = 1; "
                             "use spatial node kinds, or clips (--frames > 1)")


class SupergraphCell(nn.Module):
    """All nodes of the supergraph at one insertion point, mixed by learned connection logits."""

    def __init__(self, config: SupergraphConfig, channels: int, shared: SupergraphCell | None = None) -> None:
        """``shared``: another cell whose connection logits this one uses (one set per network)."""
        super().__init__()
        self.config = config
        shell = AttentionCell((config.node_op(0, 0),), config.op_divisor, config.inner_divisor)
        c_op = op_width(channels, config.op_divisor)
        self.levels = nn.ModuleList(
            nn.ModuleList(AttentionOpModule(shell, config.node_op(level, node), channels if level == 0 else c_op,
                                            channels, weighted_inputs=False) for node in range(config.nodes))
            for level in range(config.levels))
        # connections[l - 1][j, i]: logit of node i of level l - 1 feeding node j of level l.
        if shared is None:
            self.connections = nn.ParameterList(nn.Parameter(torch.zeros(config.nodes, config.nodes))
                                                for _ in range(config.levels - 1))
            self.sink = nn.Parameter(torch.zeros(config.nodes))
        else:
            self.connections, self.sink = shared.connections, shared.sink
        self.output = pointwise(c_op, channels)
        with torch.no_grad():
            self.output.weight.mul_(float(config.output_scale))  # 0: the identity start (module docstring)

    def forward(self, f0: torch.Tensor) -> torch.Tensor:
        outputs = [node(f0, f0) for node in self.levels[0]]
        for level, logits in zip(self.levels[1:], self.connections):
            weights = torch.softmax(logits, dim=1)
            stacked = torch.stack(outputs)  # (nodes, N, C_op, T, H, W)
            outputs = [node(torch.tensordot(weights[j], stacked, dims=1), f0) for j, node in enumerate(level)]
        mixed = torch.tensordot(torch.softmax(self.sink, dim=0), torch.stack(outputs), dims=1)
        return f0 + self.output(mixed)

    def kept_graph(self) -> tuple[list[list[int]], dict[tuple[int, int], list[int]]]:
        """The derivation rule's choice: the kept nodes of each level and, for each kept node of
        level >= 1 (0-based), the previous-level nodes it keeps reading (module docstring)."""
        config = self.config
        kept: list[list[int]] = [[] for _ in range(config.levels)]
        kept[-1] = _top(self.sink.detach(), config.keep)
        inputs: dict[tuple[int, int], list[int]] = {}
        for level in range(config.levels - 1, 0, -1):
            logits = self.connections[level - 1].detach()
            for node in kept[level]:
                inputs[(level, node)] = _top(logits[node], config.keep)
            kept[level - 1] = sorted({i for node in kept[level] for i in inputs[(level, node)]})
        return kept, inputs

    def derive(self) -> AttentionCell:
        """The cell of the strongest connections (the rule in the module docstring)."""
        config = self.config
        kept, inputs = self.kept_graph()
        index: dict[tuple[int, int], int] = {}
        ops: list[AttentionOp] = []
        for level in range(config.levels):
            for node in kept[level]:
                base = config.node_op(level, node)
                reads = (0,) if level == 0 else tuple(sorted(index[(level - 1, i)] for i in inputs[(level, node)]))
                ops.append(AttentionOp(base.dimension, base.type, base.activation, False, reads))
                index[(level, node)] = len(ops)
        return AttentionCell(tuple(ops), config.op_divisor, config.inner_divisor)

    def connection_weights(self) -> dict[str, list]:
        """The softmax weights (JSON lists): ``sink`` and, per level >= 2, rows = receiving nodes."""
        return {"sink": torch.softmax(self.sink.detach(), 0).tolist(),
                "levels": [torch.softmax(c.detach(), 1).tolist() for c in self.connections]}


def _top(logits: torch.Tensor, k: int) -> list[int]:
    """Indices of the ``k`` largest logits, ties broken by the lower index, ascending."""
    order = sorted(range(len(logits)), key=lambda i: (-float(logits[i]), i))
    return sorted(order[:k])


class SupergraphNetwork(AttentionNetwork):
    """A backbone with a supergraph cell after each stage in ``positions``.

    The cells share one set of connection logits (as DARTS shares alpha across cells of a type):
    one derived cell is inserted at every position, so one architecture is learned for all of them.
    """

    def __init__(self, backbone_arch: AttentionNet, backbone: nn.Module, config: SupergraphConfig,
                 positions: tuple[int, ...]) -> None:
        super().__init__(backbone_arch, backbone)
        if self.images:
            config.check_frames(1)
        widths = [stage.width for stage in backbone_arch.backbone.stages]  # type: ignore[attr-defined]
        cells: dict[str, SupergraphCell] = {}
        for position in positions:
            cells[str(position)] = SupergraphCell(config, widths[position], next(iter(cells.values()), None))
        self.inserts = nn.ModuleDict(cells)

    def connection_parameters(self) -> list[nn.Parameter]:
        """The shared connection logits (each tensor once): the levels' matrices, then the sink."""
        first = self.first_cell()
        return [*first.connections, first.sink]

    def first_cell(self) -> SupergraphCell:
        return next(iter(self.inserts.values()))  # type: ignore[return-value]

    def weight_parameters(self) -> list[nn.Parameter]:
        ids = {id(p) for p in self.connection_parameters()}
        return [p for p in self.parameters() if id(p) not in ids]

    def derive(self) -> AttentionCell:
        """The cell of the shared connection logits (``SupergraphCell.derive``)."""
        return self.first_cell().derive()

    def connection_weights(self) -> dict[str, list]:
        """The shared softmax weights (``SupergraphCell.connection_weights``)."""
        return self.first_cell().connection_weights()


def uniform_distance(weights: dict[str, list]) -> float:
    """The largest |w - 1/n| over the softmax weights of ``connection_weights`` (0: uniform)."""
    rows = [weights["sink"], *(row for level in weights["levels"] for row in level)]
    return max(abs(w - 1.0 / len(row)) for row in rows for w in row)


@dataclass(frozen=True)
class ConnectionRecipe:
    """The connection logits' own optimizer: Adam with DARTS's betas, no weight decay by default."""

    lr: float = 0.03
    betas: tuple[float, float] = (0.5, 0.999)
    weight_decay: float = 0.0

    def __post_init__(self) -> None:
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not 0 < self.lr <= 1:
            raise UsageError(f"connection lr must be a number in (0, 1], got {self.lr!r}")
        if len(self.betas) != 2 or not all(0 <= b < 1 for b in self.betas):
            raise UsageError(f"connection betas must be two numbers in [0, 1), got {list(self.betas)}")
        if not 0 <= self.weight_decay < 1:
            raise UsageError(f"connection weight_decay must be in [0, 1), got {self.weight_decay!r}")


class ConnectionOptimizer:
    """Adam on the connection logits, stepped in the backward pass of every training batch.

    Inside ``attached()``, each logit tensor's post-accumulate-grad hook runs its Adam step as soon
    as its gradient is complete and then sets ``.grad`` to None, so any other optimizer (the
    trainer's SGD over ``network.parameters()``) skips it: no weight decay, momentum or clipping
    from there. Backward of ``softmax`` reads its output, not the logits, so updating them in
    place during backward is safe. ``steps`` counts the batches that reached the logits.
    """

    def __init__(self, parameters: Sequence[nn.Parameter], recipe: ConnectionRecipe | None = None) -> None:
        self.recipe = recipe or ConnectionRecipe()
        self.parameters = list(parameters)
        if not self.parameters:
            raise UsageError("a connection optimizer needs at least one connection tensor")
        self.optimizers = [torch.optim.Adam([p], lr=self.recipe.lr, betas=self.recipe.betas,
                                            weight_decay=self.recipe.weight_decay) for p in self.parameters]
        self.steps = 0

    @contextlib.contextmanager
    def attached(self) -> Iterator[ConnectionOptimizer]:
        """Step the logits on every backward pass while the block runs."""
        handles = [p.register_post_accumulate_grad_hook(self._hook(i, optimizer))
                   for i, (p, optimizer) in enumerate(zip(self.parameters, self.optimizers))]
        try:
            yield self
        finally:
            for handle in handles:
                handle.remove()

    def _hook(self, index: int, optimizer: torch.optim.Optimizer):  # type: ignore[no-untyped-def]
        def step(parameter: torch.Tensor) -> None:
            optimizer.step()
            parameter.grad = None
            if index == 0:
                self.steps += 1
        return step
