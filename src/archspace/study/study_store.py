"""The SQL behind the ``studies`` table: create, find and list studies, update their stored settings.

``TrialStore`` holds the statements over one study's trials and ask/tell log; this module holds
the study-level ones, so that ``Study`` (and every workflow above it) contains no SQL at all.
Every write is one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from archspace.study.records import dumps, loads
from archspace.study.storage import Storage


@dataclass(frozen=True)
class StudyRow:
    """One study's row: identity, seed, free config, and what its last run stored."""

    study_id: int
    name: str
    seed: int
    config: dict[str, Any]
    strategy: dict[str, Any] | None
    evaluator: dict[str, Any] | None
    n_trials: int | None
    created_at: float

    @classmethod
    def from_row(cls, row: Any) -> StudyRow:
        return cls(row["study_id"], row["name"], row["seed"], loads(row["config_json"]),
                   loads(row["strategy_json"]) or None, loads(row["evaluator_json"]) or None,
                   row["n_trials"], row["created_at"])


class StudyStore:
    """Reads and writes the ``studies`` rows of ``storage``."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # --- reads -----------------------------------------------------------------------------------
    def find(self, name: str) -> StudyRow | None:
        """The study named ``name``, or None."""
        rows = self.storage.query("SELECT * FROM studies WHERE name = ?", (name,))
        return StudyRow.from_row(rows[0]) if rows else None

    def get(self, study_id: int) -> StudyRow:
        """The study with id ``study_id`` (it must exist)."""
        return StudyRow.from_row(self.storage.query("SELECT * FROM studies WHERE study_id = ?", (study_id,))[0])

    def names(self) -> list[str]:
        """Every study name in the file, sorted."""
        return [r[0] for r in self.storage.query("SELECT name FROM studies ORDER BY name")]

    # --- writes ----------------------------------------------------------------------------------
    def create(self, name: str, seed: int, config: dict[str, Any]) -> bool:
        """Add study ``name`` unless it exists (checked and inserted atomically); True if added."""
        with self.storage.transaction() as db:
            if db.execute("SELECT study_id FROM studies WHERE name = ?", (name,)).fetchone() is not None:
                return False
            db.execute("INSERT INTO studies (name, seed, config_json, created_at) VALUES (?, ?, ?, ?)",
                       (name, int(seed), dumps(config), time.time()))
        return True

    def set_config(self, study_id: int, config: dict[str, Any]) -> None:
        """Replace the study's free JSON config."""
        with self.storage.transaction() as db:
            db.execute("UPDATE studies SET config_json = ? WHERE study_id = ?", (dumps(config), study_id))

    def record_run(self, study_id: int, strategy: dict[str, Any], evaluator: dict[str, Any], n_trials: int,
                   check: Callable[[dict[str, Any] | None], None]) -> None:
        """Store the strategy and evaluator descriptions and the trial target of a run.

        ``check(stored_strategy)`` sees the strategy description stored so far (None before the
        first run) inside the same transaction; an exception it raises leaves the row unchanged.
        """
        with self.storage.transaction() as db:
            row = db.execute("SELECT strategy_json FROM studies WHERE study_id = ?", (study_id,)).fetchone()
            check(loads(row["strategy_json"]) or None)
            db.execute("UPDATE studies SET strategy_json = ?, evaluator_json = ?, n_trials = ? WHERE study_id = ?",
                       (dumps(strategy), dumps(evaluator), n_trials, study_id))
