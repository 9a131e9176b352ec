"""The one progress bar of archspace: a rich bar on stderr, or nothing at all.

Every long-running piece (studies, supernet and stand-alone training, search comparisons, the
cascade search) shows the same columns: a description, the bar, done/total, a free-text status
(loss, best so far, ...), elapsed time and ETA. Progress goes to stderr so that stdout stays
clean for tables and ``--json`` output. A disabled bar accepts every call and draws nothing, so
callers never branch on whether progress is wanted.

    with ProgressBar("search runs", total=200, enabled=not quiet) as bar:
        for batch in batches:
            bar.advance(len(batch))
"""

from __future__ import annotations

from typing import Any


class ProgressBar:
    """A rich progress bar with ``start``/``update``/``advance``/``stop``; also a context manager.

    ``total=None`` draws an indeterminate bar until a total is given to ``update``. ``transient``
    bars disappear when stopped; a non-transient one leaves its last state on the terminal (and,
    when stderr is not a terminal, prints that state once at the end).
    """

    def __init__(self, description: str, total: float | None = None, *, completed: float = 0,
                 status: str = "", enabled: bool = True, transient: bool = True) -> None:
        self.enabled = enabled
        self.transient = transient
        self._fields: dict[str, Any] = {"description": description, "total": total,
                                        "completed": completed, "status": status}
        self._progress: Any = None
        self._task: Any = None

    @property
    def running(self) -> bool:
        """Whether the bar is currently drawn."""
        return self._progress is not None

    def start(self) -> ProgressBar:
        """Begin drawing (no-op when disabled or already running); returns the bar."""
        if not self.enabled or self._progress is not None:
            return self
        from rich.console import Console
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
            TimeRemainingColumn(), console=Console(stderr=True), transient=self.transient)
        self._progress.start()
        fields = self._fields
        self._task = self._progress.add_task(fields["description"], total=fields["total"],
                                             completed=fields["completed"], status=fields["status"])
        return self

    def update(self, *, completed: float | None = None, total: float | None = None,
               description: str | None = None, status: str | None = None) -> None:
        """Set any of the shown values; the others keep theirs."""
        changes = {k: v for k, v in (("completed", completed), ("total", total),
                                     ("description", description), ("status", status)) if v is not None}
        self._fields.update(changes)
        if self._progress is not None:
            self._progress.update(self._task, **changes)

    def advance(self, amount: float = 1) -> None:
        """Count ``amount`` more units done."""
        self.update(completed=self._fields["completed"] + amount)

    def stop(self) -> None:
        """Stop drawing (idempotent); a stopped bar can be started again."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None

    def __enter__(self) -> ProgressBar:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = ["ProgressBar"]
