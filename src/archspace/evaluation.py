"""The evaluator contract shared by the trainer, tabular benchmarks and supernets.

An evaluator turns (arch, seed) into a ``Result``. The ``objective`` of a result is the number a
search minimizes (e.g. validation error in percent; a benchmark that reports accuracy sets
``objective = 100 - accuracy``), so every strategy can treat lower as better.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from archspace.arch import ArchSpec

Status = Literal["complete", "diverged", "failed"]


@dataclass
class Result:
    """What one evaluation measured.

    objective: value to minimize (None when the evaluation failed).
    metrics: named numbers (errors, accuracies, losses, images/s ...).
    cost: resources spent or implied (flops, params, acts, seconds, simulated_seconds ...).
    predictions: optional per-example arrays, e.g. ``val_logits``, ``val_labels``, ``test_logits``.
    """

    objective: float | None
    metrics: dict[str, float] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    status: Status = "complete"
    predictions: dict[str, np.ndarray] | None = None
    info: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Evaluator(Protocol):
    """Anything with ``evaluate(arch, seed) -> Result``."""

    def evaluate(self, arch: ArchSpec, seed: int) -> Result: ...
