"""The SQL behind one study's trials and ask/tell log; every change is one transaction.

Only the driver of a study calls the writing functions here (``add_asked_trial``,
``mark_running``, ``record_outcome`` ...), so there is exactly one writer per study.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.evaluation import Result
from archspace.study import records
from archspace.study.records import TrialRecord, dumps, finite_or_none, result_payload
from archspace.study.storage import Storage

LEASE_TIMEOUT_S = 300.0


class TrialStore:
    """Reads and writes the trials and events of study ``study_id`` in ``storage``."""

    def __init__(self, storage: Storage, study_id: int) -> None:
        self.storage = storage
        self.study_id = study_id

    # --- reads -----------------------------------------------------------------------------------
    def trials(self, states: tuple[str, ...] | None = None) -> list[TrialRecord]:
        sql = "SELECT * FROM trials WHERE study_id = ?"
        params: tuple[Any, ...] = (self.study_id,)
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params += tuple(states)
        return [TrialRecord.from_row(r) for r in self.storage.query(sql + " ORDER BY number", params)]

    def trial(self, number: int) -> TrialRecord | None:
        rows = self.storage.query("SELECT * FROM trials WHERE study_id = ? AND number = ?",
                                  (self.study_id, number))
        return TrialRecord.from_row(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        rows = self.storage.query(
            "SELECT state, COUNT(*) FROM trials WHERE study_id = ? GROUP BY state", (self.study_id,))
        found = {r[0]: r[1] for r in rows}
        return {state: found.get(state, 0) for state in records.STATES}

    def best(self) -> TrialRecord | None:
        rows = self.storage.query(
            "SELECT * FROM trials WHERE study_id = ? AND state = 'complete' AND objective IS NOT NULL "
            "ORDER BY objective, number LIMIT 1", (self.study_id,))
        return TrialRecord.from_row(rows[0]) if rows else None

    def events(self) -> list[tuple[str, int, str | None]]:
        """The ask/tell log in order: (kind, trial number, tell payload JSON or None)."""
        rows = self.storage.query(
            "SELECT kind, trial_number, payload_json FROM events WHERE study_id = ? ORDER BY event_id",
            (self.study_id,))
        return [(r[0], r[1], r[2]) for r in rows]

    def arch_hashes(self) -> dict[int, str]:
        rows = self.storage.query("SELECT number, arch_hash FROM trials WHERE study_id = ?",
                                  (self.study_id,))
        return {r[0]: r[1] for r in rows}

    def next_number(self) -> int:
        row = self.storage.query("SELECT MAX(number) FROM trials WHERE study_id = ?", (self.study_id,))
        return 0 if row[0][0] is None else int(row[0][0]) + 1

    # --- writes (driver only) --------------------------------------------------------------------
    def add_asked_trial(self, number: int, arch: ArchSpec, seed: int) -> None:
        """Record an ``ask``: the trial row (waiting) and the log entry, atomically."""
        with self.storage.transaction() as db:
            db.execute(
                "INSERT INTO trials (study_id, number, state, arch_json, arch_hash, seed, created_at) "
                "VALUES (?, ?, 'waiting', ?, ?, ?, ?)",
                (self.study_id, number, arch.to_json(), arch.spec_hash(), seed, time.time()))
            db.execute("INSERT INTO events (study_id, kind, trial_number) VALUES (?, 'ask', ?)",
                       (self.study_id, number))

    def mark_running(self, number: int, worker: str | None = None) -> None:
        with self.storage.transaction() as db:
            db.execute(
                "UPDATE trials SET state = 'running', started_at = ?, worker = ?, "
                "attempts = attempts + 1 WHERE study_id = ? AND number = ?",
                (time.time(), worker, self.study_id, number))

    def record_outcome(self, number: int, result: Result | None, error: str | None, worker: str,
                       started_at: float, finished_at: float, predictions_path: str | None) -> str:
        """Store a finished evaluation and log the ``tell``, atomically; returns the new state."""
        if result is None:
            result = Result(objective=None, status="failed", info={})
        state = {"complete": records.COMPLETE, "diverged": records.DIVERGED}.get(result.status, records.FAILED)
        if state == records.FAILED and error is None:
            error = str(result.info.get("error", "the evaluator reported status 'failed'"))
        with self.storage.transaction() as db:
            db.execute(
                "UPDATE trials SET state = ?, objective = ?, metrics_json = ?, cost_json = ?, "
                "info_json = ?, predictions_path = ?, error = ?, worker = ?, started_at = ?, "
                "finished_at = ?, duration_s = ? WHERE study_id = ? AND number = ?",
                (state, finite_or_none(result.objective), dumps(result.metrics), dumps(result.cost),
                 dumps(result.info), predictions_path, error, worker, started_at, finished_at,
                 finished_at - started_at, self.study_id, number))
            db.execute(
                "INSERT INTO events (study_id, kind, trial_number, payload_json) VALUES (?, 'tell', ?, ?)",
                (self.study_id, number, result_payload(result)))
        return state

    def set_state(self, numbers: list[int], state: str, error: str | None = None) -> None:
        if not numbers:
            return
        with self.storage.transaction() as db:
            db.executemany(
                "UPDATE trials SET state = ?, error = COALESCE(?, error) WHERE study_id = ? AND number = ?",
                [(state, error, self.study_id, n) for n in numbers])

    def requeue(self, from_states: tuple[str, ...]) -> list[int]:
        """Move trials in ``from_states`` back to ``waiting``; returns their numbers."""
        with self.storage.transaction() as db:
            marks = ",".join("?" * len(from_states))
            numbers = [r[0] for r in db.execute(
                f"SELECT number FROM trials WHERE study_id = ? AND state IN ({marks}) ORDER BY number",
                (self.study_id, *from_states))]
            db.execute(
                f"UPDATE trials SET state = 'waiting', started_at = NULL, finished_at = NULL, "
                f"duration_s = NULL WHERE study_id = ? AND state IN ({marks})",
                (self.study_id, *from_states))
        return numbers

    # --- the driver's lease ----------------------------------------------------------------------
    def acquire_lease(self) -> str:
        """Claim the study for this process; refuse if another live process is running it."""
        me = f"{socket.gethostname()}:{os.getpid()}"
        with self.storage.transaction() as db:
            row = db.execute("SELECT name, driver, driver_heartbeat FROM studies WHERE study_id = ?",
                             (self.study_id,)).fetchone()
            holder = row["driver"]
            if holder and holder != me and _driver_alive(holder, row["driver_heartbeat"]):
                from archspace.errors import StorageError

                raise StorageError(f"study {row['name']!r} is being run by process {holder}; "
                                   "wait for it to finish or stop it first")
            db.execute("UPDATE studies SET driver = ?, driver_heartbeat = ? WHERE study_id = ?",
                       (me, time.time(), self.study_id))
        return me

    def heartbeat(self, me: str) -> None:
        with self.storage.transaction() as db:
            db.execute("UPDATE studies SET driver_heartbeat = ? WHERE study_id = ? AND driver = ?",
                       (time.time(), self.study_id, me))

    def release_lease(self, me: str) -> None:
        with self.storage.transaction() as db:
            db.execute("UPDATE studies SET driver = NULL, driver_heartbeat = NULL "
                       "WHERE study_id = ? AND driver = ?", (self.study_id, me))

    # --- per-example predictions -----------------------------------------------------------------
    def write_predictions(self, number: int, predictions: dict[str, np.ndarray]) -> str:
        """Save compressed arrays beside the database; returns the path relative to its folder."""
        folder = self.storage.artifacts_dir / f"study_{self.study_id}"
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"trial_{number:06d}.npz"
        partial = final.with_name(final.name + f".{os.getpid()}.partial")
        with open(partial, "wb") as handle:
            np.savez_compressed(handle, **{k: np.asarray(v) for k, v in predictions.items()})
        os.replace(partial, final)  # readers never see a half-written file
        return str(final.relative_to(self.storage.path.parent))

    def predictions_file(self, relative: str) -> Path:
        """The stored path (relative to the database's folder, so a moved or copied database and
        its ``.predictions`` folder still work); for a renamed database whose folder was renamed
        with it, the same file under the folder that goes with the current name."""
        stored = self.storage.path.parent / relative
        if stored.is_file():
            return stored
        parts = Path(relative).parts
        renamed = self.storage.artifacts_dir.joinpath(*parts[1:]) if len(parts) > 1 else stored
        return renamed if renamed.is_file() else stored


def _driver_alive(holder: str, heartbeat: float | None) -> bool:
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname():
        return heartbeat is not None and time.time() - heartbeat < LEASE_TIMEOUT_S
    try:
        pid = int(pid_text)
        os.kill(pid, 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    try:  # a killed but not yet reaped process (zombie) is dead for our purpose
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
