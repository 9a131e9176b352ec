"""A live progress bar for a running study: done/total, failures, ETA, best so far."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from archspace.progress import ProgressBar


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
    """The shared progress bar (``archspace.progress``, on stderr) fed by the driver; the ETA comes
    from the speed of trials finished in this run (trials finished before a resume count as done
    but not towards the speed). The bar stays on screen when the study stops."""

    def __init__(self, description: str = "study") -> None:
        self.description = description
        self._bar: ProgressBar | None = None

    def start(self, state: StudyProgress) -> None:
        self._bar = ProgressBar(self.description, state.total, completed=state.done,
                                status=_status(state), transient=False).start()

    def update(self, state: StudyProgress) -> None:
        if self._bar is not None:
            self._bar.update(completed=state.done, status=_status(state))

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _status(state: StudyProgress) -> str:
    best = "-" if state.best is None else f"{state.best:.4g}"
    parts = [f"failed {state.failed}"]
    if state.diverged:
        parts.append(f"diverged {state.diverged}")
    parts += [f"running {state.running}", f"best {best}"]
    return "  ".join(parts)
