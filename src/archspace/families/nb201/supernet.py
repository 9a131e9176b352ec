"""The NAS-Bench-201 single-path supernet: every candidate op on every edge, one path per forward.

``NB201Supernet(config)`` holds, for each of the 3N cells of the benchmark macro network (N cells
per stage, C channels, two residual reductions), one module per *allowed* op on each of the 6
edges (op masking = a subset of ``OPS``). ``supernet(x, path)`` runs a single path:

* ``path`` is a cell (``NB201Cell``, 6 op names or 6 op indices into ``OPS``) used by every cell
  (topology sharing), or a ``(3N, 6)`` array of op indices, one row per cell (sharing off).
* Nodes that cannot reach the cell output and ``none`` edges are skipped: they do not change the
  output (a ``none`` edge adds zero; a dead node is never read), so a sub-network computes exactly
  what the stand-alone ``NB201Network`` of the same cell computes.

Linear transformers (ScarletNAS's "linearly equivalent" transformation): with
``linear_transformers=("skip_connect", "avg_pool_3x3")`` those ops are followed by a learnable
bias-free 1x1 convolution (no BN, no ReLU) while the supernet trains; evaluation removes them
(``transformers=False``, the default outside training mode), so evaluated sub-networks are
plain NB201 networks. ``extract(cell)`` copies a sub-network's weights into a stand-alone
``NB201Network``. Op modules and the skeleton come from ``archspace.families.nb201.modules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.nb201.modules import (
    NB201Network,
    macro_layers,
    make_head,
    make_op,
    make_stem,
)
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import INCOMING, NUM_EDGES, OP_INDEX, OPS

PRESETS: dict[str, tuple[int, int]] = {"small": (2, 32), "medium": (4, 64)}
TRANSFORMABLE_OPS: tuple[str, ...] = ("skip_connect", "avg_pool_3x3")


@dataclass(frozen=True)
class SupernetConfig:
    """Shape of a supernet.

    cells_per_stage (N) and channels (C): macro size (presets: ``small`` = 2/32, ``medium`` = 4/64).
    ops: the allowed ops (op masking); stored in canonical ``OPS`` order.
    linear_transformers: ops among ``skip_connect`` / ``avg_pool_3x3`` that get a 1x1 conv during
        supernet training (only if the op is allowed).
    num_classes / in_channels: of the dataset (Fashion-MNIST: 10 / 1).
    """

    cells_per_stage: int = 2
    channels: int = 32
    ops: tuple[str, ...] = OPS
    linear_transformers: tuple[str, ...] = ()
    num_classes: int = 10
    in_channels: int = 3

    def __post_init__(self) -> None:
        ops = tuple(self.ops)
        unknown = [op for op in ops if op not in OP_INDEX]
        if unknown or not ops:
            raise UsageError(f"supernet ops must be a non-empty subset of {list(OPS)}, got {list(ops)}")
        object.__setattr__(self, "ops", tuple(op for op in OPS if op in ops))
        bad = [op for op in self.linear_transformers if op not in TRANSFORMABLE_OPS]
        if bad:
            raise UsageError(f"linear transformers apply to {list(TRANSFORMABLE_OPS)} only, got {bad}")
        object.__setattr__(self, "linear_transformers",
                           tuple(op for op in TRANSFORMABLE_OPS if op in self.linear_transformers))
        for name in ("cells_per_stage", "channels", "num_classes", "in_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise UsageError(f"supernet {name} must be an integer >= 1, got {value!r}")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> SupernetConfig:
        """``small`` (N=2, C=32) or ``medium`` (N=4, C=64), with field overrides."""
        if name not in PRESETS:
            raise UsageError(f"unknown supernet preset {name!r}; known: {sorted(PRESETS)}")
        n, c = PRESETS[name]
        return cls(**{"cells_per_stage": n, "channels": c, **overrides})

    @property
    def num_cells(self) -> int:
        return 3 * self.cells_per_stage

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ops"], data["linear_transformers"] = list(self.ops), list(self.linear_transformers)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SupernetConfig:
        known = {"cells_per_stage", "channels", "ops", "linear_transformers", "num_classes", "in_channels"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown supernet config field(s) {unknown}; known: {sorted(known)}")
        data = dict(data)
        for key in ("ops", "linear_transformers"):
            if key in data:
                data[key] = tuple(data[key])
        return cls(**data)

    def with_data(self, num_classes: int, in_channels: int) -> SupernetConfig:
        return replace(self, num_classes=int(num_classes), in_channels=int(in_channels))


class LinearTransformer(nn.Module):
    """A learnable bias-free 1x1 conv (no BN, no ReLU), identity-initialized, applied after an op."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 1, bias=False)
        with torch.no_grad():
            self.conv.weight.copy_(torch.eye(channels)[:, :, None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class MixedEdge(nn.Module):
    """All allowed ops of one edge; ``forward(x, op_index)`` runs one of them."""

    def __init__(self, ops: Sequence[str], channels: int, transformed: Sequence[str]) -> None:
        super().__init__()
        self.candidates = nn.ModuleDict({op: make_op(op, channels) for op in ops if op != "none"})
        self.transformers = nn.ModuleDict({op: LinearTransformer(channels) for op in transformed if op in ops})

    def forward(self, x: torch.Tensor, op: str, transformers: bool) -> torch.Tensor:
        out = self.candidates[op](x)
        if transformers and op in self.transformers:
            out = self.transformers[op](out)
        return out


class SupernetCell(nn.Module):
    """One cell position: a ``MixedEdge`` on each of the 6 edges."""

    def __init__(self, config: SupernetConfig, channels: int) -> None:
        super().__init__()
        self.edges = nn.ModuleList(
            MixedEdge(config.ops, channels, config.linear_transformers) for _ in range(NUM_EDGES)
        )

    def forward(self, x: torch.Tensor, ops: Sequence[str], transformers: bool) -> torch.Tensor:
        live = live_nodes(ops)
        nodes: list[torch.Tensor | None] = [x, None, None, None]
        for target in (1, 2, 3):
            if target not in live:
                continue
            total: torch.Tensor | None = None
            for edge, source in INCOMING[target]:
                if ops[edge] == "none":
                    continue
                out = self.edges[edge](nodes[source], ops[edge], transformers)
                total = out if total is None else total + out
            # A node with only ``none`` inputs is zero, as in the stand-alone cell (a conv edge
            # reading it still adds its BatchNorm shift).
            nodes[target] = total if total is not None else x.mul(0.0)
        return nodes[3]


def live_nodes(ops: Sequence[str]) -> set[int]:
    """Nodes (1..3) that feed node 3 through non-``none`` edges, node 3 included."""
    live = {3}
    for target in (3, 2):
        if target not in live:
            continue
        for edge, source in INCOMING[target]:
            if ops[edge] != "none" and source > 0:
                live.add(source)
    return live


class NB201Supernet(nn.Module):
    """The weight-sharing supernet over the NB201 cell space (see the module docstring)."""

    def __init__(self, config: SupernetConfig) -> None:
        super().__init__()
        self.config = config
        self.stem = make_stem(config.in_channels, config.channels)
        self.layers = nn.ModuleList(macro_layers(config.channels, config.cells_per_stage,
                                                 lambda width: SupernetCell(config, width)))
        self.lastact, self.pool, self.classifier = make_head(config.channels, config.num_classes)

    # --- paths -------------------------------------------------------------------------------
    def resolve_path(self, path: Any) -> list[tuple[str, ...]]:
        """Per-cell op names from a cell / 6 ops / (3N, 6) op-index array; checks the op mask."""
        n_cells = self.config.num_cells
        if isinstance(path, NB201Cell):
            rows = [path.ops] * n_cells
        else:
            array = np.asarray(path)
            if array.dtype.kind in "iu":
                if array.shape in ((NUM_EDGES,), (1, NUM_EDGES)):
                    array = np.broadcast_to(array, (n_cells, NUM_EDGES))
                if array.shape != (n_cells, NUM_EDGES):
                    raise UsageError(f"a path is 6 op indices, a (1, 6) or a ({n_cells}, 6) array; got shape {array.shape}")
                if array.min() < 0 or array.max() >= len(OPS):
                    raise InvalidArchitecture("path", f"op indices must be in [0, {len(OPS) - 1}]")
                rows = [tuple(OPS[i] for i in row) for row in array.tolist()]
            else:
                rows = [NB201Cell(tuple(path)).ops] * n_cells
        allowed = set(self.config.ops)
        for row in rows:
            for edge, op in enumerate(row):
                if op not in allowed:
                    raise InvalidArchitecture(
                        f"ops[{edge}]", f"op {op!r} is masked in this supernet; allowed: {list(self.config.ops)}"
                    )
        return rows

    def forward(self, x: torch.Tensor, path: Any, transformers: bool | None = None) -> torch.Tensor:
        """Logits of the single-path sub-network ``path``; linear transformers default to ``self.training``."""
        rows = self.resolve_path(path)
        use = self.training if transformers is None else bool(transformers)
        out = self.stem(x)
        cell = 0
        for layer in self.layers:
            if isinstance(layer, SupernetCell):
                out = layer(out, rows[cell], use)
                cell += 1
            else:
                out = layer(out)
        out = self.lastact(out)
        return self.classifier(torch.flatten(self.pool(out), 1))

    # --- sub-networks ------------------------------------------------------------------------
    def subnet(self, cell: NB201Cell | Sequence[str]) -> SubNetwork:
        """A module view of one sub-network (shares this supernet's weights; no transformers)."""
        return SubNetwork(self, cell)

    def extract(self, cell: NB201Cell | Sequence[str]) -> NB201Network:
        """A stand-alone ``NB201Network`` of ``cell`` with this supernet's weights copied in.

        Linear transformers are dropped (the evaluated architecture is the plain cell); ops on dead
        edges, which the supernet never runs, keep their copied (possibly untrained) weights.
        """
        cell = cell if isinstance(cell, NB201Cell) else NB201Cell(tuple(cell))
        self.resolve_path(cell)
        cfg = self.config
        net = NB201Network(cell.ops, channels=cfg.channels, cells_per_stage=cfg.cells_per_stage,
                           num_classes=cfg.num_classes, in_channels=cfg.in_channels)
        net.stem.load_state_dict(self.stem.state_dict())
        for mine, theirs in zip(self.layers, net.cells, strict=True):
            if isinstance(mine, SupernetCell):
                for edge, op in enumerate(cell.ops):
                    if op in mine.edges[edge].candidates:
                        theirs.edges[edge].load_state_dict(mine.edges[edge].candidates[op].state_dict())
            else:
                theirs.load_state_dict(mine.state_dict())
        net.lastact.load_state_dict(self.lastact.state_dict())
        net.classifier.load_state_dict(self.classifier.state_dict())
        return net

    def batchnorms(self) -> list[nn.BatchNorm2d]:
        return [m for m in self.modules() if isinstance(m, nn.BatchNorm2d)]

    def num_parameters(self, transformers: bool = True) -> int:
        return sum(p.numel() for name, p in self.named_parameters() if transformers or ".transformers." not in name)


class SubNetwork(nn.Module):
    """``forward(x)`` = the supernet's forward on one fixed cell, without linear transformers."""

    def __init__(self, supernet: NB201Supernet, cell: NB201Cell | Sequence[str]) -> None:
        super().__init__()
        self.supernet = supernet
        self.cell = cell if isinstance(cell, NB201Cell) else NB201Cell(tuple(cell))
        supernet.resolve_path(self.cell)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.supernet(x, self.cell, transformers=False)


__all__ = [
    "PRESETS",
    "TRANSFORMABLE_OPS",
    "LinearTransformer",
    "MixedEdge",
    "NB201Supernet",
    "SubNetwork",
    "SupernetCell",
    "SupernetConfig",
    "live_nodes",
]
