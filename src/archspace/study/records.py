"""Trial states and the plain records a study hands out.

States: ``waiting`` (asked, not yet started, or re-queued), ``running``, ``complete``, ``failed``
(the evaluator raised; the traceback is kept in ``error``), ``diverged`` (the evaluator reported a
NaN/inf loss; kept, shown, and counted as finished), ``interrupted`` (running when the driver was
stopped with Ctrl-C; re-queued as ``waiting`` on resume).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from archspace.arch import ArchSpec, arch_from_json
from archspace.evaluation import Result

WAITING = "waiting"
RUNNING = "running"
COMPLETE = "complete"
FAILED = "failed"
DIVERGED = "diverged"
INTERRUPTED = "interrupted"

STATES = (WAITING, RUNNING, COMPLETE, FAILED, DIVERGED, INTERRUPTED)
FINISHED_STATES = (COMPLETE, FAILED, DIVERGED)


@dataclass
class TrialRecord:
    """One stored trial (a row of the ``trials`` table, JSON fields decoded)."""

    number: int
    state: str
    arch_json: str
    arch_hash: str
    seed: int
    objective: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    cost: dict[str, float] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    predictions_path: str | None = None
    error: str | None = None
    worker: str | None = None
    attempts: int = 0
    created_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    duration_s: float | None = None

    @property
    def arch(self) -> ArchSpec:
        """The architecture spec (its kind's module must be imported)."""
        return arch_from_json(self.arch_json)

    @classmethod
    def from_row(cls, row: Any) -> TrialRecord:
        return cls(
            number=row["number"], state=row["state"], arch_json=row["arch_json"],
            arch_hash=row["arch_hash"], seed=row["seed"], objective=row["objective"],
            metrics=loads(row["metrics_json"]), cost=loads(row["cost_json"]),
            info=loads(row["info_json"]), predictions_path=row["predictions_path"],
            error=row["error"], worker=row["worker"], attempts=row["attempts"],
            created_at=row["created_at"], started_at=row["started_at"],
            finished_at=row["finished_at"], duration_s=row["duration_s"],
        )


def dumps(value: Any) -> str:
    """Compact JSON; numpy scalars become Python numbers; NaN/inf become null (valid JSON)."""
    return json.dumps(_clean(value), separators=(",", ":"), sort_keys=True, allow_nan=False)


def loads(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "tolist"):
        return _clean(value.tolist())
    return str(value)


def result_payload(result: Result) -> str:
    """The part of a result a strategy is told, as JSON (predictions are stored separately)."""
    return dumps({
        "objective": finite_or_none(result.objective), "metrics": result.metrics,
        "cost": result.cost, "status": result.status, "info": result.info,
    })


def result_from_payload(text: str) -> Result:
    data = json.loads(text)
    return Result(objective=data["objective"], metrics=data["metrics"], cost=data["cost"],
                  status=data["status"], info=data.get("info", {}))


def finite_or_none(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
