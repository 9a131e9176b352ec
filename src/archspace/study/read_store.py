"""Read-only queries over a study database, for watchers (the dashboard) that must never write.

``ReadStore.open(path)`` opens its own connection with SQLite's ``mode=ro`` URI flag, so nothing
it does can change the file, and it never takes a study's lease or resumes a study. In WAL mode
(the mode every archspace store is created in) a reader sees a consistent snapshot per statement
while the driver keeps writing; SQLite maps the ``-shm`` index beside the file for that, as every
WAL reader must, but the database file itself is not touched.

File systems without shared memory (some network mounts) refuse a WAL reader; the store then
falls back to ``immutable=1`` snapshots, reopened on every ``refresh()``. Such a snapshot holds
what the writer has checkpointed into the file (SQLite checkpoints every ~1000 pages of log and
when the driver closes), so a watcher there sees new trials in steps rather than one by one.

Incremental reading: a trial's *finish* is its ``tell`` event in the study's log, whose id grows
with every event. ``finished_since(study_id, cursor)`` returns the trials told after event
``cursor`` (the cursor of the last trial a page holds), so a page asks only for what is new, in
the order trials finished (with parallel workers that is not the order of their numbers).
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote

from archspace.errors import StorageError
from archspace.study import records
from archspace.study.records import TrialRecord, loads
from archspace.study.storage import APPLICATION, BUSY_TIMEOUT_MS, SCHEMA_VERSION, path_from_url
from archspace.study.study_store import StudyRow
from archspace.study.trial_store import _driver_alive

_OPEN_STATES = (records.WAITING, records.RUNNING, records.INTERRUPTED)
# What ``finished_since`` reads of each trial: enough for a table row and a chart point.
SUMMARY_COLUMNS = ("number", "state", "objective", "cost_json", "arch_json", "seed", "worker", "attempts",
                   "error", "started_at", "finished_at", "duration_s")


@dataclass(frozen=True)
class StudyOverview(StudyRow):
    """One study as a watcher lists it: its stored row, plus counts, best, activity and liveness."""

    driver: str | None
    driver_heartbeat: float | None
    counts: dict[str, int]
    best_objective: float | None
    best_number: int | None
    last_activity: float | None
    driver_alive: bool

    @property
    def finished(self) -> int:
        return sum(self.counts[s] for s in records.FINISHED_STATES)

    @property
    def status(self) -> str:
        """``running`` (a live driver holds it), ``dead`` (its driver died without letting go:
        the lease names a process that is gone, or trials are left ``running`` with no driver),
        ``finished`` (its trial target is reached), ``stopped`` (interrupted or never run)."""
        if self.driver and self.driver_alive:
            return "running"
        if self.driver or self.counts[records.RUNNING]:
            return "dead"
        if self.n_trials is not None and self.finished >= self.n_trials:
            return "finished"
        return "stopped"


class ReadStore:
    """A read-only view of one archspace database file (one connection, serialized use)."""

    def __init__(self, path: Path, immutable: bool) -> None:
        self.path = path
        self.immutable = immutable
        self._connection: sqlite3.Connection | None = None

    @classmethod
    def open(cls, url: str | os.PathLike[str]) -> ReadStore:
        """Open the store at a path or sqlite:/// URL read-only; refuse anything else clearly."""
        path = path_from_url(url)
        if not path.exists():
            raise StorageError(f"no study database at {path}")
        if path.is_dir():
            raise StorageError(f"{path} is a directory, not a study database")
        store = cls(path, immutable=False)
        store.refresh()
        return store

    # --- the connection --------------------------------------------------------------------------
    def refresh(self) -> None:
        """(Re)open when needed (always for an immutable snapshot) and check the file's format then.

        An open WAL connection needs nothing: each statement reads the latest committed state. A
        file replaced under the same path is the caller's to notice (``Dashboard`` compares inodes);
        one corrupted in place makes the next query fail with a ``StorageError``."""
        if self._connection is None or self.immutable:
            self._reopen()
            self._check_format()

    def _reopen(self) -> None:
        self.close()
        if not self.path.is_file():
            raise StorageError(f"no study database at {self.path}")
        try:
            self._connection = _connect_read_only(self.path, self.immutable)
            self._connection.execute("SELECT name FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            self.close()
            if self.immutable or "not a database" in str(exc):
                raise StorageError(f"{self.path} is not an archspace study database ({exc})") from None
            # No shared memory for the WAL index here (e.g. a network mount): read snapshots.
            self.immutable = True
            self._reopen()

    def _check_format(self) -> None:
        try:
            tables = {r[0] for r in self._query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except StorageError:
            self.close()
            raise
        if not tables:
            raise StorageError(f"{self.path} is an empty file, not an archspace study database")
        if not {"meta", "studies", "trials", "events"} <= tables:
            raise StorageError(f"{self.path} is an SQLite database but not an archspace study database")
        meta = {r[0]: r[1] for r in self._query("SELECT key, value FROM meta")}
        if meta.get("application") != APPLICATION:
            raise StorageError(f"{self.path} is an SQLite database but not an archspace study database")
        version = meta.get("schema_version", "")
        if not version.isdigit() or int(version) != SCHEMA_VERSION:
            raise StorageError(f"{self.path} has schema version {version!r}; this archspace reads "
                               f"version {SCHEMA_VERSION} (open it once with `archspace study list` "
                               "to migrate an older one, or upgrade archspace for a newer one)")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        if self._connection is None:
            self._reopen()
        assert self._connection is not None
        try:
            return self._connection.execute(sql, params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot read {self.path}: {exc}") from None

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> ReadStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- studies ---------------------------------------------------------------------------------
    def studies(self) -> list[StudyOverview]:
        """Every study in the file, by name, with counts, best trial and last activity."""
        counts: dict[int, dict[str, int]] = {}
        for row in self._query("SELECT study_id, state, COUNT(*) FROM trials GROUP BY study_id, state"):
            counts.setdefault(row[0], dict.fromkeys(records.STATES, 0))[row[1]] = row[2]
        best = {r[0]: (r[1], r[2]) for r in self._query(
            "SELECT study_id, objective, number FROM (SELECT study_id, objective, number, ROW_NUMBER() "
            "OVER (PARTITION BY study_id ORDER BY objective, number) AS rank FROM trials "
            "WHERE state = 'complete' AND objective IS NOT NULL) WHERE rank = 1")}
        rows = self._query("SELECT * FROM studies ORDER BY name")
        return [_overview(r, counts.get(r["study_id"]), best.get(r["study_id"]),
                          self._last_activity(r["study_id"])) for r in rows]

    def study(self, name: str) -> StudyOverview | None:
        """The study named ``name`` (None when the file has none of that name)."""
        rows = self._query("SELECT * FROM studies WHERE name = ?", (name,))
        if not rows:
            return None
        study_id = rows[0]["study_id"]
        counts = dict.fromkeys(records.STATES, 0)
        for r in self._query("SELECT state, COUNT(*) FROM trials WHERE study_id = ? GROUP BY state", (study_id,)):
            counts[r[0]] = r[1]
        best = self._query(
            "SELECT objective, number FROM trials WHERE study_id = ? AND state = 'complete' "
            "AND objective IS NOT NULL ORDER BY objective, number LIMIT 1", (study_id,))
        return _overview(rows[0], counts, (best[0][0], best[0][1]) if best else None,
                         self._last_activity(study_id))

    def _last_activity(self, study_id: int) -> float | None:
        """The latest of: the newest trial's creation, the last finish, a running trial's start.

        Three indexed lookups (the newest trial by number, the last ``tell`` event, the running
        trials) instead of a scan of every trial: the answer stays fast at 10,000 trials."""
        row = self._query(
            "SELECT (SELECT created_at FROM trials WHERE study_id = ?1 ORDER BY number DESC LIMIT 1), "
            "(SELECT t.finished_at FROM events AS e JOIN trials AS t ON t.study_id = e.study_id "
            "AND t.number = e.trial_number WHERE e.study_id = ?1 AND e.kind = 'tell' "
            "ORDER BY e.event_id DESC LIMIT 1), "
            "(SELECT MAX(started_at) FROM trials WHERE study_id = ?1 AND state = 'running')", (study_id,))[0]
        return max((t for t in row if t is not None), default=None)

    # --- trials ----------------------------------------------------------------------------------
    def finished_since(self, study_id: int, cursor: int = 0) -> tuple[list[tuple[int, dict[str, Any]]], int]:
        """Trials finished (told) after log event ``cursor``, in finishing order, and the new cursor.

        Each trial is a dict of the columns a listing needs (``SUMMARY_COLUMNS``, ``cost``
        decoded; no metrics, info or predictions) and appears once, at its latest ``tell``; a
        trial re-queued since (``retry-failed``) is left out until it finishes again. The new
        cursor is the last event id seen.
        """
        rows = self._query(
            f"SELECT e.event_id, {', '.join('t.' + c for c in SUMMARY_COLUMNS)} FROM events AS e "
            "JOIN trials AS t ON t.study_id = e.study_id AND t.number = e.trial_number "
            "WHERE e.study_id = ? AND e.kind = 'tell' AND e.event_id > ? ORDER BY e.event_id",
            (study_id, int(cursor)))
        latest: dict[int, tuple[int, dict[str, Any]]] = {}
        for row in rows:
            if row["state"] in records.FINISHED_STATES:
                summary = dict(row)
                del summary["event_id"]
                summary["cost"] = loads(summary.pop("cost_json"))
                latest.pop(row["number"], None)  # keep insertion order = latest tell
                latest[row["number"]] = (row["event_id"], summary)
        new_cursor = rows[-1]["event_id"] if rows else int(cursor)
        return list(latest.values()), new_cursor

    def open_trials(self, study_id: int) -> list[TrialRecord]:
        """Trials not finished: waiting, running or interrupted, by number."""
        # No ORDER BY: SQLite would then walk every trial in number order instead of the few
        # open ones through the state index (21 ms instead of microseconds at 10,000 trials).
        rows = self._query(
            f"SELECT * FROM trials WHERE study_id = ? AND state IN ({','.join('?' * len(_OPEN_STATES))})",
            (study_id, *_OPEN_STATES))
        return sorted((TrialRecord.from_row(r) for r in rows), key=lambda t: t.number)

    def trial(self, study_id: int, number: int) -> TrialRecord | None:
        rows = self._query("SELECT * FROM trials WHERE study_id = ? AND number = ?", (study_id, int(number)))
        return TrialRecord.from_row(rows[0]) if rows else None


def _connect_read_only(path: Path, immutable: bool) -> sqlite3.Connection:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
    # check_same_thread=False: the dashboard serializes its use; the web server may hop threads.
    connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                 check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    connection.execute("PRAGMA query_only = ON")
    return connection


def _overview(row: sqlite3.Row, counts: dict[str, int] | None, best: tuple[Any, Any] | None,
              activity: float | None) -> StudyOverview:
    driver, heartbeat = row["driver"], row["driver_heartbeat"]
    last = max((t for t in (activity, heartbeat, row["created_at"]) if t), default=None)
    stored = StudyRow.from_row(row)
    return StudyOverview(
        **{f.name: getattr(stored, f.name) for f in fields(StudyRow)}, driver=driver, driver_heartbeat=heartbeat,
        counts=counts or dict.fromkeys(records.STATES, 0),
        best_objective=None if best is None else best[0], best_number=None if best is None else best[1],
        last_activity=last, driver_alive=bool(driver) and _driver_alive(driver, heartbeat))

