"""The committee workflow: choose a cascade on the held-out split, report it on the test split,
next to the best single model and the fronts of singles, ensembles and cascades.

"Best single model" is chosen the same fair way: on the held-out split, under the same target
(the most accurate model within the target cost, or the cheapest that reaches the target
accuracy), then reported on the test split. ``train_pool`` trains the pool itself: a fixed list
of architectures, each with several seeds, as a resumable study (``archspace.search.fixed.FixedList``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.committee.cascade import evaluate_cascade
from archspace.committee.figure import plot_committees
from archspace.committee.inputs import PredictionPool
from archspace.committee.pareto import (
    CommitteePoint,
    cascade_points,
    ensemble_points,
    heldout_front_cascades,
    points_table,
    single_points,
)
from archspace.committee.selection import Selection, SelectionConfig, select_cascade
from archspace.evaluation import Evaluator
from archspace.search.fixed import FixedList


@dataclass
class CommitteeReport:
    """What ``run_committees`` found; ``points`` are all on the test split."""

    config: SelectionConfig
    selection: Selection
    chosen: CommitteePoint | None
    reference_single: CommitteePoint
    points: list[CommitteePoint] = field(default_factory=list)
    heldout_examples: int = 0
    test_examples: int = 0

    def gain(self) -> dict[str, float] | None:
        """Test accuracy gained and cost speedup of the chosen cascade over the reference single."""
        if self.chosen is None:
            return None
        return {
            "accuracy_gain_points": 100 * (self.chosen.accuracy - self.reference_single.accuracy),
            "speedup": self.reference_single.average_cost / self.chosen.average_cost,
        }

    def to_dict(self) -> dict[str, Any]:
        config = {k: v for k, v in self.config.__dict__.items() if k != "grid"}
        config["grid"] = {str(k): v for k, v in self.config.grid.items()}
        heldout = self.selection.heldout
        return {
            "config": config,
            "heldout_examples": self.heldout_examples,
            "test_examples": self.test_examples,
            "selected": None if self.chosen is None else {
                "test": self.chosen.to_dict(),
                "heldout": None if heldout is None else heldout.to_dict(),
            },
            "reference_single": self.reference_single.to_dict(),
            "gain_over_single": self.gain(),
            "search": self.selection.stats.to_dict(),
        }


def reference_single(heldout: PredictionPool, config: SelectionConfig) -> int:
    """Index of the single model chosen on the held-out split under the config's target."""
    accuracy = heldout.accuracies()
    costs = heldout.costs
    if config.target_cost is not None:
        fits = costs <= config.target_cost * (1 + 1e-9)
        if fits.any():
            return int(np.flatnonzero(fits)[np.argmax(accuracy[fits])])
        return int(np.argmin(costs))
    if config.target_accuracy is not None:
        fits = accuracy >= config.target_accuracy - 1e-12
        if fits.any():
            return int(np.flatnonzero(fits)[np.argmin(costs[fits])])
    return int(np.argmax(accuracy))


def run_committees(
    heldout: PredictionPool,
    test: PredictionPool,
    config: SelectionConfig,
    fronts: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> CommitteeReport:
    """Select on ``heldout``, evaluate on ``test``; with ``fronts``, every committee kind's points too."""
    if heldout.names != test.names:
        raise ValueError("held-out and test pools must hold the same models in the same order")
    selection = select_cascade(heldout, config, progress)
    singles = single_points(test)
    chosen = None
    if selection.cascade is not None:
        result = evaluate_cascade(test, selection.cascade)
        chosen = CommitteePoint("cascade", result.cascade.members, result.cascade.thresholds,
                                result.accuracy, result.average_cost, result.worst_case_cost)
    points = list(singles)
    if fronts:
        points += ensemble_points(test, config.max_models, config.combine)
        points += cascade_points(test, heldout_front_cascades(heldout, config))
    return CommitteeReport(config, selection, chosen, singles[reference_single(heldout, config)], points,
                           heldout.num_examples, test.num_examples)


def write_outputs(report: CommitteeReport, out_dir: str | Path, title: str = "Committees",
                  cost_label: str = "average cost (flops)") -> dict[str, Path]:
    """``selection.json``, ``committees.csv`` (every point, with front flags) and ``committees.png``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "selection.json", "table": out / "committees.csv", "figure": out / "committees.png"}
    paths["json"].write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    table = points_table(report.points)
    if not table.empty:
        table["members"] = table["members"].map(" ".join)
        table["thresholds"] = table["thresholds"].map(lambda t: " ".join(f"{x:.6g}" for x in t))
    table.to_csv(paths["table"], index=False)
    plot_committees(report.points, paths["figure"], report.chosen, title, cost_label)
    return paths


def train_pool(
    name: str,
    storage: str | Path,
    archs: Sequence[ArchSpec],
    evaluator: Evaluator,
    repeats: int = 2,
    executor: Any = None,
    progress: bool = False,
) -> Any:
    """Create or resume study ``name`` training every arch ``repeats`` times; returns the study."""
    from archspace.study import Study

    study = Study.create(name, storage, seed=0, load_if_exists=True)
    strategy = FixedList(list(archs), repeats)
    study.optimize(strategy, evaluator, strategy.size, executor=executor, progress=progress)
    return study
