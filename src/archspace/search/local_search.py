"""Local search (steepest descent with random restarts), White et al. 2021.

Start from the best of ``n_init`` random architectures, evaluate its whole distance-1
neighborhood in random order, move to the best neighbor if it improves on the current
architecture, otherwise restart from a fresh random sample. While results of the current
neighborhood are still outstanding (parallel asks), proposals are random samples.
"""

from __future__ import annotations

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import SearchExhausted, Strategy
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space, as_generator


@STRATEGIES.register("ls", description="local search")
class LocalSearch(Strategy):
    """Hill climbing over ``space.neighbors(arch, 1)`` with random restarts."""

    name = "ls"
    needs = ("neighbors",)

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        n_init: int = 10,
        max_draws: int = 10_000,
    ) -> None:
        if n_init < 1:
            raise UsageError(f"n_init must be >= 1, got {n_init}")
        self.require(space)
        self.space = space
        self.rng = as_generator(seed)
        self.n_init = n_init
        self.max_draws = max_draws
        self.history = History()
        self._proposed: set[ArchSpec] = set()
        self._init_asked = 0
        self._current: ArchSpec | None = None
        self._restart: ArchSpec | None = None
        self._neighborhood: list[ArchSpec] = []
        self._queue: list[ArchSpec] = []

    def ask(self) -> ArchSpec:
        if self._init_asked < self.n_init:
            self._init_asked += 1
            return self._random()
        if self._current is None and not self._start():
            return self._random()
        while True:
            while self._queue:
                arch = self._queue.pop()
                if arch not in self._proposed:
                    self._proposed.add(arch)
                    return arch
            if any(n not in self.history for n in self._neighborhood):
                return self._random()  # neighborhood results still outstanding
            if not self._step():
                self._current = None
                self._restart = self._random()
                return self._restart

    def tell(self, arch: ArchSpec, result: Result) -> None:
        self._proposed.add(arch)
        self.history.add(arch, result)

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far."""
        return self.history.best_arch

    # --- internals ---------------------------------------------------------------------------
    def _start(self) -> bool:
        """Pick the starting point (restart sample or best so far) once its result is known."""
        start = self._restart if self._restart is not None else self.history.best_arch
        if start is None or start not in self.history:
            return False
        self._restart = None
        self._move_to(start)
        return True

    def _step(self) -> bool:
        """Move to the best neighbor if it improves on the current point; False at a minimum."""
        assert self._current is not None
        best = min(self._neighborhood, key=lambda n: self.history.by_arch[n], default=None)
        if best is None or self.history.by_arch[best] >= self.history.by_arch[self._current]:
            return False
        self._move_to(best)
        return True

    def _move_to(self, arch: ArchSpec) -> None:
        self._current = arch
        self._neighborhood = list(self.space.neighbors(arch, 1))
        order = self.rng.permutation(len(self._neighborhood))
        self._queue = [self._neighborhood[i] for i in order if self._neighborhood[i] not in self._proposed]

    def _random(self) -> ArchSpec:
        for _ in range(self.max_draws):
            arch = self.space.sample(self.rng)
            if arch not in self._proposed:
                self._proposed.add(arch)
                return arch
        raise SearchExhausted(f"no unseen architecture in {self.max_draws} draws")
