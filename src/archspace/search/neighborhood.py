"""Neighborhood-aware search (thesis, ch. 3): judge an architecture by its neighborhood.

The wrapper takes any strategy. For each architecture ``a`` the inner strategy proposes, it
evaluates ``a`` and ``n_nbr`` neighbors sampled uniformly without replacement from
``space.neighbors(a, distance)`` (all cells within edit distance ``distance``), then tells the
inner strategy the criterion ``g(f(N(a)))`` instead of ``f(a)``. Every neighbor evaluation is an
``ask`` of the wrapper, so a budget of T evaluations buys about T / (n_nbr + 1) inner proposals
(NA-RS is compared with a random search of the same number of evaluations). Architectures whose
results are already known are reused, not re-evaluated.

Criteria over the objective (lower is better; the first column is ``f(a)`` itself):
``mean``, ``median``, ``max`` (the worst neighbor: a pessimistic, flatness-seeking criterion) and
``std``: ``f(a) + lam * std(f(N(a)))``, which penalizes sharp architectures.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from archspace.arch import ArchSpec
from archspace.configs import init_config
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import SearchExhausted, Strategy
from archspace.search.history import History, objective_of
from archspace.spaces.base import Space, as_generator

CRITERIA: tuple[str, ...] = ("mean", "median", "max", "std")


def check_criterion(criterion: str) -> str:
    if criterion not in CRITERIA:
        raise UsageError(f"unknown neighborhood criterion {criterion!r}; choose from {CRITERIA}")
    return criterion


def neighborhood_criterion(values: np.ndarray, criterion: str = "mean", lam: float = 1.0) -> np.ndarray:
    """g over the last axis of ``values`` (column 0 = f(a), the rest its neighbors); vectorized.

    ``values`` of shape (..., 1 + n_nbr) gives shape (...). NaN entries (missing neighbors) are
    ignored.
    """
    check_criterion(criterion)
    values = np.asarray(values, dtype=float)
    if criterion == "mean":
        return np.nanmean(values, axis=-1)
    if criterion == "median":
        return np.nanmedian(values, axis=-1)
    if criterion == "max":
        return np.nanmax(values, axis=-1)
    return values[..., 0] + lam * np.nanstd(values, axis=-1)


@dataclass
class _Group:
    """An inner proposal and the neighborhood being evaluated for it."""

    center: ArchSpec
    members: list[ArchSpec]
    values: dict[ArchSpec, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return len(self.values) == len(self.members)


class NeighborhoodAware(Strategy):
    """Wrap ``inner`` so that it optimizes ``g(f(N(a)))``; recommends the best center by g."""

    needs = ("neighbors",)

    def __init__(
        self,
        inner: Strategy,
        space: Space,
        seed: int | np.random.Generator | None = None,
        n_nbr: int = 3,
        distance: int = 1,
        criterion: str = "mean",
        lam: float = 1.0,
        max_inner_asks: int = 10_000,
    ) -> None:
        if n_nbr < 0:
            raise UsageError(f"n_nbr must be >= 0, got {n_nbr}")
        if distance < 1:
            raise UsageError(f"distance must be >= 1, got {distance}")
        self.require(space)
        self.inner = inner
        self.space = space
        self.rng = as_generator(seed)
        self.n_nbr = n_nbr
        self.distance = distance
        self.criterion = check_criterion(criterion)
        self.lam = lam
        self.max_inner_asks = max_inner_asks
        self.name = f"na-{inner.name}" if inner.name else "na"
        self.history = History()
        self.centers: list[tuple[ArchSpec, float]] = []
        self.best_center: ArchSpec | None = None
        self.best_value = np.inf
        self._queue: deque[ArchSpec] = deque()
        self._waiting: dict[ArchSpec, list[_Group]] = {}

    def ask(self) -> ArchSpec:
        for _ in range(self.max_inner_asks):
            if self._queue:
                return self._queue.popleft()
            self._open(self.inner.ask())
        raise SearchExhausted(f"{self.max_inner_asks} inner proposals brought no new architecture")

    def tell(self, arch: ArchSpec, result: Result) -> None:
        value = self.history.add(arch, result)
        for group in self._waiting.pop(arch, []):
            group.values[arch] = value
            if group.complete:
                self._close(group)

    def config(self) -> dict:
        """Wrapper arguments and the inner strategy's config, stored by a Study."""
        return {"name": self.name, **init_config(self, exclude=("inner", "space", "seed")),
                "inner": self.inner.config()}

    def recommend(self) -> ArchSpec | None:
        """The center with the best criterion so far (None before any neighborhood completes)."""
        return self.best_center

    # --- internals ---------------------------------------------------------------------------
    def _open(self, center: ArchSpec) -> None:
        pool = self.space.neighbors(center, self.distance)
        k = min(self.n_nbr, len(pool))
        picks = self.rng.choice(len(pool), size=k, replace=False) if k else []
        group = _Group(center, [center] + [pool[i] for i in picks])
        for member in group.members:
            if member in self.history:
                group.values[member] = self.history.by_arch[member]
                continue
            if member not in self._waiting:
                self._waiting[member] = []
                self._queue.append(member)
            self._waiting[member].append(group)
        if group.complete:
            self._close(group)

    def _close(self, group: _Group) -> None:
        values = np.array([group.values[m] for m in group.members])
        value = float(neighborhood_criterion(values, self.criterion, self.lam))
        self.centers.append((group.center, value))
        if value < self.best_value:
            self.best_center, self.best_value = group.center, value
        result = Result(
            objective=value if np.isfinite(value) else None,
            metrics={"center_objective": float(values[0]), "neighborhood_std": float(np.std(values))},
            status="complete" if np.isfinite(value) else "failed",
            info={"neighbors": len(values) - 1, "criterion": self.criterion},
        )
        self.inner.tell(group.center, result)


__all__ = ["CRITERIA", "NeighborhoodAware", "neighborhood_criterion", "objective_of"]
