"""Optuna's TPE sampler as an external baseline, driven through Optuna's own ask/tell.

Each NB201 edge is one categorical parameter ``edge_<i>`` over the space's allowed ops, so TPE
sees the same 6 choices and spends the same budget as archspace's strategies. Optuna is an
optional dependency (``pip install 'archspace[optuna]'``).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import Strategy
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


def _require_optuna():  # noqa: ANN202
    try:
        import optuna
    except ImportError:
        raise UsageError("the 'tpe' baseline needs Optuna: pip install 'archspace[optuna]'") from None
    return optuna


@STRATEGIES.register("tpe", description="Optuna TPE (external baseline)", requires=("optuna",))
class OptunaTPE(Strategy):
    """TPE over the per-edge op choices of a cell space (needs ``space.ops`` and 6-edge cells)."""

    name = "tpe"

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        n_startup_trials: int = 10,
        multivariate: bool = False,
        n_edges: int = 6,
    ) -> None:
        optuna = _require_optuna()
        if not hasattr(space, "ops"):
            raise UsageError(f"the 'tpe' baseline needs a cell space with per-edge ops, got {space.name!r}")
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**31))
        self.space = space
        self.n_startup_trials = n_startup_trials
        self.multivariate = multivariate
        self.choices = tuple(space.ops)  # type: ignore[attr-defined]
        self.n_edges = n_edges
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=n_startup_trials, multivariate=multivariate
        )
        self.study = optuna.create_study(direction="minimize", sampler=sampler)
        self.history = History()
        self._pending: dict[ArchSpec, list] = defaultdict(list)

    def ask(self) -> ArchSpec:
        trial = self.study.ask()
        ops = tuple(trial.suggest_categorical(f"edge_{i}", self.choices) for i in range(self.n_edges))
        arch = self.space.arch_class(ops=ops)  # type: ignore[call-arg]
        self._pending[arch].append(trial)
        return arch

    def tell(self, arch: ArchSpec, result: Result) -> None:
        optuna = _require_optuna()
        value = self.history.add(arch, result)
        state = optuna.trial.TrialState.COMPLETE if np.isfinite(value) else optuna.trial.TrialState.FAIL
        trials = self._pending.get(arch)
        if trials:
            self.study.tell(trials.pop(0), value if np.isfinite(value) else None, state=state)
            return
        # a result TPE did not ask for (e.g. a warm start): add it as a finished trial
        distributions = {
            f"edge_{i}": optuna.distributions.CategoricalDistribution(self.choices) for i in range(self.n_edges)
        }
        params = {f"edge_{i}": op for i, op in enumerate(arch.ops)}  # type: ignore[attr-defined]
        self.study.add_trial(
            optuna.trial.create_trial(
                params=params, distributions=distributions, state=state,
                value=value if np.isfinite(value) else None,
            )
        )

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far."""
        return self.history.best_arch
