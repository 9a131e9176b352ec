"""SMAC3's Bayesian-optimization facades as peers, at their defaults, through SMAC's ask/tell.

* ``smac-bb``: ``BlackBoxFacade`` (BO with a Gaussian process), SMAC3's general BO facade;
* ``smac-hpo``: ``HyperparameterOptimizationFacade`` (BO with a random forest), the facade SMAC3's
  documentation recommends for categorical, hyperparameter-like spaces.

Each edge is a ``ConfigSpace`` ``Categorical`` over the allowed ops. The ``Scenario`` gets the
configuration space, ``seed``, ``n_trials`` (the budget a user declares; the facades size their
initial design from it, so the harness passes its budget) and a private temporary
``output_directory``; everything else is SMAC's default, ``deterministic=False`` included (the
intensifier may then re-run a configuration: on the ``mean`` protocol a re-run returns the same
value and spends a budget step, as it would for a user). Results go back with
``smac.tell(info, TrialValue(cost=...), save=False)``; a failed result is told with
``StatusType.CRASHED``. SMAC3 is in the optional extra ``archspace[peers]``.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from typing import Any

import numpy as np

from archspace.errors import UsageError
from archspace.search.peers.base import PeerStrategy, call_arguments, require_package
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


class SMACFacade(PeerStrategy):
    """A SMAC3 facade over the per-edge op choices of a cell space."""

    library = "smac"
    facade = ""

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None,
                 n_trials: int = 100, options: dict[str, Any] | None = None) -> None:
        smac = require_package("smac", self.name)
        config_space = require_package("ConfigSpace", self.name)
        if n_trials < 1:
            raise UsageError(f"n_trials must be >= 1, got {n_trials}")
        super().__init__(space, seed)
        self.n_trials = n_trials
        self.options = dict(options or {})
        self._smac = smac
        self._configs = config_space.ConfigurationSpace(seed=self.seed or 0)
        self._configs.add([config_space.Categorical(p, list(self.choices)) for p in self.params])
        folder = tempfile.mkdtemp(prefix="archspace-smac-")
        weakref.finalize(self, shutil.rmtree, folder, True)
        scenario_args = {"n_trials": n_trials, "seed": self.seed or 0, "output_directory": folder, **self.options}
        scenario = smac.Scenario(self._configs, **scenario_args)
        cls = getattr(smac, self.facade)
        logging.getLogger("smac").setLevel(logging.WARNING)
        self.optimizer = cls(scenario, target_function=_never_called, overwrite=True, logging_level=False)
        recorded = {k: v for k, v in scenario_args.items() if k != "output_directory"}
        self.peer_arguments = {"class": f"smac.{self.facade}",
                               "scenario": call_arguments(smac.Scenario.__init__,
                                                          {**recorded, "output_directory": "<temporary>",
                                                           "configspace": "<edge_i: Categorical(ops)>"}),
                               "facade": call_arguments(cls.__init__, {"overwrite": True, "logging_level": False,
                                                                       "scenario": "<above>",
                                                                       "target_function": "<ask/tell>"})}

    def _peer_ask(self) -> tuple[dict[str, str], Any]:
        info = self.optimizer.ask()
        return {p: str(info.config[p]) for p in self.params}, info

    def _value(self, value: float | None) -> Any:
        runhistory = require_package("smac.runhistory.dataclasses", self.name)
        status = require_package("smac.runhistory.enumerations", self.name).StatusType
        if value is None:
            return runhistory.TrialValue(cost=np.inf, status=status.CRASHED)
        return runhistory.TrialValue(cost=float(value), status=status.SUCCESS)

    def _peer_tell(self, token: Any, value: float | None) -> None:
        self.optimizer.tell(token, self._value(value), save=False)

    def _peer_add(self, params: dict[str, str], value: float | None) -> None:
        runhistory = require_package("smac.runhistory.dataclasses", self.name)
        config = self._smac.Configuration(self._configs, values=params) if hasattr(self._smac, "Configuration") \
            else require_package("ConfigSpace", self.name).Configuration(self._configs, values=params)
        info = runhistory.TrialInfo(config=config, seed=self.seed or 0)
        self.optimizer.tell(info, self._value(value), save=False)


def _never_called(config: Any, seed: int = 0) -> float:
    """SMAC wants a target function; the adapter evaluates through ask/tell, never through it."""
    raise RuntimeError("the SMAC adapter evaluates through ask/tell; the target function is never run")


@STRATEGIES.register("smac-bb", description="SMAC3 BlackBoxFacade (BO, GP) at its defaults (peer)",
                     requires=("smac", "ConfigSpace"), extra="peers", peer=True, model_based=True)
class SMACBlackBox(SMACFacade):
    name = "smac-bb"
    facade = "BlackBoxFacade"


@STRATEGIES.register("smac-hpo",
                     description="SMAC3 HyperparameterOptimizationFacade (BO, random forest) at its defaults (peer)",
                     requires=("smac", "ConfigSpace"), extra="peers", peer=True, model_based=True)
class SMACHPO(SMACFacade):
    name = "smac-hpo"
    facade = "HyperparameterOptimizationFacade"
