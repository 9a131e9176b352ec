"""Cascades (the thesis's Algorithm 4): run models in order, exit as soon as one is sure.

Stage ``k`` predicts with the running average of the first ``k`` members' outputs (logits by
default); an example leaves after stage ``k`` when the confidence of that running prediction is
``>= t_k``. The last stage answers whatever remains. Thresholds live on the confidence's [0, 1]
scale: a threshold of 0 exits every example at that stage, a threshold of 1 (or more) exits none.
So a cascade whose thresholds are all 1 is the ensemble of its members, and one whose first
threshold is 0 is its first model.

Costs: an example that exits after stage ``k`` costs the sum of the first ``k`` members' costs.
The worst-case cost is that sum up to the last stage any example can reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archspace.committee.confidence import confidence_of_sum, get_confidence
from archspace.committee.ensemble import Combine, check_combine, member_indices, running_sums
from archspace.committee.inputs import PredictionPool
from archspace.errors import UsageError


@dataclass(frozen=True)
class Cascade:
    """An ordered committee: members (pool names) and one threshold per stage but the last."""

    members: tuple[str, ...]
    thresholds: tuple[float, ...]
    confidence: str = "max_prob"
    combine: Combine = "logits"

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "thresholds", tuple(float(t) for t in self.thresholds))
        if not self.members:
            raise UsageError("a cascade needs at least one member")
        if len(self.thresholds) != len(self.members) - 1:
            raise UsageError(
                f"a cascade of {len(self.members)} models needs {len(self.members) - 1} thresholds, "
                f"got {len(self.thresholds)}"
            )
        if any(np.isnan(t) for t in self.thresholds):
            raise UsageError(f"thresholds must be numbers, got {self.thresholds}")
        get_confidence(self.confidence)
        check_combine(self.combine)

    def to_dict(self) -> dict[str, Any]:
        return {
            "members": list(self.members),
            "thresholds": list(self.thresholds),
            "confidence": self.confidence,
            "combine": self.combine,
        }

    def describe(self) -> str:
        """``a -> b -> c`` with the thresholds between stages."""
        parts = [self.members[0]]
        for threshold, member in zip(self.thresholds, self.members[1:], strict=True):
            parts.append(f"({threshold:.3g}) {member}")
        return " -> ".join(parts)


@dataclass(frozen=True)
class CascadeResult:
    """What a cascade achieved on one labelled split."""

    cascade: Cascade
    accuracy: float
    average_cost: float
    worst_case_cost: float
    exit_ratio: np.ndarray
    predictions: np.ndarray = field(repr=False)
    exit_stage: np.ndarray = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.cascade.to_dict(),
            "accuracy": self.accuracy,
            "average_cost": self.average_cost,
            "worst_case_cost": self.worst_case_cost,
            "exit_ratio": self.exit_ratio.tolist(),
        }


def exits(confidences: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """Stage (0-based) at which each item exits, from per-stage confidences of shape (K, ...)."""
    stages = confidences.shape[0]
    if len(thresholds) != stages - 1:
        raise UsageError(f"{stages} stages need {stages - 1} thresholds, got {len(thresholds)}")
    limits = np.asarray(thresholds, dtype=np.float64).reshape((-1,) + (1,) * (confidences.ndim - 1))
    leaves = (confidences[:-1] >= limits) & (limits < 1.0)
    leaves = np.concatenate([leaves, np.ones((1,) + confidences.shape[1:], dtype=bool)])
    return leaves.argmax(axis=0)


def worst_case_cost(stage_costs: np.ndarray, thresholds: Sequence[float]) -> float:
    """Total cost up to the first stage whose threshold exits everything (or of all stages)."""
    cumulative = np.cumsum(stage_costs)
    for stage, threshold in enumerate(thresholds):
        if threshold <= 0.0:
            return float(cumulative[stage])
    return float(cumulative[-1])


def stage_outputs(
    pool: PredictionPool, cascade: Cascade
) -> tuple[np.ndarray, np.ndarray]:
    """Per-stage confidences and predicted classes of the running averages, each (K, N)."""
    confidences, predictions = [], []
    for count, total in enumerate(running_sums(pool, cascade.members, cascade.combine), start=1):
        confidences.append(confidence_of_sum(total, count, cascade.combine, cascade.confidence))
        predictions.append(total.argmax(axis=1))
    return np.stack(confidences), np.stack(predictions)


def evaluate_cascade(pool: PredictionPool, cascade: Cascade) -> CascadeResult:
    """Accuracy, average and worst-case cost and per-stage exit ratios of ``cascade`` on ``pool``."""
    indices = member_indices(pool, cascade.members)
    confidences, predictions = stage_outputs(pool, cascade)
    stage = exits(confidences, cascade.thresholds)
    chosen = np.take_along_axis(predictions, stage[None, :], axis=0)[0]
    stage_costs = pool.costs[indices]
    exit_ratio = np.bincount(stage, minlength=len(indices)) / pool.num_examples
    return CascadeResult(
        cascade=cascade,
        accuracy=float((chosen == pool.labels).mean()),
        average_cost=float(exit_ratio @ np.cumsum(stage_costs)),
        worst_case_cost=worst_case_cost(stage_costs, cascade.thresholds),
        exit_ratio=exit_ratio,
        predictions=chosen,
        exit_stage=stage,
    )
