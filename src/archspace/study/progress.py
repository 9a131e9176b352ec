"""A live rich progress bar for a running study: done/total, failures, ETA, best so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class StudyProgress:
    """What the driver reports after each finished trial."""

    total: int
    done: int
    failed: int
    diverged: int
    running: int
    best: float | None


class ProgressReporter(Protocol):
    def start(self, state: StudyProgress) -> None: ...
    def update(self, state: StudyProgress) -> None: ...
    def stop(self) -> None: ...


class RichProgress:
    """``rich.progress`` bar; the ETA comes from the speed of trials finished in this run
    (trials finished before a resume count as done but not towards the speed)."""

    def __init__(self, description: str = "study") -> None:
        self.description = description
        self._progress: Any = None
        self._task: Any = None

    def start(self, state: StudyProgress) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"), TimeElapsedColumn(), TextColumn("ETA"),
            TimeRemainingColumn(), transient=False)
        self._progress.start()
        self._task = self._progress.add_task(self.description, total=state.total,
                                             completed=state.done, status=_status(state))

    def update(self, state: StudyProgress) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=state.done, status=_status(state))

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _status(state: StudyProgress) -> str:
    best = "-" if state.best is None else f"{state.best:.4g}"
    parts = [f"failed {state.failed}"]
    if state.diverged:
        parts.append(f"diverged {state.diverged}")
    parts += [f"running {state.running}", f"best {best}"]
    return "  ".join(parts)
