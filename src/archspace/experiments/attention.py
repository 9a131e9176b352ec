"""Attention-cell search on images (thesis chapter 4), end to end and resumable.

``run_attention_search(config)``:

1. sample-based search of the attention space (a cell inserted after ``positions`` of a small
   AnyNet) with the GP bandit, random search and regularized evolution at the same budget, each a
   Study in ``config.db`` (resumable: a rerun continues where it stopped);
2. the differentiable supergraph, trained jointly with the backbone's weights, and its derived cell;
3. a final comparison at one equal recipe and several seeds: no attention, a non-local block, a
   squeeze-excitation block, each strategy's best cell and the supergraph's cell, inserted at the
   same place, with the cost of each network.

Results land in ``config.out_dir`` (``summary.json``, ``summary.md``).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.configs import check_same_config, to_plain
from archspace.errors import UsageError
from archspace.evaluators.training import TrainingEvaluator
from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp, SEInsert
from archspace.families.attention.supernet import SupergraphConfig
from archspace.search.registry import make_strategy
from archspace.spaces.registry import get_space
from archspace.study.study import Study
from archspace.train.recipe import Recipe


# A non-local block in cell form: one spatial dot-product op with softmax, embeddings of C/2, values
# projected to C/2 and back to C (G3 commutes with the attention matrix, so this is the NL block).
def nonlocal_cell(dimension: str = "spatial") -> AttentionCell:
    """The non-local block as a cell (spatiotemporal for video, as in the non-local paper)."""
    return AttentionCell((AttentionOp(dimension, "dot", "softmax", False, (0,)),), op_divisor=2, inner_divisor=2)


@dataclass
class AttentionSearchConfig:
    """What ``run_attention_search`` runs; every size is what the CPU run in docs/ used by default."""

    out_dir: str = "runs/attention"
    db: str = "runs/attention.db"
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    frames: int = 1  # 1: images and an AnyNet backbone; > 1: clips (e.g. moving-fashion-mnist) and R3D
    train_subset: int = 3000
    val_size: int = 2000
    epochs: int = 3
    batch_size: int = 128
    lr: float = 0.05
    positions: tuple[int, ...] = (1, 2)
    max_ops: int = 3
    budget: int = 10
    n_init: int = 4
    strategies: tuple[str, ...] = ("gp-bandit", "rs", "re")
    search_seed: int = 0
    final_seeds: tuple[int, ...] = (0, 1)
    supergraph: SupergraphConfig = field(default_factory=SupergraphConfig)

    def __post_init__(self) -> None:
        for name in ("train_subset", "val_size", "epochs", "batch_size", "max_ops", "budget", "n_init"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        if not self.final_seeds or any(s < 0 for s in self.final_seeds) or len(set(self.final_seeds)) != len(
                self.final_seeds):
            raise UsageError(f"final_seeds must be distinct integers >= 0, got {list(self.final_seeds)}")
        self.positions = tuple(self.positions)


def _recipe(config: AttentionSearchConfig) -> Recipe:
    # grad_clip: unnormalized attention (activation none or relu on dot products) can blow up early
    return Recipe(epochs=config.epochs, batch_size=config.batch_size, lr=config.lr, augment=False, grad_clip=5.0)


def _evaluator(config: AttentionSearchConfig, space: Any | None, test: bool) -> TrainingEvaluator:
    """Training at the config's recipe; ``space=None`` builds each spec by its family (baselines)."""
    return TrainingEvaluator(config.dataset, _recipe(config), data_dir=config.data_dir, val_size=config.val_size,
                             keep_predictions=False, space=None if space is None else space.name,
                             space_options=None if space is None else space.options(),
                             train_subset=config.train_subset, test_split="test" if test else "none")


def _strategy_options(name: str, config: AttentionSearchConfig) -> dict[str, Any]:
    if name in ("gp-bandit", "bo"):
        return {"n_init": config.n_init, "n_candidates": 500}
    if name == "re":
        return {"population_size": max(2, config.n_init), "sample_size": 2}
    return {}


SEARCH_SETTINGS = ("dataset", "data_dir", "frames", "train_subset", "val_size", "epochs", "batch_size", "lr",
                   "positions", "max_ops", "n_init", "search_seed")


