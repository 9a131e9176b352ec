"""Attention-cell search on images (thesis chapter 4), end to end and resumable.

``run_attention_search(config)``:

1. sample-based search of the attention space (a cell inserted after ``positions`` of a small
   AnyNet) with the GP bandit, random search and regularized evolution at the same budget, each a
   Study in ``config.db`` (resumable: a rerun continues where it stopped);
2. the differentiable supergraph, trained jointly with the backbone's weights at the same recipe,
   its connection logits by their own Adam on every training batch (``ConnectionOptimizer``; see
   ``families.attention.supernet``), and its derived cell; for clips the supergraph's nodes are
   spatiotemporal, temporal and spatial (``VIDEO_NODE_KINDS``), for images spatial only;
3. a final comparison at one equal recipe and several seeds: no attention, a non-local block, a
   squeeze-excitation block, each strategy's best cell and the supergraph's cell, inserted at the
   same place, with the cost of each network.

Results land in ``config.out_dir`` (``summary.json``, ``summary.md``). Resuming: the search
Studies continue where they stopped, and a final row already in ``summary.json`` (or in
``final-rows.partial.json``, written after each row) is reused when its spec, the seeds and the
settings its numbers depend on match (training is bit-identical on CPU for a given seed); the
summary marks reused rows. So a rerun after a change to the supergraph retrains only what changed.
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
from archspace.families.attention.supernet import ConnectionRecipe, SupergraphConfig
from archspace.search.registry import make_strategy
from archspace.spaces.registry import get_space
from archspace.study.study import Study
from archspace.train.recipe import Recipe

# Node kinds of the supergraph for clips: every level holds a spatiotemporal dot-product op, a
# temporal map-based op and a spatial dot-product op (with the default 3 nodes per level).
VIDEO_NODE_KINDS: tuple[tuple[str, str], ...] = (("dot", "spatiotemporal"), ("map", "temporal"), ("dot", "spatial"))

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
    supergraph: SupergraphConfig | None = None  # None: spatial kinds for images, VIDEO_NODE_KINDS for clips
    connections: ConnectionRecipe = field(default_factory=ConnectionRecipe)

    def __post_init__(self) -> None:
        for name in ("train_subset", "val_size", "epochs", "batch_size", "max_ops", "budget", "n_init"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        if not self.final_seeds or any(s < 0 for s in self.final_seeds) or len(set(self.final_seeds)) != len(
                self.final_seeds):
            raise UsageError(f"final_seeds must be distinct integers >= 0, got {list(self.final_seeds)}")
        self.positions = tuple(self.positions)
        if self.supergraph is None:
            self.supergraph = SupergraphConfig() if self.frames == 1 else SupergraphConfig(node_kinds=VIDEO_NODE_KINDS)
        self.supergraph.check_frames(self.frames)


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


PARTIAL_ROWS = "final-rows.partial.json"  # final rows so far, while a run is in progress
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
    """Train the supergraph jointly with the backbone at the search recipe, its connection logits by
    their own optimizer on every batch; the derived cell and the connection weights (per epoch)."""
    import torch

    from archspace.families.attention.supernet import (
        ConnectionOptimizer,
        SupergraphNetwork,
        uniform_distance,
    )
    from archspace.numerics import NumericSettings
    from archspace.train.trainer import train

    evaluator = _evaluator(config, space, test=False)
    data = evaluator.load()
    shell = AttentionNet(space.backbone)
    torch.manual_seed(seed)
    backbone = space.family.backbone_family().build(space.backbone, num_classes=data.num_classes,
                                                    in_channels=data.in_channels)
    assert config.supergraph is not None  # set by __post_init__
    network = SupergraphNetwork(shell, backbone, config.supergraph, config.positions)
    optimizer = ConnectionOptimizer(network.connection_parameters(), config.connections)
    def snapshot(epoch: int, val_error: float | None) -> dict[str, Any]:
        return {"epoch": epoch, "val_error": val_error, "connections": network.connection_weights(),
                "derived": network.derive().to_dict()}

    trajectory = [snapshot(0, None)]

    def record(progress: Any) -> None:
        if progress.epoch_end:
            trajectory.append(snapshot(progress.epoch, progress.val_error))

    started = time.perf_counter()
    with NumericSettings(evaluator.threads, evaluator.deterministic).applied(), optimizer.attached():
        outcome = train(network, data, _recipe(config), seed=seed, progress=record, evaluate_test=False)
    weights = network.connection_weights()
    return {"cell": network.derive(), "val_error": outcome.val_error, "seconds": time.perf_counter() - started,
            "status": outcome.status, "connection_steps": optimizer.steps, "connections": weights,
            "distance_from_uniform": uniform_distance(weights), "trajectory": trajectory}


def _row_settings(config: AttentionSearchConfig) -> dict[str, Any]:
    """What a final row's numbers depend on besides its spec."""
    return {**_search_settings(config), "final_seeds": list(config.final_seeds)}


def _spec_key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True)


