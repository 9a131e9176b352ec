"""Optuna's TPE over a space's raw operation parameters (the thesis's TPE baseline, ch. 2).

For the teacher-compression space the parameters are the per-layer hyperparameters themselves:
``remove_<layer>`` and ``skip_<i>_<j>`` (categorical true/false) and ``shrink_<group>`` (a float
in [min_ratio, 1]); ``space.operation_parameters()`` lists them and
``space.operations_from_parameters`` / ``space.candidate_of`` turn a trial's values into a
candidate. The sampler is ``optuna.samplers.TPESampler(seed=seed)``, Optuna's defaults, driven
through ``study.ask`` / ``study.tell``. TPE can propose a candidate the space rejects (say, one
that removes every removable layer): it is proposed all the same, as the thesis's baseline does,
and the evaluator scores it (the compression reward gives -1).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import Strategy
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


def _optuna() -> Any:
    try:
        import optuna
    except ImportError:
        raise UsageError("search algorithm 'tpe-ops' needs Optuna: pip install 'archspace[peers]'") from None
    return optuna


@STRATEGIES.register("tpe-ops", description="Optuna TPE (defaults) over a space's raw operation parameters",
                     requires=("optuna",), spaces=("teacher",))
class OperationTPE(Strategy):
    """TPE over ``space.operation_parameters()`` (the teacher space's per-layer operations)."""

    name = "tpe-ops"

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None) -> None:
        optuna = _optuna()
        for method in ("operation_parameters", "operations_from_parameters", "candidate_of", "parameters_of"):
            if not hasattr(space, method):
                raise UsageError(f"search algorithm 'tpe-ops' needs a space with raw operation parameters "
                                 f"(e.g. 'teacher'); space {getattr(space, 'name', space)!r} has none")
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(2**31))
        self.space = space
        self.distributions = {p["name"]: self._distribution(optuna, p) for p in space.operation_parameters()}
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.study = optuna.create_study(direction="minimize", sampler=optuna.samplers.TPESampler(seed=seed))
        self.history = History()
        self._pending: dict[ArchSpec, list] = defaultdict(list)

    @staticmethod
    def _distribution(optuna: Any, parameter: dict[str, Any]) -> Any:
        if parameter["type"] == "bool":
            return optuna.distributions.CategoricalDistribution((False, True))
        return optuna.distributions.FloatDistribution(parameter["low"], parameter["high"])

    def ask(self) -> ArchSpec:
        trial = self.study.ask(self.distributions)
        ops = self.space.operations_from_parameters(trial.params)  # type: ignore[attr-defined]
        arch = self.space.candidate_of(ops)  # type: ignore[attr-defined]
        self._pending[arch].append(trial)
        return arch

    def tell(self, arch: ArchSpec, result: Result) -> None:
        optuna = _optuna()
        value = self.history.add(arch, result)
        state = optuna.trial.TrialState.COMPLETE if np.isfinite(value) else optuna.trial.TrialState.FAIL
        finite = value if np.isfinite(value) else None
        trials = self._pending.get(arch)
        if trials:
            self.study.tell(trials.pop(0), finite, state=state)
            return
        # a result TPE did not ask for (a warm start): add it as a finished trial
        params = self.space.parameters_of(arch)  # type: ignore[attr-defined]
        self.study.add_trial(optuna.trial.create_trial(params=params, distributions=self.distributions, state=state,
                                                       value=finite))

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far."""
        return self.history.best_arch
