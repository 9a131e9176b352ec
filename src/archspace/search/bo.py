"""Bayesian optimization over a discrete space: GP surrogate + expected improvement.

``SurrogateSearch`` holds what every model-based strategy shares: ``n_init`` random proposals,
then batches of proposals from ``_propose`` (queued, so parallel asks need no extra model fits),
and acquisition maximization over random candidates (optionally refined by evolution).
``BayesianOptimization`` is the standard variant: a scikit-learn GP with an RBF kernel on
``space.encode``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.acquisition import OPTIMIZERS, maximize_acquisition
from archspace.search.base import SearchExhausted, Strategy
from archspace.search.gp import EncodingGP, expected_improvement
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space, as_generator


class SurrogateSearch(Strategy):
    """Base of model-based strategies: random warm-up, then queued batches of proposals."""

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        n_init: int = 10,
        batch_size: int = 1,
        n_candidates: int = 300,
        optimizer: str = "random",
        max_draws: int = 10_000,
    ) -> None:
        if n_init < 1:
            raise UsageError(f"n_init must be >= 1, got {n_init}")
        if batch_size < 1:
            raise UsageError(f"batch_size must be >= 1, got {batch_size}")
        if n_candidates < 1:
            raise UsageError(f"n_candidates must be >= 1, got {n_candidates}")
        if optimizer not in OPTIMIZERS:
            raise UsageError(f"unknown acquisition optimizer {optimizer!r}; choose from {OPTIMIZERS}")
        self.require(space, (*self.needs, *(("mutate",) if optimizer != "random" else ())))
        self.space = space
        self.rng = as_generator(seed)
        self.n_init = n_init
        self.batch_size = batch_size
        self.n_candidates = n_candidates
        self.optimizer = optimizer
        self.max_draws = max_draws
        self.history = History()
        self._proposed: set[ArchSpec] = set()
        self._queue: list[ArchSpec] = []

    def ask(self) -> ArchSpec:
        while self._queue:
            arch = self._queue.pop(0)
            if arch not in self._proposed:
                return self._mark(arch)
        finite = [a for a, v in self.history.by_arch.items() if np.isfinite(v)]
        if len(finite) >= max(self.n_init, 2):
            self._queue = self._propose(self.batch_size)
            if self._queue:
                return self._mark(self._queue.pop(0))
        return self._mark(self._random())

    def tell(self, arch: ArchSpec, result: Result) -> None:
        self._proposed.add(arch)
        self.history.add(arch, result)

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far."""
        return self.history.best_arch

    # --- for subclasses ------------------------------------------------------------------------
    def _propose(self, n: int) -> list[ArchSpec]:  # pragma: no cover - abstract
        raise NotImplementedError

    def training_data(self) -> tuple[list[ArchSpec], np.ndarray]:
        """Distinct told architectures with a finite objective (best value per architecture)."""
        items = [(a, v) for a, v in self.history.by_arch.items() if np.isfinite(v)]
        return [a for a, _ in items], np.array([v for _, v in items], dtype=float)

    def parents(self, archs: Sequence[ArchSpec], y: np.ndarray, k: int = 10) -> list[ArchSpec]:
        """The ``k`` best training architectures, seeds of the evolutionary acquisition optimizer."""
        return [archs[i] for i in np.argsort(y, kind="stable")[:k]]

    def maximize(self, score, exclude, n_pick: int, parents: Sequence[ArchSpec]) -> list[ArchSpec]:  # noqa: ANN001
        return maximize_acquisition(
            self.space, score, self.rng, exclude=exclude, parents=parents, n_pick=n_pick,
            n_random=self.n_candidates, optimizer=self.optimizer,
        )

    def _mark(self, arch: ArchSpec) -> ArchSpec:
        self._proposed.add(arch)
        return arch

    def _random(self) -> ArchSpec:
        for _ in range(self.max_draws):
            arch = self.space.sample(self.rng)
            if arch not in self._proposed:
                return arch
        raise SearchExhausted(f"no unseen architecture in {self.max_draws} draws")


@STRATEGIES.register("bo", description="Bayesian optimization, GP + EI on the one-hot encoding", model_based=True)
class BayesianOptimization(SurrogateSearch):
    """GP (RBF kernel on ``space.encode``, marginal-likelihood hyperparameters) + EI.

    Hyperparameters are re-optimized (warm-started) on every ``refit_every``-th model fit and
    kept fixed in between, which makes a step cost a Cholesky instead of an L-BFGS run.
    """

    name = "bo"
    needs = ("encode",)

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        refit_every: int = 5,
        **options,  # noqa: ANN003
    ) -> None:
        super().__init__(space, seed, **options)
        if refit_every < 1:
            raise UsageError(f"refit_every must be >= 1, got {refit_every}")
        self.refit_every = refit_every
        self._codes: dict[ArchSpec, np.ndarray] = {}
        self._kernel = None
        self._fits = 0

    def encode(self, archs: Sequence[ArchSpec]) -> np.ndarray:
        """Stacked encodings, cached per architecture."""
        rows = []
        for arch in archs:
            code = self._codes.get(arch)
            if code is None:
                code = self._codes[arch] = np.asarray(self.space.encode(arch), dtype=float)
            rows.append(code)
        return np.stack(rows)

    def fit_surrogate(self) -> tuple[EncodingGP, list[ArchSpec], np.ndarray]:
        """The GP fitted to the told results (hyperparameters re-fitted every ``refit_every``-th
        call, warm-started), with its training architectures and objectives."""
        archs, y = self.training_data()
        optimize = self._fits % self.refit_every == 0
        model = EncodingGP(self._kernel, optimize=optimize, seed=int(self.rng.integers(2**31)))
        model.fit(self.encode(archs), y)
        self._kernel, self._fits = model.kernel_, self._fits + 1
        return model, archs, y

    def _propose(self, n: int) -> list[ArchSpec]:
        model, archs, y = self.fit_surrogate()
        best = model.standardize(float(y.min()))

        def score(candidates: Sequence[ArchSpec]) -> np.ndarray:
            mean, std = model.predict(self.encode(candidates))
            return expected_improvement(mean, std, best)

        return self.maximize(score, self._proposed, n, self.parents(archs, y))