def _search_settings(config: AttentionSearchConfig) -> dict[str, Any]:
    """What a stored search study's numbers depend on (the budget may grow between runs)."""
    return to_plain({name: getattr(config, name) for name in SEARCH_SETTINGS})


def open_search_studies(config: AttentionSearchConfig) -> dict[str, Study]:
    """One Study per strategy, created or resumed; a stored one made with other settings is refused
    (naming each differing setting) before any strategy trains anything."""
    settings = _search_settings(config)
    found: dict[str, Study] = {}
    for name in config.strategies:
        study = Study.create(f"attention-{name}-s{config.search_seed}", config.db, seed=config.search_seed,
                             config={"attention_search": settings}, load_if_exists=True)
        check_same_config(study.config.get("attention_search", {}), settings, f"attention study {study.name!r}")
        found[name] = study
    return found


def search_cells(config: AttentionSearchConfig, space: Any, progress: bool = False) -> dict[str, dict[str, Any]]:
    """One Study per strategy at the same budget; returns each strategy's best cell and history."""
    evaluator = _evaluator(config, space, test=False)
    found: dict[str, dict[str, Any]] = {}
    for name, study in open_search_studies(config).items():
        strategy = make_strategy(name, space, config.search_seed, **_strategy_options(name, config))
        study.optimize(strategy, evaluator, config.budget, progress=progress)
        trials = [t for t in study.trials() if t.objective is not None and np.isfinite(t.objective)]
        if not trials:
            raise UsageError(f"every trial of strategy {name!r} failed; see `archspace study show`")
        best = min(trials, key=lambda t: (t.objective, t.number))
        found[name] = {"best": best.arch, "best_val_error": best.objective,
                       "history": [t.objective for t in sorted(trials, key=lambda t: t.number)]}
    return found


def train_supergraph(config: AttentionSearchConfig, space: Any, seed: int = 0) -> dict[str, Any]:
    """Train the supergraph jointly with the backbone; the derived cell and the connection weights."""
    import torch

    from archspace.families.attention.supernet import SupergraphNetwork
    from archspace.train.trainer import train

    data = _evaluator(config, space, test=False).load()
    family = space.family
    shell = AttentionNet(space.backbone)
    torch.manual_seed(seed)
    backbone = family.backbone_family().build(space.backbone, num_classes=data.num_classes,
                                              in_channels=data.in_channels)
    network = SupergraphNetwork(shell, backbone, config.supergraph, config.positions)
    trajectory: list[dict[str, Any]] = []

    def record(progress: Any) -> None:
        if progress.epoch_end:
            trajectory.append({"epoch": progress.epoch, "val_error": progress.val_error,
                               "connections": _connection_weights(network)})

    started = time.perf_counter()
    outcome = train(network, data, _recipe(config), seed=seed, progress=record, evaluate_test=False)
    return {"cell": network.derive(), "val_error": outcome.val_error, "seconds": time.perf_counter() - started,
            "trajectory": trajectory}


def _connection_weights(network: Any) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {}
    for position, cell in network.inserts.items():
        out[position] = {"sink": torch.softmax(cell.sink.detach(), 0).tolist(),
                         "levels": [torch.softmax(c.detach(), 1).tolist() for c in cell.connections]}
    return out


def final_comparison(config: AttentionSearchConfig, space: Any, cells: dict[str, ArchSpec]) -> list[dict[str, Any]]:
    """Every candidate at the same recipe, data and seeds, with its cost; the rows of the summary.

    Baselines (no insert, SE) are not points of the cell space, so each network is built by the
    space's family directly, on the evaluator's data and numeric settings.
    """
    from archspace.evaluators.training import result_from_training
    from archspace.numerics import NumericSettings
    from archspace.train.trainer import train

    evaluator = _evaluator(config, space, test=True)
    data = evaluator.load()
    nonlocal_dimension = "spatial" if config.frames == 1 else "spatiotemporal"
    candidates: dict[str, AttentionNet] = {
        "no attention": AttentionNet(space.backbone),
        "non-local block": AttentionNet(space.backbone, nonlocal_cell(nonlocal_dimension), config.positions),
        "squeeze-excitation": AttentionNet(space.backbone, SEInsert(0.25), config.positions),
        **{f"cell: {name}": AttentionNet(space.backbone, cell, config.positions) for name, cell in cells.items()},
    }
    rows = []
    for label, arch in candidates.items():
        cost = space.family.complexity(arch, data.resolution, data.num_classes, data.in_channels)
        results = []
        for seed in config.final_seeds:
            with NumericSettings(evaluator.threads, evaluator.deterministic).applied():
                outcome = train(arch, data, evaluator.recipe, seed=seed, space=space.family, evaluate_test=True)
            results.append(result_from_training(outcome, keep_predictions=False))
        val = [r.objective for r in results if r.objective is not None]
        test = [r.metrics.get("test_error") for r in results if r.metrics.get("test_error") is not None]
        rows.append({"model": label, "val_error_mean": float(np.mean(val)) if val else None,
                     "val_errors": val, "test_error_mean": float(np.mean(test)) if test else None,
                     "test_errors": test, **cost.to_dict(), "spec": arch.to_dict()})
    return rows


