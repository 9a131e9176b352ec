"""The ranking-correlation study: how well do supernet accuracies rank NB201 cells, per variation?

``RankingStudy(config).run()`` does, resumably (everything lands in ``config.out_dir``):

1. Ground truth. Either stand-alone training of ``gt_cells`` distinct cells sampled from the
   ground-truth space, each trained from scratch with the trainer at the supernet's macro size, in
   a ``Study`` (``study.db``, resumable trial by trial); or the NAS-Bench-201 table
   (``ground_truth="table:cifar10_valid_200"``, for supernets trained on the benchmark's data).
2. For each variation and seed: a supernet trained with ``train_supernet`` (checkpoint in
   ``supernets/``; an interrupted run resumes, a finished one is reused).
3. For each variation and seed: every ground-truth cell its supernet can express, scored with
   inherited weights by ``SupernetEvaluator`` inside its own Study (resumable).
4. Metrics (``archspace.analysis.ranking``) per seed, mean/std over seeds, op usage of the top-N,
   then ``report.json``, figures (PNG + SVG, like the paper's Figures 2, 3 and 4) and
   ``report.html`` (``write_report``).

Variations are named switches combined with ``+`` (e.g. ``masked-none+fair``); see ``VARIATIONS``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspace.analysis import ranking
from archspace.data import Dataset, load_dataset
from archspace.errors import UsageError
from archspace.evaluators.supernet import SupernetEvaluator
from archspace.evaluators.training import TrainingEvaluator
from archspace.families.nb201.index import benchmark_index_of
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.supernet import PRESETS, SupernetConfig
from archspace.families.nb201.table import OPS
from archspace.search.fixed import FixedList
from archspace.search.random_search import RandomSearch
from archspace.spaces.nb201 import NB201Space
from archspace.study import Study
from archspace.train import Recipe
from archspace.train.supernet import SPOSRecipe, read_checkpoint, train_supernet

# Each variation: changes to the supernet config ("ops", "linear_transformers") and/or recipe.
VARIATIONS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "uniform": {"sampler": "uniform"},
    "fair": {"sampler": "fair"},
    "masked-none": {"ops": tuple(op for op in OPS if op != "none")},
    "masked-none-pool": {"ops": ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")},
    "masked-pool": {"ops": tuple(op for op in OPS if op != "avg_pool_3x3")},
    "lt-skip": {"linear_transformers": ("skip_connect",)},
    "lt-pool": {"linear_transformers": ("avg_pool_3x3",)},
    "lt-skip-pool": {"linear_transformers": ("skip_connect", "avg_pool_3x3")},
    "no-topology-sharing": {"share_topology": False},
    "warmup": {"warmup_epochs": 1.0},
    "grad-clip": {"grad_clip": 5.0},
    "label-smoothing": {"label_smoothing": 0.1},
    "strong-augment": {"augment": "strong"},
}
CONFIG_KEYS = ("ops", "linear_transformers")


def parse_variation(name: str) -> dict[str, Any]:
    """Merged switches of a ``+``-joined variation name (later parts win on conflicts)."""
    merged: dict[str, Any] = {}
    for part in name.split("+"):
        part = part.strip()
        if part not in VARIATIONS:
            raise UsageError(f"unknown variation {part!r} in {name!r}; known: {sorted(VARIATIONS)}")
        switches = dict(VARIATIONS[part])
        if "ops" in switches:  # masks combine: keep the ops every part allows
            allowed = set(merged.get("ops", OPS)) & set(switches.pop("ops"))
            merged["ops"] = tuple(op for op in OPS if op in allowed)
        merged.update(switches)
    return merged


@dataclass(frozen=True)
class RankingStudyConfig:
    """Everything a ranking study needs (stored as ``config.json`` in ``out_dir``).

    dataset / data_dir / val_size / split_seed: the data (``load_dataset``); the validation split
    judges both the supernet and the stand-alone networks. train_subset: train everything on this
    many training images (seeded by split_seed; None = all). cells_per_stage / channels: the macro
    network of the supernets and of the stand-alone networks. supernet_recipe: base SPOS recipe;
    variations: names for ``parse_variation``; seeds: supernet seeds. ground_truth: ``train`` or
    ``table:<metric>``; gt_cells: how many cells; gt_ops: the ground-truth space (default: the ops
    every variation allows, so each variation ranks the same cells); gt_recipe: stand-alone recipe;
    gt_seed: seeds the cell sample. bn_batches / bn_batch_size: BN recompute (0 = off).
    """

    out_dir: str
    dataset: str = "fashion-mnist"
    data_dir: str | None = None
    val_size: int = 1000
    split_seed: int = 0
    train_subset: int | None = None
    cells_per_stage: int = 2
    channels: int = 32
    supernet_recipe: SPOSRecipe = field(default_factory=SPOSRecipe)
    variations: tuple[str, ...] = ("baseline", "masked-none", "fair")
    seeds: tuple[int, ...] = (0, 1)
    ground_truth: str = "train"
    gt_cells: int = 30
    gt_ops: tuple[str, ...] | None = None
    gt_recipe: Recipe = field(default_factory=lambda: Recipe(epochs=3, batch_size=128, lr=0.05))
    gt_seed: int = 0
    bn_batches: int = 4
    bn_batch_size: int = 128
    top_ns: tuple[int, ...] = ranking.TOP_NS
    sample_size: int = 100
    device: str = "cpu"

    def __post_init__(self) -> None:
        if not self.variations:
            raise UsageError("a ranking study needs at least one variation")
        for name in self.variations:
            parse_variation(name)
        if not self.seeds:
            raise UsageError("a ranking study needs at least one supernet seed")
        if self.gt_cells < 3:
            raise UsageError(f"gt_cells must be >= 3 (correlations need 3 points), got {self.gt_cells}")
        if not (self.ground_truth == "train" or self.ground_truth.startswith("table:")):
            raise UsageError(f"ground_truth must be 'train' or 'table:<metric>', got {self.ground_truth!r}")
        if self.gt_ops is not None:
            NB201Space(self.gt_ops)
        self.variation_config(self.variations[0])

    @classmethod
    def with_preset(cls, preset: str, **kwargs: Any) -> RankingStudyConfig:
        if preset not in PRESETS:
            raise UsageError(f"unknown supernet preset {preset!r}; known: {sorted(PRESETS)}")
        n, c = PRESETS[preset]
        return cls(cells_per_stage=n, channels=c, **kwargs)

    def variation_config(self, name: str) -> tuple[SupernetConfig, SPOSRecipe]:
        switches = parse_variation(name)
        config = SupernetConfig(cells_per_stage=self.cells_per_stage, channels=self.channels,
                                **{k: v for k, v in switches.items() if k in CONFIG_KEYS})
        recipe = self.supernet_recipe.replace(**{k: v for k, v in switches.items() if k not in CONFIG_KEYS})
        return config, recipe

    def ground_truth_ops(self) -> tuple[str, ...]:
        if self.gt_ops is not None:
            return NB201Space(self.gt_ops).ops
        common = set(OPS)
        for name in self.variations:
            common &= set(self.variation_config(name)[0].ops)
        if not common:
            raise UsageError(f"the variations {list(self.variations)} share no op; pass gt_ops")
        return tuple(op for op in OPS if op in common)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["supernet_recipe"] = self.supernet_recipe.to_dict()
        data["gt_recipe"] = self.gt_recipe.to_dict()
        for key in ("variations", "seeds", "top_ns", "gt_ops"):
            data[key] = None if data[key] is None else list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RankingStudyConfig:
        data = dict(data)
        data["supernet_recipe"] = SPOSRecipe.from_dict(data.get("supernet_recipe", {}))
        data["gt_recipe"] = Recipe.from_dict(data.get("gt_recipe", {}))
        for key in ("variations", "seeds", "top_ns"):
            if key in data:
                data[key] = tuple(data[key])
        if data.get("gt_ops") is not None:
            data["gt_ops"] = tuple(data["gt_ops"])
        return cls(**data)


def study_dataset(name: str, data_dir: str | None, val_size: int, split_seed: int,
                  train_subset: int | None) -> Dataset:
    """The study's data: training images cut to ``train_subset``; the test split is replaced by the
    validation split (the study judges everything on validation accuracy, and the trainer would
    otherwise spend a full test-set pass per stand-alone network)."""
    data = load_dataset(name, data_dir=data_dir, seed=split_seed, val_size=val_size)
    data = dataclasses.replace(data, test=data.val)
    return data if train_subset is None else data.with_train_subset(train_subset, split_seed)


@dataclass
class StageTimer:
    """Wall seconds per stage of the study (what the report states as its cost)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


