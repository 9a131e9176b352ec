"""The population strategy: "sample n distinct models from a space within a complexity regime".

This is the strategy behind a design-space study (train a population of n sampled models and look
at its error distribution). It draws its whole population up front with
``Space.sample_distinct`` (rejection sampling inside the regime), so an empty or nearly empty
regime is reported before any training starts, and ``ask`` hands the models out in order.
Same space, n, regime and seed -> the same population in the same order, which is what lets a
Study rebuild it after a restart by replaying its ask/tell log.
"""

from __future__ import annotations

from typing import Any

from archspace.arch import ArchSpec
from archspace.configs import init_config
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import SearchExhausted, Strategy
from archspace.spaces.base import Regime, Space


class PopulationStrategy(Strategy):
    """Propose ``n`` distinct architectures of ``space`` inside ``regime``, then stop."""

    name = "population"

    def __init__(
        self,
        space: Space,
        n: int,
        regime: Regime | None = None,
        seed: int = 0,
        complexity_kwargs: dict[str, Any] | None = None,
        max_draws: int | None = None,
    ) -> None:
        if n < 1:
            raise UsageError(f"a population needs n >= 1 models, got {n}")
        self.space = space
        self.n = n
        self.regime = regime
        self.seed = seed
        self.complexity_kwargs = dict(complexity_kwargs or {})
        self.max_draws = max_draws
        self.population: list[ArchSpec] = space.sample_distinct(
            n, seed, regime, max_draws=max_draws, complexity_kwargs=self.complexity_kwargs)
        self._next = 0
        self.results: dict[ArchSpec, Result] = {}

    def ask(self) -> ArchSpec:
        if self._next >= len(self.population):
            raise SearchExhausted(f"all {self.n} models of the population have been proposed")
        arch = self.population[self._next]
        self._next += 1
        return arch

    def tell(self, arch: ArchSpec, result: Result) -> None:
        self.results[arch] = result

    def config(self) -> dict[str, Any]:
        """The constructor arguments as JSON-ready data (stored with a study)."""
        return {"space": self.space.name, **init_config(self, exclude=("space",))}
