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
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from archspace.errors import StorageError, UsageError
from archspace.evaluation import Evaluator
from archspace.search.base import Strategy
from archspace.study import records
from archspace.study.driver import Driver
from archspace.study.evaluator_spec import describe_evaluator, rebuild_evaluator
from archspace.study.executors import Executor, InlineExecutor
from archspace.study.progress import ProgressReporter, RichProgress
from archspace.study.records import TrialRecord, dumps, loads
from archspace.study.storage import Storage, open_storage
from archspace.study.trial_store import TrialStore

FIXED_COLUMNS = ("number", "state", "arch_json", "arch_hash", "objective")
TAIL_COLUMNS = ("seed", "worker", "attempts", "error", "predictions_path", "created_at",
                "started_at", "finished_at", "duration_s")


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

    # --- creating and finding studies ------------------------------------------------------------
    @classmethod
    def create(cls, name: str, storage: Storage | str | os.PathLike[str], seed: int = 0,
               config: dict[str, Any] | None = None, load_if_exists: bool = False) -> Study:
        """A new study (``load_if_exists``: or the existing one of that name)."""
        _check_name(name)
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise UsageError(f"study seed must be an integer >= 0, got {seed!r}")
        store = open_storage(storage)
        with store.transaction() as db:
            row = db.execute("SELECT study_id FROM studies WHERE name = ?", (name,)).fetchone()
            if row is None:
                db.execute("INSERT INTO studies (name, seed, config_json, created_at) VALUES (?, ?, ?, ?)",
                           (name, int(seed), dumps(config or {}), time.time()))
            elif not load_if_exists:
                raise UsageError(f"a study named {name!r} already exists in {store.path}")
        return cls.load(name, store)

    @classmethod
    def load(cls, name: str, storage: Storage | str | os.PathLike[str]) -> Study:
        store = open_storage(storage, create=False)
        rows = store.query("SELECT study_id, seed, config_json FROM studies WHERE name = ?", (name,))
        if not rows:
            known = [r[0] for r in store.query("SELECT name FROM studies ORDER BY name")]
            raise UsageError(f"no study named {name!r} in {store.path}; studies there: {known or 'none'}")
        return cls(store, rows[0]["study_id"], name, rows[0]["seed"], loads(rows[0]["config_json"]))

    @staticmethod
    def list(storage: Storage | str | os.PathLike[str]) -> list[StudySummary]:
        """A summary of every study in the file, by name."""
        store = open_storage(storage, create=False)
        names = [r[0] for r in store.query("SELECT name FROM studies ORDER BY name")]
        return [Study.load(name, store).summary() for name in names]

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
        """Store the strategy identity, evaluator spec and target; refuse a different strategy."""
        strategy_spec: dict[str, Any] = {"class": f"{type(strategy).__module__}:{type(strategy).__qualname__}"}
        if callable(getattr(strategy, "config", None)):
            strategy_spec["config"] = strategy.config()  # type: ignore[attr-defined]
        with self.storage.transaction() as db:
            row = db.execute("SELECT strategy_json FROM studies WHERE study_id = ?",
                             (self.study_id,)).fetchone()
            if row["strategy_json"]:
                stored = json.loads(row["strategy_json"])
                if stored["class"] != strategy_spec["class"]:
                    raise UsageError(f"study {self.name!r} was run with strategy {stored['class']}, "
                                     f"not {strategy_spec['class']}")
            db.execute("UPDATE studies SET strategy_json = ?, evaluator_json = ?, n_trials = ? "
                       "WHERE study_id = ?", (dumps(strategy_spec), dumps(describe_evaluator(evaluator)),
                                              n_trials, self.study_id))

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
        row = self.storage.query("SELECT n_trials, created_at FROM studies WHERE study_id = ?",
                                 (self.study_id,))[0]
        best = self.best_trial()
        return StudySummary(self.name, row["n_trials"], self.counts(),
                            None if best is None else best.objective,
                            None if best is None else best.number, row["created_at"])

    def stored_strategy(self) -> dict[str, Any] | None:
        row = self.storage.query("SELECT strategy_json FROM studies WHERE study_id = ?", (self.study_id,))
        return loads(row[0][0]) or None

    def evaluator(self) -> Evaluator:
        """The evaluator the last ``optimize`` stored, rebuilt from its description."""
        row = self.storage.query("SELECT evaluator_json FROM studies WHERE study_id = ?", (self.study_id,))
        if not row[0][0]:
            raise UsageError(f"study {self.name!r} has not been run yet: no evaluator stored")
        return rebuild_evaluator(json.loads(row[0][0]))

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


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 200 or any(c in name for c in "\n\r\t"):
        raise UsageError(f"a study name must be 1-200 printable characters, got {name!r}")
