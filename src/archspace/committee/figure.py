"""The committee figure: accuracy vs average cost of singles, ensembles and cascades.

Drawn on a ``matplotlib.figure.Figure`` of its own (no pyplot, no backend switch), so plotting
from a library call leaves the caller's matplotlib state alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from archspace.committee.pareto import CommitteePoint, front

_STYLE = {
    "single": {"marker": "o", "color": "tab:blue", "label": "single models"},
    "ensemble": {"marker": "s", "color": "tab:green", "label": "ensembles"},
    "cascade": {"marker": ".", "color": "tab:red", "label": "cascades (held-out front)"},
}


def plot_committees(
    points: Sequence[CommitteePoint],
    path: str | Path,
    chosen: CommitteePoint | None = None,
    title: str = "Committees",
    cost_label: str = "average cost (flops)",
    span: float | None = 15.0,
) -> Path:
    """Save ``committee_figure(points, chosen, title, cost_label, span)`` to ``path``; returns it."""
    figure = committee_figure(points, chosen, title, cost_label, span)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=130)
    return path


def committee_figure(
    points: Sequence[CommitteePoint],
    chosen: CommitteePoint | None = None,
    title: str = "Committees",
    cost_label: str = "average cost (flops)",
    span: float | None = 15.0,
) -> Figure:
    """Scatter every committee, draw each kind's front, mark the chosen cascade.

    ``span``: show only accuracies within this many points of the best (None: everything), so that
    a weak, cheap model does not squash the interesting region.
    """
    figure = Figure(figsize=(7.5, 5.0))
    axes = figure.subplots()
    for kind, style in _STYLE.items():
        members = [p for p in points if p.kind == kind]
        if not members:
            continue
        size = 12 if kind == "cascade" else 40
        axes.scatter([p.average_cost for p in members], [100 * p.accuracy for p in members], s=size,
                     marker=style["marker"], color=style["color"], alpha=0.5 if kind == "cascade" else 0.9,
                     label=style["label"])
        line = front(members)
        axes.step([p.average_cost for p in line], [100 * p.accuracy for p in line], where="post",
                  color=style["color"], linewidth=1.2)
    for rank, point in enumerate(p for p in points if p.kind == "single"):
        axes.annotate(point.members[0], (point.average_cost, 100 * point.accuracy), fontsize=7,
                      xytext=(5, -12 if rank % 2 else 6), textcoords="offset points")
    if chosen is not None:
        axes.scatter([chosen.average_cost], [100 * chosen.accuracy], marker="*", s=220, color="black",
                     zorder=5, label="selected cascade")
    axes.set_xscale("log")
    if span is not None and points:
        _zoom(axes, points, span)
    axes.set_xlabel(cost_label)
    axes.set_ylabel("test accuracy (%)")
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def _zoom(axes: object, points: Sequence[CommitteePoint], span: float) -> None:
    top = 100 * max(p.accuracy for p in points)
    shown = [p for p in points if 100 * p.accuracy >= top - span]
    costs = [p.average_cost for p in shown]
    axes.set_ylim(top - span, top + 0.1 * span)  # type: ignore[attr-defined]
    axes.set_xlim(min(costs) / 1.25, max(costs) * 1.25)  # type: ignore[attr-defined]
