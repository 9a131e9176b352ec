"""A Study: a named, persistent, resumable set of trials in an SQLite file.

Python API (what other areas call)::

    from archspace.study import Study, LocalProcessExecutor
    study = Study.create("regnetx-400mf", "runs/studies.db", seed=0)   # or Study.load(...)
    study.optimize(strategy, evaluator, n_trials=100, executor=LocalProcessExecutor(2))
    df = study.trials_dataframe()          # one row per trial
    arrays = study.load_predictions(7)     # per-example predictions of trial 7 (dict of arrays)

- ``Study.create(name, storage, seed=0, config=None, load_if_exists=False)``: ``storage`` is a path,
  a ``sqlite:///`` URL or an open ``Storage``. ``config`` is free JSON stored with the study (the
  CLI keeps its arguments there).
- ``Study.load(name, storage)``; ``Study.list(storage)`` summarizes every study in a file.
- ``study.optimize(strategy, evaluator, n_trials, executor=None, progress=False)``: runs until the
  study has ``n_trials`` finished trials (complete + diverged + failed; ``n_trials`` is the study's
  total, not "n more"), so calling it again after a crash or Ctrl-C resumes. Pass a *freshly
  constructed* strategy with the same arguments and seed each time: the study replays its stored
  ask/tell log into it (see ``archspace.study.driver``) and then continues the same sequence.
- ``study.trials_dataframe()``: columns ``number, state, arch_json, arch_hash, objective``, then one
  column per metric name, one per cost name (a cost name that is also a metric name becomes
  ``cost_<name>``; a metric or cost named like a fixed column gets a ``metric_`` / ``cost_``
  prefix), then ``seed, worker, attempts, error, predictions_path, created_at, started_at,
  finished_at, duration_s`` (times in seconds since the epoch, duration in seconds).
- ``study.load_predictions(number)``: the arrays of ``Result.predictions`` for that trial, stored
  compressed in ``<db file name>.predictions/study_<id>/trial_<number>.npz`` beside the database.
- ``study.retry_failed()``: failed trials back to ``waiting`` (the next optimize evaluates them).
- ``study.evaluator()``: the evaluator stored by the last optimize, rebuilt.
- ``study.update_config(config)``: replace the free JSON config.

A resumed ``optimize`` is refused before anything runs when its strategy is of another class or
was built with other arguments (its ``config()``; see ``check_same_strategy``). The SQL behind
all of this lives in the storage layer (``study_store``, ``trial_store``, ``storage``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from archspace.configs import check_same_config, to_plain
from archspace.errors import StorageError, UsageError
from archspace.evaluation import Evaluator
from archspace.search.base import Strategy
from archspace.study import records
from archspace.study.driver import Driver
from archspace.study.evaluator_spec import describe_evaluator, rebuild_evaluator
from archspace.study.executors import Executor, InlineExecutor
from archspace.study.progress import ProgressReporter, RichProgress
from archspace.study.records import TrialRecord
from archspace.study.storage import Storage, open_storage
from archspace.study.study_store import StudyStore
from archspace.study.trial_store import TrialStore

FIXED_COLUMNS = ("number", "state", "arch_json", "arch_hash", "objective")
TAIL_COLUMNS = ("seed", "worker", "attempts", "error", "predictions_path", "created_at",
                "started_at", "finished_at", "duration_s")
# Strategy settings a resume may change: a population's size follows the study's trial target,
# which may grow (``n_trials`` is the study's total).
STRATEGY_MAY_GROW: tuple[str, ...] = ("n",)


@dataclass
class StudySummary:
    """Counts per state and the best complete trial of one study."""

    name: str
    n_trials: int | None
    counts: dict[str, int]
    best_objective: float | None
    best_number: int | None
    created_at: float

    @property
    def finished(self) -> int:
        return sum(self.counts[s] for s in records.FINISHED_STATES)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "n_trials": self.n_trials, "finished": self.finished,
                **self.counts, "best_objective": self.best_objective,
                "best_number": self.best_number, "created_at": self.created_at}


class Study:
    """A named set of trials in a storage; see the module docstring for the API."""

    def __init__(self, storage: Storage, study_id: int, name: str, seed: int,
                 config: dict[str, Any]) -> None:
        self.storage = storage
        self.study_id = study_id
        self.name = name
        self.seed = seed
        self.config = config
        self._store = TrialStore(storage, study_id)
        self._studies = StudyStore(storage)

    # --- creating and finding studies ------------------------------------------------------------
    @classmethod
    def create(cls, name: str, storage: Storage | str | os.PathLike[str], seed: int = 0,
               config: dict[str, Any] | None = None, load_if_exists: bool = False) -> Study:
        """A new study (``load_if_exists``: or the existing one of that name)."""
        _check_name(name)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise UsageError(f"study seed must be an integer >= 0, got {seed!r}")
        store = open_storage(storage)
        if not StudyStore(store).create(name, int(seed), config or {}) and not load_if_exists:
            raise UsageError(f"a study named {name!r} already exists in {store.path}")
        return cls.load(name, store)

    @classmethod
    def load(cls, name: str, storage: Storage | str | os.PathLike[str]) -> Study:
        store = open_storage(storage, create=False)
        row = StudyStore(store).find(name)
        if row is None:
            known = StudyStore(store).names()
            raise UsageError(f"no study named {name!r} in {store.path}; studies there: {known or 'none'}")
        return cls(store, row.study_id, name, row.seed, row.config)

    @staticmethod
    def list(storage: Storage | str | os.PathLike[str]) -> list[StudySummary]:
        """A summary of every study in the file, by name."""
        store = open_storage(storage, create=False)
        return [Study.load(name, store).summary() for name in StudyStore(store).names()]

    # --- running ---------------------------------------------------------------------------------
    def optimize(self, strategy: Strategy, evaluator: Evaluator, n_trials: int,
                 executor: Executor | None = None,
                 progress: bool | ProgressReporter = False) -> StudySummary:
        """Run (or resume) until ``n_trials`` trials are finished; returns the summary.

        Ctrl-C marks running trials ``interrupted`` and re-raises ``KeyboardInterrupt``; the next
        call re-queues them.
        """
        if not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
            raise UsageError(f"n_trials must be an integer >= 1, got {n_trials!r}")
        if not callable(getattr(evaluator, "evaluate", None)):
            raise UsageError(f"{type(evaluator).__name__} is not an evaluator (no evaluate method)")
        self._remember(strategy, evaluator, int(n_trials))
        reporter = RichProgress(self.name) if progress is True else (progress or None)
        driver = Driver(self._store, self.seed, strategy, evaluator, int(n_trials),
                        executor or InlineExecutor(), reporter)
        driver.run()
        return self.summary()

    def _remember(self, strategy: Strategy, evaluator: Evaluator, n_trials: int) -> None:
        """Store the strategy (class and config), evaluator spec and target; refuse, before
        anything runs, a strategy of another class or built with other arguments."""
        spec = strategy_spec(strategy)

        def check(stored: dict[str, Any] | None) -> None:
            if stored is not None:
                check_same_strategy(stored, spec, self.name)

        self._studies.record_run(self.study_id, spec, describe_evaluator(evaluator), n_trials, check)

    def update_config(self, config: dict[str, Any]) -> None:
        """Replace the study's stored free JSON config (e.g. a workflow that grew its target)."""
        self._studies.set_config(self.study_id, config)
        self.config = config

    def retry_failed(self) -> list[int]:
        """Move failed trials back to ``waiting``; returns their numbers."""
        return self._store.requeue((records.FAILED,))

    # --- reading ---------------------------------------------------------------------------------
    def trials(self, states: tuple[str, ...] | None = None) -> list[TrialRecord]:
        return self._store.trials(states)

    def trial(self, number: int) -> TrialRecord:
        found = self._store.trial(number)
        if found is None:
            raise UsageError(f"study {self.name!r} has no trial {number}")
        return found

    def counts(self) -> dict[str, int]:
        return self._store.counts()

    def best_trial(self) -> TrialRecord | None:
        """The complete trial with the lowest objective (earliest on ties)."""
        return self._store.best()

    def summary(self) -> StudySummary:
        row = self._studies.get(self.study_id)
        best = self.best_trial()
        return StudySummary(self.name, row.n_trials, self.counts(),
                            None if best is None else best.objective,
                            None if best is None else best.number, row.created_at)

    def stored_strategy(self) -> dict[str, Any] | None:
        """The strategy description (class, config) the last ``optimize`` stored, or None."""
        return self._studies.get(self.study_id).strategy

    def evaluator(self) -> Evaluator:
        """The evaluator the last ``optimize`` stored, rebuilt from its description."""
        stored = self._studies.get(self.study_id).evaluator
        if not stored:
            raise UsageError(f"study {self.name!r} has not been run yet: no evaluator stored")
        return rebuild_evaluator(stored)

    def load_predictions(self, number: int) -> dict[str, np.ndarray]:
        """Per-example arrays saved for trial ``number`` (``Result.predictions``)."""
        trial = self.trial(number)
        if not trial.predictions_path:
            raise UsageError(f"trial {number} of study {self.name!r} has no stored predictions")
        path = self._store.predictions_file(trial.predictions_path)
        if not path.is_file():
            raise StorageError(f"predictions of trial {number} are missing: {path}")
        with np.load(path) as data:
            return {key: data[key] for key in data.files}

    def predictions_path(self, number: int) -> str | None:
        """Absolute path of trial ``number``'s prediction file, or None."""
        trial = self.trial(number)
        return None if not trial.predictions_path else str(self._store.predictions_file(trial.predictions_path))

    def trials_dataframe(self) -> pd.DataFrame:
        """One row per trial; see the module docstring for the columns."""
        return trials_to_dataframe(self.trials())


