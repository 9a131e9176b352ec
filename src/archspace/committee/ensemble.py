"""Ensembles: the average of several models' logits (default) or probabilities.

Cascades reuse ``running_sums``: the prediction after stage ``k`` is the ensemble of the first
``k`` members, so a cascade that never exits early is exactly the ensemble. Sums are float32 and
taken in member order everywhere (ensembles, cascade evaluation, cascade search), and the
predicted class is the argmax of the sum, so all three agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from archspace.committee.inputs import PredictionPool, softmax
from archspace.errors import UsageError

Combine = Literal["logits", "probs"]


@dataclass(frozen=True)
class EnsembleResult:
    """Accuracy, cost (sum of member costs) and the per-example predicted classes."""

    members: tuple[str, ...]
    accuracy: float
    cost: float
    predictions: np.ndarray


def check_combine(combine: str) -> None:
    if combine not in ("logits", "probs"):
        raise UsageError(f"combine must be 'logits' or 'probs', got {combine!r}")


def member_indices(pool: PredictionPool, members: Sequence[int | str]) -> list[int]:
    """Pool positions of ``members``; an empty list is an error."""
    if len(members) == 0:
        raise UsageError("a committee needs at least one member")
    return [pool.index(m) for m in members]


def member_term(pool: PredictionPool, index: int, combine: Combine) -> np.ndarray:
    """What a member adds to the running sum: its float32 logits or probabilities."""
    return pool.logits[index] if combine == "logits" else softmax(pool.logits[index])


def running_sums(pool: PredictionPool, members: Sequence[int | str], combine: Combine = "logits") -> Iterator[np.ndarray]:
    """float32 sums (N, C) of the first 1, 2, ... members' terms, in member order."""
    check_combine(combine)
    total: np.ndarray | None = None
    for index in member_indices(pool, members):
        term = member_term(pool, index, combine)
        total = term if total is None else total + term
        yield total


def ensemble_probabilities(pool: PredictionPool, members: Sequence[int | str], combine: Combine = "logits") -> np.ndarray:
    """Class probabilities (N, C) of the ensemble of ``members``."""
    *_, total = running_sums(pool, members, combine)
    average = total / len(members)
    return softmax(average) if combine == "logits" else average


def evaluate_ensemble(pool: PredictionPool, members: Sequence[int | str], combine: Combine = "logits") -> EnsembleResult:
    """Accuracy and cost of averaging ``members`` on the pool's examples."""
    indices = member_indices(pool, members)
    *_, total = running_sums(pool, indices, combine)
    predictions = total.argmax(axis=1)
    return EnsembleResult(
        members=tuple(pool.names[i] for i in indices),
        accuracy=float((predictions == pool.labels).mean()),
        cost=float(pool.costs[indices].sum()),
        predictions=predictions,
    )
