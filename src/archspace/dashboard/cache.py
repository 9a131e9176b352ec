"""In-memory copies of studies' finished trials, grown incrementally from the read-only store.

A ``CachedStudy`` holds every finished trial of one study as a JSON-ready row plus its spec
statistics, in the order the trials finished, and the log cursor it has read up to. ``refresh``
reads only the trials told since that cursor (one indexed query), so the cost of a poll is the
number of new trials, not the size of the study; ``rows_after(cursor)`` answers a page's
``?after=`` from memory with a binary search. The cache is sized to the studies it holds:
``StudyCache`` keeps whole studies and drops the least recently used ones when their rows
together exceed ``max_rows``.
"""

from __future__ import annotations

import bisect
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from archspace.dashboard.specs import Statistic, spec_statistics
from archspace.study.read_store import ReadStore
from archspace.study.records import TrialRecord, dumps

DEFAULT_MAX_ROWS = 500_000
ERROR_TEXT_CHARS = 300


ROW_FIELDS = ("number", "state", "objective", "cost", "seed", "worker", "attempts", "started_at", "finished_at",
              "duration_s")


def trial_row(trial: TrialRecord | Mapping[str, Any], cursor: int) -> dict[str, Any]:
    """What the study page's table and scatter plots need of a trial (no spec, no metrics)."""
    fields = trial if isinstance(trial, Mapping) else vars(trial)
    row = {name: fields[name] for name in ROW_FIELDS}
    row["error"] = error_summary(fields["error"])
    row["cursor"] = cursor
    return row


def error_summary(error: str | None) -> str | None:
    """The last non-empty line of an error (a traceback's exception line), shortened."""
    if not error:
        return None
    lines = [line for line in error.strip().splitlines() if line.strip()]
    text = lines[-1].strip() if lines else error.strip()
    return text if len(text) <= ERROR_TEXT_CHARS else text[:ERROR_TEXT_CHARS - 3] + "..."


def _encode(row: dict[str, Any]) -> str:
    try:
        return json.dumps(row, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):  # a NaN or an odd value: the store's own cleaning encoder
        return dumps(row)


@dataclass
class CachedStudy:
    """The finished trials of one study read so far (see the module docstring)."""

    study_id: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    statistics: list[dict[str, Statistic]] = field(default_factory=list)
    cursors: list[int] = field(default_factory=list)
    encoded: list[str] = field(default_factory=list)  # each row as JSON, encoded once
    numbers: set[int] = field(default_factory=set)
    columns: dict[str, list[Any]] = field(default_factory=dict)  # see ``column``
    cursor: int = 0
    version: int = 0
    derived: dict[str, Any] = field(default_factory=dict)  # results computed from the rows (any version)

    def refresh(self, store: ReadStore) -> int:
        """Read the trials finished since ``cursor``; returns how many were added."""
        fresh, cursor = store.finished_since(self.study_id, self.cursor)
        self.cursor = cursor
        if not fresh:
            return 0
        numbers = {trial["number"] for _, trial in fresh}
        if not self.numbers.isdisjoint(numbers):
            self._drop(numbers)  # retried trials: their new finish replaces the old one
        for event, trial in fresh:
            self._append(trial_row(trial, event), spec_statistics(trial["arch_json"]), event)
        self.numbers |= numbers
        self.version += 1
        return len(fresh)

    def rows_after(self, cursor: int) -> list[dict[str, Any]]:
        """Rows of the trials that finished after log event ``cursor``."""
        return self.rows[bisect.bisect_right(self.cursors, cursor):]

    def json_after(self, cursor: int) -> str:
        """``rows_after(cursor)`` as a JSON array, joined from the rows encoded once on arrival."""
        return "[" + ",".join(self.encoded[bisect.bisect_right(self.cursors, cursor):]) + "]"

    def column(self, name: str) -> list[Any]:
        """One value per row (None where the row has none): ``number``, ``state``, ``objective``,
        ``cost:<name>`` or ``stat:<name>``; what the charts read, without walking the rows."""
        return self.columns.get(name, [None] * len(self.rows))

    def names(self, prefix: str) -> list[str]:
        """The cost or statistic names (``prefix`` ``cost:`` / ``stat:``) some row has, in arrival order."""
        return [key[len(prefix):] for key in self.columns if key.startswith(prefix)]

    def _append(self, row: dict[str, Any], statistics: dict[str, Statistic], event: int) -> None:
        index = len(self.rows)
        self.rows.append(row)
        self.encoded.append(_encode(row))
        self.statistics.append(statistics)
        self.cursors.append(event)
        values = {"number": row["number"], "state": row["state"], "objective": row["objective"]}
        values.update({f"cost:{k}": v for k, v in (row["cost"] or {}).items()})
        values.update({f"stat:{k}": v for k, v in statistics.items()})
        for key, value in values.items():
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = [None] * index
            column.append(value)
        for column in self.columns.values():
            if len(column) == index:
                column.append(None)

    def _drop(self, numbers: set[int]) -> None:
        kept = [(r, s, c) for r, s, c in zip(self.rows, self.statistics, self.cursors, strict=True)
                if r["number"] not in numbers]
        self.rows, self.statistics, self.cursors, self.encoded, self.columns = [], [], [], [], {}
        for row, statistics, cursor in kept:
            self._append(row, statistics, cursor)


class StudyCache:
    """Cached studies by (name, study id), least recently used dropped beyond ``max_rows`` rows."""

    def __init__(self, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._studies: OrderedDict[tuple[str, int], CachedStudy] = OrderedDict()

    def get(self, store: ReadStore, name: str, study_id: int) -> CachedStudy:
        """The study's cache, brought up to date with the store."""
        key = (name, study_id)
        cached = self._studies.pop(key, None) or CachedStudy(study_id)
        cached.refresh(store)
        self._studies[key] = cached
        self._evict(keep=key)
        return cached

    def clear(self) -> None:
        self._studies.clear()

    @property
    def rows(self) -> int:
        return sum(len(c.rows) for c in self._studies.values())

    def _evict(self, keep: tuple[str, int]) -> None:
        while self.rows > self.max_rows and len(self._studies) > 1:
            oldest = next(iter(self._studies))
            if oldest == keep:
                break
            del self._studies[oldest]