def stored_rows(config: AttentionSearchConfig) -> dict[str, dict[str, Any]]:
    """Final rows of an earlier run in ``out_dir`` made with the same settings, keyed by spec."""
    out, wanted = Path(config.out_dir), _row_settings(config)
    found: dict[str, dict[str, Any]] = {}
    summary, partial = out / "summary.json", out / PARTIAL_ROWS
    if summary.exists():
        stored = json.loads(summary.read_text())
        stored_config = stored.get("config", {})
        settings = to_plain({name: stored_config.get(name) for name in wanted})
        if settings == wanted:
            found.update({_spec_key(row["spec"]): row for row in stored.get("final", [])})
    if partial.exists():
        stored = json.loads(partial.read_text())
        if stored.get("settings") == wanted:
            found.update({_spec_key(row["spec"]): row for row in stored.get("rows", [])})
    return found


def final_comparison(config: AttentionSearchConfig, space: Any, cells: dict[str, ArchSpec],
                     reuse: dict[str, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every candidate at the same recipe, data and seeds, with its cost; the rows of the summary.

    Baselines (no insert, SE) are not points of the cell space, so each network is built by the
    space's family directly, on the evaluator's data and numeric settings. ``reuse`` (from
    ``stored_rows``): rows of an earlier run, by spec; they are copied with ``"reused": true``. A
    spec met twice (two strategies finding the same cell) is trained once. Each row trained here is
    added to ``out_dir/final-rows.partial.json`` at once (an interrupted run loses at most the row
    in progress).
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
    earlier: dict[str, dict[str, Any]] = dict(reuse or {})
    here: dict[str, dict[str, Any]] = {}
    rows: list[dict[str, Any]] = []
    partial = Path(config.out_dir) / PARTIAL_ROWS
    for label, arch in candidates.items():
        key = _spec_key(arch.to_dict())
        if key in here or key in earlier:
            rows.append({**(here.get(key) or earlier[key]), "model": label, "reused": key not in here})
            continue
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
                     "test_errors": test, **cost.to_dict(), "spec": arch.to_dict(), "reused": False})
        here[key] = rows[-1]
        _write_atomic(partial, {"settings": _row_settings(config), "rows": list({**earlier, **here}.values())})
    return rows


def _write_atomic(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps(payload, indent=2))
    scratch.replace(path)


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
    rows = final_comparison(config, space, cells, stored_rows(config))
    summary = {
        "config": asdict(config),
        "space": space.summary(),
        "search": {name: {"best_val_error": item["best_val_error"], "history": item["history"],
                          "best_cell": item["best"].insert.to_dict()} for name, item in found.items()},
        "supergraph": {**{k: v for k, v in supergraph.items() if k != "cell"}, "cell": supergraph["cell"].to_dict()},
        "final": rows,
        "wall_seconds": time.perf_counter() - started,
    }
    _write_atomic(out / "summary.json", summary)
    (out / "summary.md").write_text(summary_markdown(summary))
    (out / PARTIAL_ROWS).unlink(missing_ok=True)
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
    if any(row.get("reused") for row in summary["final"]):
        reused = ", ".join(row["model"] for row in summary["final"] if row.get("reused"))
        lines += ["", f"Rows reused from the earlier run in this folder (same spec, seeds and settings): {reused}."]
    lines += ["", *supergraph_markdown(summary["supergraph"])]
    return "\n".join(lines) + "\n"


def supergraph_markdown(supergraph: dict[str, Any]) -> list[str]:
    """The supergraph's outcome: val error, learned connection weights, distance from uniform."""
    lines = [f"Supergraph: val error (%) {_pct(supergraph['val_error'])} after joint training "
             f"({supergraph['seconds']:.0f} s)."]
    lines.append(f"Derived cell: {describe_cell(supergraph['cell'])}.")
    weights = supergraph.get("connections")
    if weights is None:  # a summary written before the connections were recorded
        return lines
    lines.append(f"Connection weights after {supergraph['connection_steps']} Adam steps (largest |w - 1/n|: "
                 f"{supergraph['distance_from_uniform']:.4f}); sink: {_weights(weights['sink'])}")
    for level, matrix in enumerate(weights["levels"], start=2):
        rows = "; ".join(f"node {j}: {_weights(row)}" for j, row in enumerate(matrix))
        lines.append(f"level {level} inputs ({rows})")
    return lines


def describe_cell(cell: dict[str, Any]) -> str:
    """A cell in one line: ``op k: dimension type activation [gated] <- inputs`` (0 = f0)."""
    parts = []
    for number, op in enumerate(cell["ops"], start=1):
        gated = " gated" if op["gating"] else ""
        reads = "+".join("f0" if i == 0 else f"op{i}" for i in op["inputs"])
        parts.append(f"op{number} {op['dimension']} {op['type']} {op['activation']}{gated} <- {reads}")
    return "; ".join(parts)


def _weights(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"


def _pct(value: float | None) -> str:
    """A mean error for the table; ``diverged`` when no seed gave one."""
    return "diverged" if value is None else f"{value:.2f}"
