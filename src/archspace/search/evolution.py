"""Regularized (aging) evolution, Real et al. 2019.

A population of the ``population_size`` most recently told architectures; each child is a
mutation of the best of ``sample_size`` members drawn uniformly without replacement; the oldest
member dies when a child joins. Until the population is full, proposals are random samples.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import Strategy, draw_unseen
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space, as_generator


@STRATEGIES.register("re", description="regularized evolution")
class RegularizedEvolution(Strategy):
    """Aging evolution with tournament selection and ``space.mutate`` as the only operator.

    ``distinct``: retry a mutation (up to ``max_retries`` times) when the child was already
    proposed, so a tabular run does not spend evaluations on repeats.
    """

    name = "re"
    needs = ("mutate",)

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        population_size: int = 10,
        sample_size: int = 3,
        distinct: bool = True,
        max_retries: int = 20,
    ) -> None:
        if population_size < 1:
            raise UsageError(f"population_size must be >= 1, got {population_size}")
        if not 1 <= sample_size <= population_size:
            raise UsageError(
                f"sample_size must be in 1..population_size ({population_size}), got {sample_size}"
            )
        self.require(space)
        self.space = space
        self.rng = as_generator(seed)
        self.population_size = population_size
        self.sample_size = sample_size
        self.distinct = distinct
        self.max_retries = max_retries
        self.history = History()
        self.population: deque[tuple[ArchSpec, float]] = deque(maxlen=population_size)
        self._proposed: set[ArchSpec] = set()

    def ask(self) -> ArchSpec:
        if len(self.population) < self.population_size:
            arch = self._fresh(self.space.sample)
        else:
            parent = self._tournament()
            arch = self._fresh(lambda rng: self.space.mutate(parent, rng))
        self._proposed.add(arch)
        return arch

    def _tournament(self) -> ArchSpec:
        picks = self.rng.permutation(len(self.population))[: self.sample_size]
        best = min(picks.tolist(), key=lambda i: (self.population[i][1], i))
        return self.population[best][0]

    def _fresh(self, draw) -> ArchSpec:  # noqa: ANN001 - draw(rng) -> ArchSpec
        return draw_unseen(draw, self.rng, self._proposed, self.max_retries if self.distinct else 0)

    def tell(self, arch: ArchSpec, result: Result) -> None:
        value = self.history.add(arch, result)
        self._proposed.add(arch)
        self.population.append((arch, value))

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far (not only the living population)."""
        return self.history.best_arch