class RankingStudy:
    """Runs (or resumes) a ranking study; ``run()`` returns the report dict (also written to disk)."""

    def __init__(self, config: RankingStudyConfig, log: Callable[[str], None] | None = None,
                 command_line: str | None = None, progress: bool = True) -> None:
        self.config = config
        self.progress = progress
        self.out = Path(config.out_dir)
        self.log = log or (lambda message: None)
        self.command_line = command_line
        self.timer = StageTimer()

    # --- layout ------------------------------------------------------------------------------
    @property
    def storage(self) -> Path:
        return self.out / "study.db"

    def checkpoint(self, variation: str, seed: int) -> Path:
        return self.out / "supernets" / f"{variation}-seed{seed}.pt"

    def _check_config(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "config.json"
        mine = json.loads(json.dumps(self.config.to_dict()))
        if path.is_file():
            stored = json.loads(path.read_text())
            # Variations, seeds and gt_cells may grow between runs (a larger gt_cells continues the
            # same seeded cell sequence); everything else must match the stored study.
            growable = ("variations", "seeds", "gt_cells", "device", "top_ns", "sample_size")
            fixed = {k: v for k, v in stored.items() if k not in growable}
            changed = sorted(k for k, v in fixed.items() if mine.get(k) != v)
            if changed:
                raise UsageError(f"{self.out} holds a study with a different configuration ({', '.join(changed)} "
                                 "differ); use another --out directory")
        path.write_text(json.dumps(mine, indent=2))

    # --- stages ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self._check_config()
        cells, truth = self.ground_truth()
        results: dict[str, dict[str, Any]] = {}
        for variation in self.config.variations:
            for seed in self.config.seeds:
                self.train_supernet(variation, seed)
        for variation in self.config.variations:
            results[variation] = self.rank_variation(variation, cells, truth)
        report = self.build_report(cells, truth, results)
        write_report(report, self.out)
        return report

    def ground_truth(self) -> tuple[list[NB201Cell], np.ndarray]:
        cfg = self.config
        space = NB201Space(self.config.ground_truth_ops())
        start = time.perf_counter()
        if cfg.ground_truth.startswith("table:"):
            from archspace.evaluators.nb201 import NB201Benchmark

            bench = NB201Benchmark(metric=cfg.ground_truth.removeprefix("table:"), space=space)
            cells = space.sample_distinct(cfg.gt_cells, np.random.default_rng(cfg.gt_seed))
            truth = np.array([bench.accuracy(benchmark_index_of(c))[0] for c in cells])
            return list(cells), truth
        evaluator = self.ground_truth_evaluator()
        study = Study.create("ground-truth", self.storage, seed=cfg.gt_seed, load_if_exists=True,
                             config={"kind": "ranking-study ground truth"})
        self.log(f"ground truth: stand-alone training of {cfg.gt_cells} cells over {list(space.ops)}")
        study.optimize(RandomSearch(space, seed=cfg.gt_seed), evaluator, cfg.gt_cells, progress=self.progress)
        self.timer.add("ground_truth", time.perf_counter() - start)
        cells, truth = [], []
        for trial in study.trials(("complete",)):
            cells.append(trial.arch)
            truth.append(100.0 - trial.objective)
        if len(cells) < 3:
            raise UsageError(f"only {len(cells)} ground-truth trials completed; see `archspace study show`")
        return cells, np.array(truth)

    def ground_truth_evaluator(self) -> TrainingEvaluator:
        """Stand-alone training at the supernets' macro size, on the images the supernets train on,
        judged on the validation split (the study never looks at test accuracy)."""
        cfg = self.config
        return TrainingEvaluator(
            cfg.dataset, cfg.gt_recipe, device=cfg.device, data_dir=cfg.data_dir, val_size=cfg.val_size,
            split_seed=cfg.split_seed, keep_predictions=False, space="nb201",
            space_options={"ops": list(cfg.ground_truth_ops()), "channels": cfg.channels,
                           "cells_per_stage": cfg.cells_per_stage},
            train_subset=cfg.train_subset, test_split="val")

    def train_supernet(self, variation: str, seed: int) -> None:
        cfg = self.config
        path = self.checkpoint(variation, seed)
        if path.is_file():
            state = read_checkpoint(path)
            if state["step"] >= state["total_steps"]:
                return
        config, recipe = cfg.variation_config(variation)
        data = self._data()
        self.log(f"supernet {variation} seed {seed}: {recipe.epochs} epochs, sampler {recipe.sampler}, ops {list(config.ops)}")
        start = time.perf_counter()
        train_supernet(config, data, recipe, seed=seed, device=cfg.device, checkpoint=path,
                       progress=_rich_steps(f"{variation} s{seed}") if self.progress else None)
        self.timer.add("supernet_training", time.perf_counter() - start)

    def _data(self) -> Dataset:
        if not hasattr(self, "_dataset"):
            cfg = self.config
            self._dataset = study_dataset(cfg.dataset, cfg.data_dir, cfg.val_size, cfg.split_seed, cfg.train_subset)
        return self._dataset

    def rank_variation(self, variation: str, cells: list[NB201Cell], truth: np.ndarray) -> dict[str, Any]:
        cfg = self.config
        config, _ = cfg.variation_config(variation)
        allowed = set(config.ops)
        keep = np.array([set(c.ops) <= allowed for c in cells])
        chosen = [c for c, k in zip(cells, keep, strict=True) if k]
        if len(chosen) < 3:
            raise UsageError(f"variation {variation!r}: only {len(chosen)} ground-truth cells use its ops {sorted(allowed)}")
        per_seed = []
        for seed in cfg.seeds:
            start = time.perf_counter()
            evaluator = SupernetEvaluator(self.checkpoint(variation, seed), cfg.dataset, cfg.data_dir, cfg.val_size,
                                          cfg.split_seed, "val", None, cfg.bn_batches, cfg.bn_batch_size, 0,
                                          device=cfg.device)
            study = Study.create(f"rank-{variation}-seed{seed}", self.storage, seed=seed, load_if_exists=True,
                                 config={"kind": "ranking-study supernet ranking", "variation": variation})
            study.optimize(FixedList(chosen), evaluator, len(chosen), progress=self.progress)
            scores = {t.arch: 100.0 - t.objective for t in study.trials(("complete",))}
            predicted = np.array([scores[c] for c in chosen])
            self.timer.add("supernet_ranking", time.perf_counter() - start)
            per_seed.append({"seed": seed, "predicted": predicted.tolist(),
                             **ranking.ranking_summary(predicted, truth[keep], cfg.top_ns, cfg.sample_size, seed)})
        return {"cells": [c.to_string() for c in chosen], "truth": truth[keep].tolist(), "ops": list(config.ops),
                "per_seed": per_seed, "aggregate": ranking.aggregate_summaries(per_seed),
                "op_usage": self._op_usage(chosen, truth[keep], per_seed)}

    def _op_usage(self, cells: list[NB201Cell], truth: np.ndarray, per_seed: list[dict[str, Any]]) -> dict[str, Any]:
        ops = np.array([c.op_indices for c in cells])
        ns = ranking.usable_ns(len(cells), (5, 10, *self.config.top_ns))
        by_supernet = np.mean([ranking.op_usage(ops, s["predicted"], ns) for s in per_seed], axis=0)
        return {"n": ns, "ops": list(OPS), "ground_truth": ranking.op_usage(ops, truth, ns).tolist(),
                "supernet_mean_over_seeds": by_supernet.tolist()}

    def build_report(self, cells: list[NB201Cell], truth: np.ndarray, results: dict[str, Any]) -> dict[str, Any]:
        cfg = self.config
        checkpoints = {}
        for variation in cfg.variations:
            for seed in cfg.seeds:
                state = read_checkpoint(self.checkpoint(variation, seed))
                checkpoints[f"{variation}-seed{seed}"] = {
                    "steps": state["step"], "train_seconds": round(state["train_seconds"], 1),
                    "final_train_loss": state["history"][-1]["loss"] if state["history"] else None,
                    "final_train_error": state["history"][-1]["train_error"] if state["history"] else None}
        return {
            "title": "Single-path one-shot ranking correlation study",
            "command_line": self.command_line,
            "config": cfg.to_dict(),
            "variations": {v: parse_variation(v) for v in cfg.variations},
            "ground_truth": {"kind": cfg.ground_truth, "ops": list(cfg.ground_truth_ops()), "count": len(cells),
                             "cells": [c.to_string() for c in cells], "accuracy": truth.tolist(),
                             "accuracy_range": [float(truth.min()), float(truth.max())]},
            "bn_recompute": {"batches": cfg.bn_batches, "batch_size": cfg.bn_batch_size} if cfg.bn_batches else None,
            "supernets": checkpoints,
            "results": results,
            "stage_seconds_this_invocation": {k: round(v, 1) for k, v in self.timer.seconds.items()},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }


def _rich_steps(label: str) -> Callable[[Any], None]:
    """A rich progress bar over supernet steps (printed to stderr)."""
    from rich.console import Console
    from rich.progress import Progress

    state: dict[str, Any] = {}

    def update(event: Any) -> None:
        if "bar" not in state:
            state["bar"] = Progress(transient=True, console=Console(stderr=True))
            state["bar"].start()
            state["task"] = state["bar"].add_task(f"supernet {label}", total=event.total_steps)
        state["bar"].update(state["task"], completed=event.step,
                            description=f"supernet {label} ep {event.epoch} loss {event.loss:.3f}")
        if event.step >= event.total_steps:
            state["bar"].stop()

    return update


def run_ranking_study(config: RankingStudyConfig, log: Callable[[str], None] | None = None,
                      command_line: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Convenience wrapper: ``RankingStudy(config, log, command_line, progress).run()``."""
    return RankingStudy(config, log, command_line, progress).run()


def parse_list(text: str | Sequence[str], what: str) -> tuple[str, ...]:
    items = tuple(s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip())
    if not items:
        raise UsageError(f"{what}: expected a comma-separated list, got {text!r}")
    return items


# --- the report: JSON, figures, HTML -----------------------------------------------------------

FIGURES = ("fig_tau_top_n", "fig_op_usage", "fig_mean_top_n", "fig_scatter")


def write_report(report: dict[str, Any], out: Path) -> list[Path]:
    """Write ``report.json``, the figures (PNG + SVG) and ``report.html`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=_plain, allow_nan=True))
    import matplotlib

    matplotlib.use("Agg")
    written = [out / "report.json"]
    for name, draw in zip(FIGURES, (_fig_tau_top_n, _fig_op_usage, _fig_mean_top_n, _fig_scatter), strict=True):
        figure = draw(report)
        for suffix in ("png", "svg"):
            path = out / f"{name}.{suffix}"
            figure.savefig(path, dpi=110, bbox_inches="tight")
            written.append(path)
        import matplotlib.pyplot as plt

        plt.close(figure)
    (out / "report.html").write_text(render_html(report))
    written.append(out / "report.html")
    return written


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _fig_tau_top_n(report: dict[str, Any]) -> Any:
    """Figure 2 style: correlation over the top-N by ground truth, mean +- std over seeds."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6), sharey=True)
    for axis, metric in zip(axes, ranking.METRICS, strict=True):
        for variation, result in report["results"].items():
            rows = result["aggregate"]["top_n"]
            ns = [r["n"] for r in rows]
            mean = np.array([r[metric]["mean"] for r in rows])
            std = np.array([r[metric]["std"] for r in rows])
            axis.errorbar(ns, mean, yerr=std, marker="o", capsize=3, label=variation)
        axis.axhline(0.0, color="grey", lw=0.8)
        axis.set_xscale("log")
        axis.set_xlabel("top-N architectures (by ground truth)")
        axis.set_title(metric)
    axes[0].set_ylabel("correlation with ground truth")
    axes[0].legend(fontsize=8)
    return fig


def _variation_panels(report: dict[str, Any]) -> tuple[Any, Any]:
    """One figure with a panel per variation of the study (axes shaped (1, variations))."""
    import matplotlib.pyplot as plt

    count = len(report["results"])
    return plt.subplots(1, count, figsize=(4.2 * count, 3.6), squeeze=False)


def _label_first_panel(fig: Any, axes: Any, ylabel: str) -> Any:
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].legend(fontsize=8)
    return fig


def _fig_op_usage(report: dict[str, Any]) -> Any:
    """Figure 3 style: op counts in the top-N cells, by ground truth and by supernet accuracy."""
    fig, axes = _variation_panels(report)
    for axis, (variation, result) in zip(axes[0], report["results"].items(), strict=True):
        usage = result["op_usage"]
        row = 1 if len(usage["n"]) > 1 else 0  # the second-smallest N (10 when available)
        n = usage["n"][row]
        x = np.arange(len(usage["ops"]))
        axis.bar(x - 0.2, usage["ground_truth"][row], 0.4, label="ground truth")
        axis.bar(x + 0.2, usage["supernet_mean_over_seeds"][row], 0.4, label="supernet (mean over seeds)")
        axis.set_xticks(x, [op.replace("nor_", "").replace("_connect", "") for op in usage["ops"]], rotation=30)
        axis.set_title(f"{variation}: ops in top-{n}")
    return _label_first_panel(fig, axes, "count over all edges")


def _fig_mean_top_n(report: dict[str, Any]) -> Any:
    """Figure 4 style: mean predicted accuracy of the top-N (by ground truth) against N; tau_a."""
    fig, axes = _variation_panels(report)
    for axis, (variation, result) in zip(axes[0], report["results"].items(), strict=True):
        for entry in result["per_seed"]:
            predicted, truth = np.array(entry["predicted"]), np.array(result["truth"])
            ns = np.arange(1, len(truth) + 1)
            axis.plot(ns, ranking.mean_predicted_top_n(predicted, truth, ns), label=f"seed {entry['seed']}")
        tau = result["aggregate"]["tau_a"]
        axis.set_title(f"{variation}: tau_a {tau['mean']:.2f} +- {tau['std']:.2f}")
        axis.set_xlabel("N (top-N by ground truth)")
    return _label_first_panel(fig, axes, "mean supernet accuracy of top-N (%)")


def _fig_scatter(report: dict[str, Any]) -> Any:
    """Supernet accuracy against ground-truth accuracy, every seed."""
    fig, axes = _variation_panels(report)
    for axis, (variation, result) in zip(axes[0], report["results"].items(), strict=True):
        for entry in result["per_seed"]:
            axis.scatter(result["truth"], entry["predicted"], s=14, label=f"seed {entry['seed']}")
        kendall = result["aggregate"]["all"]["kendall"]
        axis.set_title(f"{variation}: tau {kendall['mean']:.2f} +- {kendall['std']:.2f}")
        axis.set_xlabel("stand-alone / benchmark accuracy (%)")
    return _label_first_panel(fig, axes, "supernet accuracy (%)")


def _fmt(stat: dict[str, float]) -> str:
    return "n/a" if not np.isfinite(stat["mean"]) else f"{stat['mean']:+.3f} &plusmn; {stat['std']:.3f}"


def render_html(report: dict[str, Any]) -> str:
    """A self-contained page (figures linked as sibling PNG files) with the tables of the report."""
    import html

    cfg = report["config"]
    gt = report["ground_truth"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(report['title'])}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}code{background:#f4f4f4}</style></head><body>",
             f"<h1>{html.escape(report['title'])}</h1>"]
    if report.get("command_line"):
        parts.append(f"<p>Command: <code>{html.escape(report['command_line'])}</code></p>")
    bn = report["bn_recompute"]
    parts.append(
        f"<p>Data: {html.escape(str(cfg['dataset']))}, training images: {cfg['train_subset'] or 'all'}, "
        f"validation images: {cfg['val_size']}. Macro network: N = {cfg['cells_per_stage']} cells per stage, "
        f"C = {cfg['channels']} channels. Supernet seeds: {cfg['seeds']}. Supernet epochs: "
        f"{cfg['supernet_recipe']['epochs']}. BatchNorm statistics for inherited-weight evaluation: "
        + ("recomputed per sub-network on " + f"{bn['batches']} x {bn['batch_size']} training images" if bn
           else "the supernet's training statistics (not recomputed)") + ".</p>")
    parts.append(f"<p>Ground truth: {html.escape(gt['kind'])}, {gt['count']} cells over ops {gt['ops']}, "
                 f"accuracy {gt['accuracy_range'][0]:.2f}..{gt['accuracy_range'][1]:.2f} %.</p>")
    parts.append("<h2>Correlation with ground truth (mean &plusmn; std over supernet seeds)</h2><table>"
                 "<tr><th>variation</th><th>cells</th><th>Kendall tau</th><th>Spearman</th><th>Pearson</th>"
                 "<th>tau_a</th><th>random sample tau</th></tr>")
    for variation, result in report["results"].items():
        agg = result["aggregate"]
        parts.append(f"<tr><td>{html.escape(variation)}</td><td>{agg['count']}</td>"
                     + "".join(f"<td>{_fmt(agg['all'][m])}</td>" for m in ranking.METRICS)
                     + f"<td>{_fmt(agg['tau_a'])}</td><td>{_fmt(agg['random_sample']['kendall'])}</td></tr>")
    parts.append("</table><h2>Kendall tau over the top-N by ground truth</h2><table><tr><th>variation</th>")
    all_ns = sorted({row["n"] for r in report["results"].values() for row in r["aggregate"]["top_n"]})
    parts.append("".join(f"<th>N={n}</th>" for n in all_ns) + "</tr>")
    for variation, result in report["results"].items():
        by_n = {row["n"]: row["kendall"] for row in result["aggregate"]["top_n"]}
        parts.append(f"<tr><td>{html.escape(variation)}</td>"
                     + "".join(f"<td>{_fmt(by_n[n]) if n in by_n else ''}</td>" for n in all_ns) + "</tr>")
    parts.append("</table><h2>Supernets</h2><table><tr><th>run</th><th>steps</th><th>train s</th>"
                 "<th>final train loss</th><th>final train error %</th></tr>")
    for run, info in report["supernets"].items():
        loss = "" if info["final_train_loss"] is None else f"{info['final_train_loss']:.3f}"
        err = "" if info["final_train_error"] is None else f"{info['final_train_error']:.1f}"
        parts.append(f"<tr><td>{html.escape(run)}</td><td>{info['steps']}</td><td>{info['train_seconds']}</td>"
                     f"<td>{loss}</td><td>{err}</td></tr>")
    parts.append("</table>")
    captions = {"fig_tau_top_n": "Figure 2 style: correlation over the top-N architectures.",
                "fig_op_usage": "Figure 3 style: op usage in the top-N cells.",
                "fig_mean_top_n": "Figure 4 style: mean supernet accuracy of the top-N against N (tau_a).",
                "fig_scatter": "Supernet accuracy against ground truth."}
    for name in FIGURES:
        parts.append(f"<h3>{captions[name]}</h3><img src='{name}.png' style='max-width:100%'>")
    parts.append(f"<p>Full numbers: <a href='report.json'>report.json</a>. Generated {report['created_at']}.</p>"
                 "</body></html>")
    return "\n".join(parts)


__all__ = ["VARIATIONS", "RankingStudy", "RankingStudyConfig", "parse_variation",
           "render_html", "run_ranking_study", "write_report"]
