"""hyperopt's TPE as a peer (``hyperopt-tpe``), at its defaults, through hyperopt's own trial API.

``fmin`` owns its loop, so the adapter does what one ``fmin`` iteration does: new trial ids from
``Trials``, ``tpe.suggest(new_ids, domain, trials, seed)`` with a seed drawn from the run's
``numpy`` generator (as ``fmin(rstate=...)`` draws it), the returned documents inserted, and each
result written back into its document (``state`` done, ``result`` loss/status). Each edge is an
``hp.choice`` over the allowed ops. hyperopt 0.2.7 imports ``pkg_resources`` (setuptools < 81);
both are in the optional extra ``archspace[peers]``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from archspace.search.peers.base import PeerStrategy, call_arguments, require_package
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


def _hyperopt() -> Any:
    with warnings.catch_warnings():  # hyperopt's own import of pkg_resources warns
        warnings.simplefilter("ignore")
        return require_package("hyperopt", "hyperopt-tpe")


@STRATEGIES.register("hyperopt-tpe", description="hyperopt tpe.suggest at its defaults (peer)",
                     requires=("hyperopt", "pkg_resources"), extra="peers", peer=True)
class HyperoptTPE(PeerStrategy):
    """hyperopt's TPE (``tpe.suggest`` defaults: 20 startup jobs, gamma 0.25, 24 EI candidates)."""

    name = "hyperopt-tpe"
    library = "hyperopt"

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None,
                 options: dict[str, Any] | None = None) -> None:
        hyperopt = _hyperopt()
        super().__init__(space, seed)
        self.options = dict(options or {})
        self._hp = hyperopt
        self._rstate = np.random.default_rng(self.seed)
        search_space = {p: hyperopt.hp.choice(p, list(self.choices)) for p in self.params}
        self._domain = hyperopt.Domain(lambda _: 0.0, search_space)
        self.trials = hyperopt.Trials()
        self.peer_arguments = {"class": "hyperopt.tpe.suggest",
                               "arguments": call_arguments(hyperopt.tpe.suggest, self.options),
                               "seeding": "fmin-style: seed = rstate.integers(2**31 - 1) per call, "
                                          "rstate = numpy.random.default_rng(seed)"}

    def _peer_ask(self) -> tuple[dict[str, str], Any]:
        new_ids = self.trials.new_trial_ids(1)
        self.trials.refresh()
        seed = int(self._rstate.integers(2**31 - 1))
        docs = self._hp.tpe.suggest(new_ids, self._domain, self.trials, seed, **self.options)
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()
        doc = docs[0]
        params = {p: self.choices[int(doc["misc"]["vals"][p][0])] for p in self.params}
        return params, doc["tid"]

    def _peer_tell(self, token: Any, value: float | None) -> None:
        for doc in self.trials._dynamic_trials:  # the documents Trials hands out and reads back
            if doc["tid"] == token:
                self._finish(doc, value)
                break
        self.trials.refresh()

    def _peer_add(self, params: dict[str, str], value: float | None) -> None:
        tid = self.trials.new_trial_ids(1)[0]
        vals = {p: [self.choices.index(params[p])] for p in self.params}
        misc = {"tid": tid, "cmd": self._domain.cmd, "workdir": None,
                "idxs": {p: [tid] for p in self.params}, "vals": vals}
        doc = self.trials.new_trial_docs([tid], [None], [{"status": "new"}], [misc])[0]
        self._finish(doc, value)
        self.trials.insert_trial_docs([doc])
        self.trials.refresh()

    def _finish(self, doc: dict, value: float | None) -> None:
        doc["state"] = self._hp.JOB_STATE_DONE
        doc["result"] = ({"loss": float(value), "status": self._hp.STATUS_OK} if value is not None
                         else {"status": self._hp.STATUS_FAIL})
