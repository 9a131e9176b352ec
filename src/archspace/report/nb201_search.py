"""The NAS-Bench-201 search comparison's outputs: ``summary.json`` and the curve figure.

``summary`` is what ``archspace.experiments.nb201_search.summarize`` returns: per algorithm, the
best-so-far search-metric curve and the selected cell's CIFAR-10 test curve (mean and 95% CI
half-width per evaluation), and the best cell of the table per metric.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from archspace.report.figures import save_figure


def write_report(summary: dict[str, Any], out: Path | str) -> list[Path]:
    """``summary.json`` and the curve figures (PNG + SVG) in ``out``; returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "summary.json"]
    paths[0].write_text(json.dumps(summary, indent=2) + "\n")
    paths += plot_curves(summary, out)
    return paths


def plot_curves(summary: dict[str, Any], out: Path) -> list[Path]:
    """Write ``curves.png`` and ``curves.svg`` (``curves_figure``) into ``out``; returns both paths."""
    return list(save_figure(curves_figure(summary), Path(out), "curves", dpi=120).values())


def curves_figure(summary: dict[str, Any]) -> Figure:
    """Best-so-far search accuracy and selected cell's CIFAR-10 test accuracy vs evaluations."""
    metric = summary["config"]["search_metric"]
    panels = (("best_so_far_search", f"best {metric} so far (%)", summary["best_cell"][metric]),
              ("selected_cifar10_test", "CIFAR-10 test acc. of selected cell (%)",
               summary["best_cell"]["cifar10_test_200"]))
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    for ax, (key, label, best) in zip(axes, panels, strict=True):
        _draw_panel(ax, summary["algorithms"], key, label, best)
    axes[1].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"NAS-Bench-201 search, mean and 95% CI over {summary['config']['runs']} runs")
    fig.tight_layout()
    return fig


def _draw_panel(ax: Any, algorithms: dict[str, Any], key: str, label: str, best: float) -> None:
    """One panel: each algorithm's mean curve with its CI band, and the best cell's level."""
    for name, entry in algorithms.items():
        mean = np.asarray(entry["curve"][key]["mean"])
        ci = np.asarray(entry["curve"][key]["ci95"])
        steps = np.arange(1, len(mean) + 1)
        (line,) = ax.plot(steps, mean, label=name)
        ax.fill_between(steps, mean - ci, mean + ci, color=line.get_color(), alpha=0.2)
    ax.axhline(best, color="black", linestyle=":", linewidth=1, label="best cell")
    ax.set_xlabel("evaluations")
    ax.set_ylabel(label)
    # the y range starts at the worst mean after 10 evaluations, so the early climb does not
    # squash the differences that matter
    low = min(np.asarray(e["curve"][key]["mean"])[min(9, len(e["curve"][key]["mean"]) - 1)]
              for e in algorithms.values()) if algorithms else best - 5
    ax.set_ylim(low - 0.5, best + 0.3)
    ax.grid(alpha=0.3)


__all__ = ["curves_figure", "plot_curves", "write_report"]
