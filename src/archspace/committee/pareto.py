"""Accuracy vs average cost of single models, ensembles and cascades, and their Pareto fronts.

Fronts are chosen on the held-out split and reported on the test split: ``cascade_points`` takes
the cascades of the held-out front (``select_cascade`` without a target) and evaluates them on the
test examples, sharing each member tuple's running averages between all its threshold settings.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from archspace.committee.cascade import Cascade, exits, stage_outputs, worst_case_cost
from archspace.committee.ensemble import Combine, evaluate_ensemble
from archspace.committee.inputs import PredictionPool
from archspace.committee.selection import SelectionConfig, front_indices, select_cascade

Kind = Literal["single", "ensemble", "cascade"]


@dataclass(frozen=True)
class CommitteePoint:
    """One committee's accuracy and cost on a split."""

    kind: Kind
    members: tuple[str, ...]
    thresholds: tuple[float, ...]
    accuracy: float
    average_cost: float
    worst_case_cost: float

    def describe(self) -> str:
        if self.kind == "cascade":
            return Cascade(self.members, self.thresholds).describe()
        return " + ".join(self.members)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "committee": self.describe(),
            "members": list(self.members),
            "thresholds": list(self.thresholds),
            "accuracy": self.accuracy,
            "average_cost": self.average_cost,
            "worst_case_cost": self.worst_case_cost,
        }


def single_points(pool: PredictionPool) -> list[CommitteePoint]:
    """Every model of the pool on its own."""
    accuracies = pool.accuracies()
    return [
        CommitteePoint("single", (name,), (), float(accuracy), float(cost), float(cost))
        for name, accuracy, cost in zip(pool.names, accuracies, pool.costs, strict=True)
    ]


def ensemble_points(pool: PredictionPool, max_models: int = 4, combine: Combine = "logits") -> list[CommitteePoint]:
    """Every unordered combination of 2..max_models models, averaged."""
    points = []
    for size in range(2, min(max_models, pool.num_models) + 1):
        for members in itertools.combinations(pool.names, size):
            result = evaluate_ensemble(pool, members, combine)
            points.append(CommitteePoint("ensemble", members, (), result.accuracy, result.cost, result.cost))
    return points


def cascade_points(pool: PredictionPool, cascades: Sequence[Cascade]) -> list[CommitteePoint]:
    """``cascades`` evaluated on ``pool``; cascades with the same members share their stage outputs."""
    groups: dict[tuple[Any, ...], list[Cascade]] = defaultdict(list)
    for cascade in cascades:
        groups[(cascade.members, cascade.confidence, cascade.combine)].append(cascade)
    points = []
    for group in groups.values():
        confidences, predictions = stage_outputs(pool, group[0])
        stage_costs = np.cumsum([pool.costs[pool.index(m)] for m in group[0].members])
        for cascade in group:
            stage = exits(confidences, cascade.thresholds)
            chosen = predictions[stage, np.arange(pool.num_examples)]
            points.append(CommitteePoint(
                "cascade", cascade.members, cascade.thresholds,
                accuracy=float((chosen == pool.labels).mean()),
                average_cost=float(stage_costs[stage].mean()),
                worst_case_cost=worst_case_cost(np.diff(stage_costs, prepend=0.0), cascade.thresholds),
            ))
    return points


def heldout_front_cascades(heldout: PredictionPool, config: SelectionConfig, max_points: int | None = 400) -> list[Cascade]:
    """The cascades on the held-out accuracy / average-cost front (the config's target is ignored).

    ``max_points``: keep at most this many, evenly spaced along the front (cheapest and most
    accurate always kept), enough for a figure and a readable table.
    """
    untargeted = SelectionConfig(**{**config.__dict__, "target_cost": None, "target_accuracy": None})
    cascades = [point.cascade for point in select_cascade(heldout, untargeted).front]
    if max_points is not None and len(cascades) > max_points:
        keep = np.unique(np.linspace(0, len(cascades) - 1, max_points).round().astype(int))
        cascades = [cascades[i] for i in keep]
    return cascades


def front(points: Sequence[CommitteePoint]) -> list[CommitteePoint]:
    """The points no other point beats on both accuracy and average cost, cheapest first."""
    if not points:
        return []
    cost = np.array([p.average_cost for p in points])
    accuracy = np.array([p.accuracy for p in points])
    return [points[i] for i in front_indices(cost, accuracy)]


def points_table(points: Sequence[CommitteePoint]) -> pd.DataFrame:
    """One row per committee, with whether it is on the front of its kind and on the overall front."""
    table = pd.DataFrame([p.to_dict() for p in points])
    if table.empty:
        return table
    overall = {id(p) for p in front(points)}
    kind_front = {id(p) for kind in ("single", "ensemble", "cascade") for p in front([q for q in points if q.kind == kind])}
    table["on_kind_front"] = [id(p) in kind_front for p in points]
    table["on_front"] = [id(p) in overall for p in points]
    return table
