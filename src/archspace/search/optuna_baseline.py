"""Optuna's samplers as peers, at Optuna's defaults, driven through Optuna's own ask/tell.

Each cell edge is one categorical parameter ``edge_<i>`` over the space's allowed ops, so Optuna
sees the same choices and spends the same budget as archspace's strategies.

* ``tpe``: ``TPESampler(seed=seed)``, nothing else set. (Before issue 14 this passed
  ``multivariate=False``; Optuna 5.0 (installed here) defaults to multivariate TPE, and the univariate
  sampler is clearly worse here, so the old figures understated the peer.)
* ``optuna-gp``: ``GPSampler(seed=seed)``.
* ``optuna-gp-deterministic``: ``GPSampler(seed=seed, deterministic_objective=True)``, the knob
  Optuna's documentation gives for noise-free objectives (the ``mean`` protocol is one).

``options`` passes further keyword arguments to the sampler unchanged; ``config()`` records every
sampler argument with the value it got (library defaults included) and Optuna's version.
Optuna is in the optional extra ``archspace[peers]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from archspace.search.peers.base import PeerStrategy, call_arguments, require_package
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


class OptunaSampler(PeerStrategy):
    """An Optuna sampler over the per-edge op choices of a cell space."""

    library = "optuna"
    sampler_class = ""

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None,
                 options: dict[str, Any] | None = None) -> None:
        optuna = require_package("optuna", self.name)
        super().__init__(space, seed)
        self.options = dict(options or {})
        arguments = {**self._fixed_arguments(), **self.options, "seed": self.seed}
        cls = getattr(optuna.samplers, self.sampler_class)
        self.peer_arguments = {"class": f"optuna.samplers.{self.sampler_class}",
                               "arguments": call_arguments(cls.__init__, arguments)}
        self._optuna = optuna
        self._distributions = {p: optuna.distributions.CategoricalDistribution(self.choices) for p in self.params}
        self.study = optuna.create_study(direction="minimize", sampler=cls(**arguments))

    def _fixed_arguments(self) -> dict[str, Any]:
        """Arguments the adapter itself sets (a named variant's knob); none for the defaults."""
        return {}

    def _peer_ask(self) -> tuple[dict[str, str], Any]:
        trial = self.study.ask()
        return {p: trial.suggest_categorical(p, self.choices) for p in self.params}, trial

    def _state(self, value: float | None) -> Any:
        states = self._optuna.trial.TrialState
        return states.COMPLETE if value is not None else states.FAIL

    def _peer_tell(self, token: Any, value: float | None) -> None:
        self.study.tell(token, value, state=self._state(value))

    def _peer_add(self, params: dict[str, str], value: float | None) -> None:
        self.study.add_trial(self._optuna.trial.create_trial(
            params=params, distributions=self._distributions, state=self._state(value), value=value))


@STRATEGIES.register("tpe", description="Optuna TPESampler at its defaults (peer)", requires=("optuna",),
                     extra="peers", peer=True)
class OptunaTPE(OptunaSampler):
    """Optuna's TPE; ``n_startup_trials`` and ``multivariate`` are named because they are the
    arguments users most often set (both default to Optuna's own defaults)."""

    name = "tpe"
    sampler_class = "TPESampler"

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None,
                 n_startup_trials: int = 10, multivariate: bool | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.n_startup_trials = n_startup_trials
        self.multivariate = multivariate
        super().__init__(space, seed, options)

    def _fixed_arguments(self) -> dict[str, Any]:
        fixed: dict[str, Any] = {"n_startup_trials": self.n_startup_trials}
        if self.multivariate is not None:
            fixed["multivariate"] = self.multivariate
        return fixed


@STRATEGIES.register("optuna-gp", description="Optuna GPSampler at its defaults (peer)",
                     requires=("optuna", "torch"), extra="peers", peer=True, uses_torch=True, model_based=True)
class OptunaGP(OptunaSampler):
    """Optuna's Gaussian-process sampler (log EI, Matern 5/2 with a Hamming part for categoricals)."""

    name = "optuna-gp"
    sampler_class = "GPSampler"


@STRATEGIES.register("optuna-gp-deterministic",
                     description="Optuna GPSampler(deterministic_objective=True) (peer, documented variant)",
                     requires=("optuna", "torch"), extra="peers", peer=True, uses_torch=True, model_based=True)
class OptunaGPDeterministic(OptunaSampler):
    """``GPSampler(deterministic_objective=True)``: Optuna's documented setting for noise-free objectives."""

    name = "optuna-gp-deterministic"
    sampler_class = "GPSampler"

    def _fixed_arguments(self) -> dict[str, Any]:
        return {"deterministic_objective": True}