def trials_to_dataframe(trials: list[TrialRecord]) -> pd.DataFrame:
    """The table of ``Study.trials_dataframe`` from trial records."""
    metric_names = sorted({k for t in trials for k in t.metrics})
    cost_names = sorted({k for t in trials for k in t.cost})
    taken = set(FIXED_COLUMNS) | set(TAIL_COLUMNS)
    metric_cols = {m: f"metric_{m}" if m in taken else m for m in metric_names}
    taken |= set(metric_cols.values())
    cost_cols = {c: f"cost_{c}" if c in taken else c for c in cost_names}
    rows = []
    for t in trials:
        row: dict[str, Any] = {c: getattr(t, c) for c in FIXED_COLUMNS}
        row.update({metric_cols[m]: t.metrics.get(m, np.nan) for m in metric_names})
        row.update({cost_cols[c]: t.cost.get(c, np.nan) for c in cost_names})
        row.update({c: getattr(t, c) for c in TAIL_COLUMNS})
        rows.append(row)
    columns = [*FIXED_COLUMNS, *metric_cols.values(), *cost_cols.values(), *TAIL_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    frame["objective"] = frame["objective"].astype(float)
    return frame


def strategy_spec(strategy: Strategy) -> dict[str, Any]:
    """What a study stores of its strategy: ``{"class": "module:Qualname", "config": {...}}``
    (``config`` only when the strategy has a ``config()`` method)."""
    spec: dict[str, Any] = {"class": f"{type(strategy).__module__}:{type(strategy).__qualname__}"}
    if callable(getattr(strategy, "config", None)):
        spec["config"] = to_plain(strategy.config())  # type: ignore[attr-defined]
    return spec


def check_same_strategy(stored: dict[str, Any], wanted: dict[str, Any], study_name: str) -> None:
    """Refuse to resume a study with a strategy of another class or other arguments.

    Only the settings both descriptions record are compared, so a study stored by an older
    version (no config, or a config with fewer settings) is still accepted; ``STRATEGY_MAY_GROW``
    settings may differ (the replay check still proves the trials so far are reproduced).
    """
    if stored["class"] != wanted["class"]:
        raise UsageError(f"study {study_name!r} was run with strategy {stored['class']}, not {wanted['class']}")
    old, new = stored.get("config"), wanted.get("config")
    if not isinstance(old, dict) or not isinstance(new, dict):
        return
    shared = set(old) & set(new)
    check_same_config({k: old[k] for k in shared}, {k: new[k] for k in shared},
                      f"study {study_name!r}'s strategy", may_change=STRATEGY_MAY_GROW)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(c in name for c in "\n\r\t"):
        raise UsageError(f"a study name must be 1-200 printable characters, got {name!r}")