def check_data(config: AttentionSearchConfig, data: Any) -> None:
    """Images for ``frames = 1``, clips of exactly ``frames`` frames otherwise (before any training)."""
    shape = tuple(data.train.images.shape[1:])
    if config.frames == 1 and len(shape) != 3:
        raise UsageError(f"{config.dataset} holds clips of shape {list(shape)}; give --frames {shape[1]} "
                         "to search video cells")
    if config.frames > 1 and (len(shape) != 4 or shape[1] != config.frames):
        raise UsageError(f"--frames {config.frames} needs clips of {config.frames} frames; {config.dataset} "
                         f"holds examples of shape {list(shape)} (e.g. use --dataset moving-fashion-mnist --frames 8)")


def attention_space(config: AttentionSearchConfig) -> Any:
    """The cell space the config searches (validated: raises ``UsageError`` before any training)."""
    return get_space("attention", positions=list(config.positions), max_ops=config.max_ops, frames=config.frames)


def run_attention_search(config: AttentionSearchConfig, progress: bool = False) -> dict[str, Any]:
    """The whole workflow (module docstring); returns and writes the summary."""
    space = attention_space(config)
    check_data(config, _evaluator(config, space, test=False).load())
    open_search_studies(config)  # refuses stored studies made with other settings, before any output
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    found = search_cells(config, space, progress)
    supergraph = train_supergraph(config, space)
    cells = {name: item["best"].insert for name, item in found.items()}
    cells["supergraph"] = supergraph["cell"]
    rows = final_comparison(config, space, cells)
    summary = {
        "config": {**asdict(config), "supergraph": asdict(config.supergraph)},
        "space": space.summary(),
        "search": {name: {"best_val_error": item["best_val_error"], "history": item["history"],
                          "best_cell": item["best"].insert.to_dict()} for name, item in found.items()},
        "supergraph": {"val_error": supergraph["val_error"], "seconds": supergraph["seconds"],
                       "cell": supergraph["cell"].to_dict(), "trajectory": supergraph["trajectory"]},
        "final": rows,
        "wall_seconds": time.perf_counter() - started,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    (out / "summary.md").write_text(summary_markdown(summary))
    return summary


def summary_markdown(summary: dict[str, Any]) -> str:
    """The final table and the search results as markdown."""
    lines = ["| model | val error % (mean) | test error % (mean) | test errors | params | flops |",
             "|---|---|---|---|---|---|"]
    for row in summary["final"]:
        tests = ", ".join(f"{v:.2f}" for v in row["test_errors"])
        lines.append(f"| {row['model']} | {_pct(row['val_error_mean'])} | {_pct(row['test_error_mean'])} | {tests} | "
                     f"{row['params']:,} | {row['flops']:,} |")
    lines += ["", "| search | best val error % | val errors in trial order |", "|---|---|---|"]
    for name, item in summary["search"].items():
        history = ", ".join(f"{v:.1f}" for v in item["history"])
        lines.append(f"| {name} | {item['best_val_error']:.2f} | {history} |")
    lines.append("")
    lines.append(f"Supergraph: val error (%) {_pct(summary['supergraph']['val_error'])} after joint training "
                 f"({summary['supergraph']['seconds']:.0f} s).")
    return "\n".join(lines) + "\n"


def _pct(value: float | None) -> str:
    """A mean error for the table; ``diverged`` when no seed gave one."""
    return "diverged" if value is None else f"{value:.2f}"
