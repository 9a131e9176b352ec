"""What the dashboard serves from: the read-only store, the study cache, the results folder.

``Dashboard`` opens the database read-only (``archspace.study.read_store``, whose format check
runs on every open) and looks at the file on every request: one that disappears is a message
page, one replaced under the same path (another inode) is reopened, checked again and the cache
dropped, and one corrupted in place fails its next query with a ``StorageError``, also a message
page rather than a crash. It turns stored rows into the JSON the pages read (``overview_json``, ``trial_json``).
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from archspace.dashboard.cache import DEFAULT_MAX_ROWS, CachedStudy, StudyCache, trial_row
from archspace.dashboard.results import check_folder
from archspace.dashboard.specs import spec_statistics
from archspace.errors import ArchspaceError, StorageError
from archspace.study.read_store import ReadStore, StudyOverview
from archspace.study.records import FINISHED_STATES, TrialRecord
from archspace.study.storage import path_from_url


class NotFound(Exception):
    """A study, trial or file named in a URL that does not exist (a 404 page)."""


class Dashboard:
    """The dashboard's read-only view of one database (and optionally a results folder)."""

    def __init__(self, db: str | os.PathLike[str], results: str | os.PathLike[str] | None = None,
                 max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.db_path = path_from_url(db)
        self.results = None if results is None else check_folder(results)
        self.cache = StudyCache(max_rows)
        self._store: ReadStore | None = None
        self._identity: tuple[int, int] | None = None

    # --- the store -------------------------------------------------------------------------------
    def store(self) -> ReadStore:
        """The open read-only store, checked (and reopened if the file was replaced)."""
        try:
            info = self.db_path.stat()
        except FileNotFoundError:
            self.close()
            raise StorageError(f"no study database at {self.db_path}") from None
        identity = (info.st_dev, info.st_ino)
        if self._store is None or identity != self._identity:
            self.close()
            self._store = ReadStore.open(self.db_path)
            self._identity = identity
        else:
            self._store.refresh()
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
        self._store = None
        self._identity = None
        self.cache.clear()

    def warm(self) -> int:
        """Read every study's finished trials into the cache now (most recently active first,
        up to half the cache), so the first visit to a large study is as fast as the next ones;
        returns the number of trials read."""
        studies = sorted(self.store().studies(), key=lambda s: s.last_activity or 0.0, reverse=True)
        total = 0
        for study in studies:
            if total + study.finished > self.cache.max_rows // 2:
                break
            total += len(self.cached(study).rows)
        return total

    # --- studies ---------------------------------------------------------------------------------
    def overview(self, name: str) -> StudyOverview:
        found = self.store().study(name)
        if found is None:
            raise NotFound(f"no study named {name!r} in {self.db_path}")
        return found

    def cached(self, overview: StudyOverview) -> CachedStudy:
        return self.cache.get(self.store(), overview.name, overview.study_id)

    def open_rows(self, overview: StudyOverview) -> list[dict[str, Any]]:
        """Rows of the study's trials that are not finished (waiting, running, interrupted)."""
        return [trial_row(t, 0) for t in self.store().open_trials(overview.study_id)]

    def trial(self, overview: StudyOverview, number: int) -> TrialRecord:
        found = self.store().trial(overview.study_id, number)
        if found is None:
            raise NotFound(f"study {overview.name!r} has no trial {number}")
        return found


def overview_json(study: StudyOverview) -> dict[str, Any]:
    """One study as the list page and the study page header show it."""
    return {
        "name": study.name, "status": study.status, "space": space_label(study),
        "evaluator": class_label(study.evaluator), "strategy": class_label(study.strategy),
        "n_trials": study.n_trials, "finished": study.finished, "counts": study.counts,
        "best_objective": study.best_objective, "best_number": study.best_number,
        "last_activity": study.last_activity, "created_at": study.created_at, "seed": study.seed,
        "driver": study.driver, "driver_heartbeat": study.driver_heartbeat, "config": study.config,
        "now": time.time(),
    }


def space_label(study: StudyOverview) -> str | None:
    """The study's design space: its stored config's ``space``, else its evaluator's."""
    for source in (study.config, (study.evaluator or {}).get("fields") or {}, (study.evaluator or {}).get("config") or {},
                   (study.strategy or {}).get("config") or {}):
        value = source.get("space") if isinstance(source, dict) else None
        if isinstance(value, str):
            return value
    return None


def class_label(spec: dict[str, Any] | None) -> str | None:
    """``ClassName(key=value, ...)`` of a stored strategy or evaluator description (short values only)."""
    if not spec:
        return None
    name = str(spec.get("class", "?")).rpartition(":")[2]
    settings = spec.get("fields") or spec.get("config") or {}
    shown = [f"{k}={v}" for k, v in settings.items() if isinstance(v, (str, int, float)) and not isinstance(v, bool)
             and len(str(v)) <= 24 and k != "space"][:3]
    return f"{name}({', '.join(shown)})" if shown else name


def trial_json(study: StudyOverview, trial: TrialRecord) -> dict[str, Any]:
    """Everything stored about one trial, plus its spec statistics and (if the evaluator stored
    no cost) its analytic complexity at the family's default input."""
    try:
        spec: Any = json.loads(trial.arch_json)
    except json.JSONDecodeError:
        spec = trial.arch_json
    history = trial.info.get("history") if isinstance(trial.info, dict) else None
    return {
        "study": study.name, "number": trial.number, "state": trial.state,
        "finished": trial.state in FINISHED_STATES, "objective": trial.objective, "spec": spec,
        "arch_hash": trial.arch_hash, "statistics": spec_statistics(trial.arch_json),
        "metrics": trial.metrics, "cost": trial.cost,
        "complexity": None if trial.cost else analytic_complexity(trial.arch_json),
        "info": {k: v for k, v in trial.info.items() if k != "history"},
        "learning_curve": history if isinstance(history, list) and history else None,
        "seed": trial.seed, "worker": trial.worker, "attempts": trial.attempts, "error": trial.error,
        "created_at": trial.created_at, "started_at": trial.started_at, "finished_at": trial.finished_at,
        "duration_s": trial.duration_s, "predictions_path": trial.predictions_path,
    }


def analytic_complexity(arch_json: str) -> dict[str, Any] | None:
    """flops / params / acts of a spec from its family at the family's default input, or None."""
    try:
        from archspace.arch import arch_from_json
        from archspace.families import family_for

        arch = arch_from_json(arch_json)
        family = family_for(arch)
        counts = family.complexity(arch)
    except (ArchspaceError, TypeError, ValueError, KeyError):
        return None
    return {"flops": float(counts.flops), "params": float(counts.params), "acts": float(counts.acts),
            "input": str(getattr(family, "default_input", ""))}

