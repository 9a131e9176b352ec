"""GP bandit (thesis section 4.4.1): a GP over the space's encoding with an upper-confidence-bound
acquisition, as an ask/tell strategy.

The objective is minimized, so the bound used is the lower one, mean - sqrt(beta) * std, and the
candidate with the smallest bound is proposed (the same thing as UCB on the negated objective).
The surrogate, its hyperparameter fits and the acquisition maximization are ``BayesianOptimization``'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.search.bo import BayesianOptimization
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


@STRATEGIES.register("gp-bandit", description="GP bandit: GP on the encoding + upper confidence bound",
                     model_based=True)
class GPBandit(BayesianOptimization):
    """GP-UCB: propose argmin of mean - sqrt(beta) * std over random (or evolved) candidates."""

    name = "gp-bandit"
    needs = ("encode",)

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None, beta: float = 4.0,
                 refit_every: int = 5, **options) -> None:  # noqa: ANN003
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not np.isfinite(beta) or beta < 0:
            raise UsageError(f"beta must be a finite number >= 0, got {beta!r}")
        super().__init__(space, seed, refit_every=refit_every, **options)
        self.beta = float(beta)

    def _propose(self, n: int) -> list[ArchSpec]:
        model, archs, y = self.fit_surrogate()
        width = float(np.sqrt(self.beta))

        def score(candidates: Sequence[ArchSpec]) -> np.ndarray:
            mean, std = model.predict(self.encode(candidates))
            return -(mean - width * std)

        return self.maximize(score, self._proposed, n, self.parents(archs, y))
