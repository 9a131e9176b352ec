"""The one-shot search workflow: a config in, a recorded, resumable search out.

``OneShotConfig`` names the space (``nb201``, ``darts``, ``darts_s3``), the method (``darts``,
``darts2``, ``gdas``, ``na-darts``), PC-DARTS options (``partial_channels``, ``edge_norm``), DARTS-ES
(``recipe.es_k``), the NA options and the data; ``check_config`` rejects bad input with one
line naming the field before any data is loaded; ``run_search`` builds the search network,
runs ``bilevel.BilevelSearch`` and returns a JSON-ready summary with the per-epoch record
(alpha, derived architecture, parameter-free share, supernet accuracy, eigenvalue) and the
selected architecture. The CLI (``archspace oneshot search``) calls these two functions.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archspace.errors import InvalidArchitecture, UsageError
from archspace.oneshot.bilevel import SearchRecipe

SPACES = ("nb201", "darts", "darts_s3")


@dataclass(frozen=True)
class OneShotConfig:
    """One search: space, method and its options, network size, data, seed, recipe."""

    space: str = "nb201"
    method: str = "darts"
    channels: int = 16
    cells: int | None = None  # nb201: cells per stage (default 5); darts: layers (default 8)
    ops: tuple[str, ...] | None = None
    partial_channels: int = 1
    edge_norm: bool = False
    rule: str | None = None
    n_nbr: int = 10
    distance: int = 1
    neighbors: str = "additive"
    eps: float = 0.3
    aggregate: str = "mean"
    tau_max: float = 10.0
    tau_min: float = 0.1
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    val_size: int = 1000
    seed: int = 0
    recipe: SearchRecipe = field(default_factory=SearchRecipe)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["recipe"] = self.recipe.to_dict()
        data["ops"] = None if self.ops is None else list(self.ops)
        return data

    @property
    def label(self) -> str:
        """Short method label: darts, na-darts-es, na-pc-darts, ..."""
        base = self.method
        if self.partial_channels > 1 or self.edge_norm:
            base = base.replace("darts", "pc-darts", 1)
        if self.recipe.es_k > 0:
            base += "-es"
        return base


def make_method(config: OneShotConfig) -> Any:
    from archspace.oneshot.methods import Darts, Gdas, Neighborhood

    if config.method == "darts":
        return Darts(1)
    if config.method == "darts2":
        return Darts(2)
    if config.method == "gdas":
        return Gdas(config.tau_max, config.tau_min)
    if config.method == "na-darts":
        return Neighborhood(Darts(1), config.n_nbr, config.distance, config.neighbors, config.eps, config.aggregate)
    raise UsageError(f"method: unknown one-shot method {config.method!r}; known: darts, darts2, gdas, na-darts")


def check_config(config: OneShotConfig) -> dict[str, int]:
    """Every check that needs no data or torch work; returns the dataset's input shape."""
    from archspace.data.inputs import dataset_input
    from archspace.families.darts.cost import check_input
    from archspace.families.darts.table import SEARCH_OPS
    from archspace.families.nb201.table import OPS
    from archspace.oneshot.derive import RULES
    from archspace.spaces.darts import check_op_mask

    if config.space not in SPACES:
        raise UsageError(f"space: unknown one-shot space {config.space!r}; known: {list(SPACES)}")
    method = make_method(config)
    shape = dataset_input(config.dataset) if not config.dataset.endswith(".npz") else None
    for name in ("channels", "partial_channels", "n_nbr", "val_size"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
    if config.cells is not None and (not isinstance(config.cells, int) or config.cells < 1):
        raise UsageError(f"cells must be an integer >= 1, got {config.cells!r}")
    if config.rule is not None and config.rule not in RULES:
        raise UsageError(f"rule: unknown derivation rule {config.rule!r}; known: {list(RULES)}")
    if config.method == "gdas" and (config.partial_channels > 1 or config.edge_norm):
        raise UsageError("partial_channels / edge_norm: PC-DARTS options apply to softmax methods, not gdas")
    if config.space == "nb201":
        ops = tuple(config.ops or OPS)
        unknown = [op for op in ops if op not in OPS]
        if unknown:
            raise UsageError(f"ops: unknown NB201 op(s) {unknown}; known: {list(OPS)}")
        if not set(ops) & {"nor_conv_1x1", "nor_conv_3x3"}:
            raise UsageError(f"ops: the mask {list(ops)} has no parametric op")
        if config.channels % config.partial_channels:
            raise UsageError(f"partial_channels ({config.partial_channels}) must divide channels ({config.channels})")
    else:
        default = ("none", "skip_connect", "sep_conv_3x3") if config.space == "darts_s3" else SEARCH_OPS
        ops = check_op_mask(config.ops or default)
        if config.rule == "nb201":
            raise UsageError("rule: the DARTS space derives with the DARTS rule")
        if config.channels % (2 * config.partial_channels):
            raise UsageError(f"channels ({config.channels}) must be a multiple of 2 x partial_channels")
        if shape is not None:
            try:
                check_input(config.cells or 8, False, shape.resolution)
            except InvalidArchitecture as exc:
                raise UsageError(f"cells: {exc.detail}") from None
    if hasattr(method, "check_ops"):
        method.check_ops(ops)
    return {} if shape is None else {"resolution": shape.resolution, "in_channels": shape.channels,
                                     "num_classes": shape.classes}


def build_network(config: OneShotConfig, num_classes: int, in_channels: int) -> tuple[Any, Callable, str]:
    """The search network, its derivation function and the rule used."""
    from archspace.families.darts.table import SEARCH_OPS
    from archspace.families.nb201.table import OPS
    from archspace.oneshot.derive import derive_darts, derive_nb201

    if config.space == "nb201":
        from archspace.oneshot.nb201_net import NB201SearchConfig, NB201SearchNetwork

        net = NB201SearchNetwork(NB201SearchConfig(config.channels, config.cells or 5, tuple(config.ops or OPS),
                                                   config.partial_channels, config.edge_norm, num_classes, in_channels))
        rule = config.rule or "nb201"
        return net, lambda arch: derive_nb201(arch, net.op_names, rule), rule
    from archspace.families.darts.supernet import DartsSearchConfig, DartsSearchNetwork

    default = ("none", "skip_connect", "sep_conv_3x3") if config.space == "darts_s3" else SEARCH_OPS
    net = DartsSearchNetwork(DartsSearchConfig(config.channels, config.cells or 8, 4, tuple(config.ops or default),
                                               config.partial_channels, config.edge_norm, num_classes, in_channels))
    return net, lambda arch: derive_darts(arch, net.op_names), "darts"


def describe(spec: Any) -> dict[str, Any]:
    from archspace.oneshot.derive import parameter_free_share

    out = {"spec": spec.to_dict(), "parameter_free_share": parameter_free_share(spec)}
    if hasattr(spec, "to_string"):
        out["text"] = spec.to_string()
    return out


def run_search(config: OneShotConfig, checkpoint: str | os.PathLike | None = None,
               progress: Callable[[int, int, float], None] | None = None,
               stop_after_steps: int | None = None, dataset: Any = None) -> dict[str, Any]:
    """Run (or resume from ``checkpoint``) one search; see the module docstring."""
    check_config(config)
    import torch

    from archspace.data import load_dataset
    from archspace.oneshot.bilevel import BilevelSearch, SearchData

    if dataset is None:
        dataset = load_dataset(config.dataset, config.data_dir, seed=config.seed, val_size=config.val_size,
                               augment=False)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        net, derive, rule = build_network(config, dataset.num_classes, dataset.in_channels)
    data = SearchData.from_dataset(dataset, config.seed, config.recipe.subset, config.recipe.eval_images)
    search = BilevelSearch(net, make_method(config), config.recipe, data, config.seed, derive=derive,
                           describe=describe, checkpoint=checkpoint, identity=config.to_dict())
    search.run(stop_after_steps, progress)
    selected = search.selected_epoch
    chosen = next((h for h in search.history if h.epoch == selected), None)
    return {"config": config.to_dict(), "label": config.label, "rule": rule, "steps": search.step,
            "total_steps": search.total_steps, "finished": search.step >= search.total_steps or search.stopped_at is not None,
            "stopped_at": search.stopped_at, "selected_epoch": selected, "seconds": search.seconds,
            "resumed_from_step": search.resumed_from, "derived": None if chosen is None else chosen.derived,
            "history": [dataclasses.asdict(h) for h in search.history],
            "supernet_parameters": sum(p.numel() for p in net.parameters())}


__all__ = ["SPACES", "OneShotConfig", "build_network", "check_config", "make_method", "run_search"]
