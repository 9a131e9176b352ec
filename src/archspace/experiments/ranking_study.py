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
   ``report.html`` (``archspace.report.ranking.write_report``).

Variations are named switches combined with ``+`` (e.g. ``masked-none+fair``); see ``VARIATIONS``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspace.analysis import ranking
from archspace.configs import check_same_config
from archspace.data import Dataset, load_dataset
from archspace.errors import UsageError
from archspace.evaluators.supernet import SupernetEvaluator
from archspace.evaluators.training import TrainingEvaluator
from archspace.families.nb201.index import benchmark_index_of
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.supernet import PRESETS, SupernetConfig
from archspace.families.nb201.table import OPS
from archspace.progress import ProgressBar
from archspace.report.ranking import write_report
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
# Settings a resumed study may change: variations, seeds and gt_cells may grow (a larger gt_cells
# continues the same seeded cell sequence), and where / how the metrics are computed.
MAY_CHANGE = ("variations", "seeds", "gt_cells", "device", "top_ns", "sample_size")


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


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    """A stored or given config as a resume compares it: the folder is the study (``out_dir``
    however spelled, or after a move), and ``data_dir`` is compared as a resolved folder."""
    config = {k: v for k, v in config.items() if k != "out_dir"}
    if config.get("data_dir"):
        config["data_dir"] = str(Path(config["data_dir"]).expanduser().resolve())
    return config


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
        """Refuse to resume the study in ``out`` under other settings (``MAY_CHANGE`` excepted)."""
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "config.json"
        mine = json.loads(json.dumps(self.config.to_dict()))
        if path.is_file():
            check_same_config(_comparable(json.loads(path.read_text())), _comparable(mine),
                              f"the ranking study in {self.out}", may_change=MAY_CHANGE)
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
        with ProgressBar(f"supernet {variation} s{seed}", enabled=self.progress) as bar:
            train_supernet(config, data, recipe, seed=seed, device=cfg.device, checkpoint=path,
                           progress=_steps_onto(bar) if bar.enabled else None)
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


def _steps_onto(bar: ProgressBar) -> Callable[[Any], None]:
    """A ``train_supernet`` progress callback moving ``bar`` over the supernet's steps."""
    def update(event: Any) -> None:
        bar.update(completed=event.step, total=event.total_steps, status=f"ep {event.epoch} loss {event.loss:.3f}")

    return update


def run_ranking_study(config: RankingStudyConfig, log: Callable[[str], None] | None = None,
                      command_line: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Convenience wrapper: ``RankingStudy(config, log, command_line, progress).run()``."""
    return RankingStudy(config, log, command_line, progress).run()


__all__ = ["MAY_CHANGE", "VARIATIONS", "RankingStudy", "RankingStudyConfig", "parse_variation",
           "run_ranking_study"]
