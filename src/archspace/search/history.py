"""What a strategy has been told so far: objectives per architecture and the incumbent.

Every sample-based strategy keeps one ``History``; it turns failed results (objective ``None``)
into ``+inf`` so that "lower is better" comparisons never need a special case.
"""

from __future__ import annotations

import math

from archspace.arch import ArchSpec
from archspace.evaluation import Result


def objective_of(result: Result) -> float:
    """The minimized objective of a result; failed or missing objectives count as +inf."""
    value = result.objective
    if value is None or result.status != "complete" or not math.isfinite(value):
        return math.inf
    return float(value)


class History:
    """Told architectures in order, their objectives, and the best one (first wins ties)."""

    def __init__(self) -> None:
        self.archs: list[ArchSpec] = []
        self.objectives: list[float] = []
        self.by_arch: dict[ArchSpec, float] = {}
        self.best_arch: ArchSpec | None = None
        self.best_objective: float = math.inf

    def __len__(self) -> int:
        return len(self.archs)

    def __contains__(self, arch: object) -> bool:
        return arch in self.by_arch

    def add(self, arch: ArchSpec, result: Result) -> float:
        """Record one result; returns its objective (+inf when failed)."""
        value = objective_of(result)
        self.archs.append(arch)
        self.objectives.append(value)
        previous = self.by_arch.get(arch)
        self.by_arch[arch] = value if previous is None else min(previous, value)
        if value < self.best_objective or self.best_arch is None:
            self.best_arch, self.best_objective = arch, value
        return value
