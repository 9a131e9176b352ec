"""Random search: independent draws from the space's sampling distribution.

By default an architecture is never proposed twice (on a tabular benchmark a repeat wastes an
evaluation); set ``distinct=False`` for sampling with replacement.
"""

from __future__ import annotations

import numpy as np

from archspace.arch import ArchSpec
from archspace.evaluation import Result
from archspace.search.base import SearchExhausted, Strategy
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space, as_generator


@STRATEGIES.register("rs", description="random search")
class RandomSearch(Strategy):
    """Propose uniform samples from ``space``; recommend the best one told."""

    name = "rs"

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        distinct: bool = True,
        max_draws: int = 10_000,
    ) -> None:
        self.space = space
        self.rng = as_generator(seed)
        self.distinct = distinct
        self.max_draws = max_draws
        self.history = History()
        self._proposed: set[ArchSpec] = set()

    def ask(self) -> ArchSpec:
        for _ in range(self.max_draws):
            arch = self.space.sample(self.rng)
            if not self.distinct or arch not in self._proposed:
                self._proposed.add(arch)
                return arch
        raise SearchExhausted(f"no unseen architecture in {self.max_draws} draws")

    def tell(self, arch: ArchSpec, result: Result) -> None:
        self._proposed.add(arch)
        self.history.add(arch, result)

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far."""
        return self.history.best_arch
