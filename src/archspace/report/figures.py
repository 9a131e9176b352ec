"""Matplotlib figures in the style of *Designing Network Design Spaces*.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no global figure
state, safe in threads and headless); ``save_figure`` writes it as PNG and SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from archspace.analysis.bootstrap import BootstrapBest
from archspace.analysis.edf import EDF
from archspace.analysis.random_search import RandomSearchCurve

BAND_COLOR = "#9ecae1"
BEST_COLOR = "#08519c"
POINT_COLOR = "#4a4a4a"


def _figure(width: float = 4.8, height: float = 3.6) -> Figure:
    """A figure with fixed margins (in inches): a layout engine would double the drawing time."""
    figure = Figure(figsize=(width, height), dpi=110)
    figure.subplots_adjust(left=0.7 / width, right=1 - 0.15 / width, bottom=0.55 / height,
                           top=1 - 0.35 / height, wspace=0.25 / 2.4)
    return figure


def _log_x(axes) -> None:
    """Log x axis with labels on decades only (minor labels collide on narrow panels)."""
    axes.set_xscale("log")
    axes.xaxis.set_minor_formatter(NullFormatter())


def _style(axes) -> None:
    axes.grid(True, alpha=0.3, linewidth=0.6)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def edf_figure(edfs: Mapping[str, EDF], title: str = "error EDF", xlabel: str = "error") -> Figure:
    """EDF curves, one per population, legend ``name n | min | mean`` as in the paper."""
    figure = _figure()
    axes = figure.add_subplot()
    for name, edf in edfs.items():
        axes.plot(edf.grid, edf.values, linewidth=1.8, label=edf.label(name))
    axes.set_xlabel(xlabel)
    axes.set_ylabel("cumulative prob.")
    axes.set_ylim(0, 1.02)
    axes.set_title(title)
    axes.legend(title="n | min | mean", fontsize=7, title_fontsize=7, loc="lower right", frameon=False)
    _style(axes)
    return figure


def statistic_figure(
    panels: Mapping[str, tuple[np.ndarray, np.ndarray, BootstrapBest]],
    statistic: str,
    log_x: bool = False,
) -> Figure:
    """Scatter of ``statistic`` vs error, one panel per population, with the bootstrap band.

    ``panels`` maps a population name to (x, error, bootstrap of the best x). The shaded band is
    the bootstrap interval of the best x; the dark line its median (the most likely best value).
    """
    count = max(1, len(panels))
    columns = min(count, 3)
    rows = -(-count // columns)
    figure = _figure(3.3 * columns, 2.7 * rows)
    figure.subplots_adjust(hspace=0.9 / 2.7)
    grid = figure.subplots(rows, columns, sharey=True, squeeze=False)
    axes_list = grid.ravel()
    for axes in axes_list[count:]:
        axes.set_visible(False)
    for axes, (name, (x, error, best)) in zip(axes_list, panels.items(), strict=False):
        axes.axvspan(best.low, best.high, color=BAND_COLOR, alpha=0.5, linewidth=0)
        axes.scatter(x, error, s=7, color=POINT_COLOR, alpha=0.6, linewidths=0)
        axes.axvline(best.median, color=BEST_COLOR, linewidth=1.6)
        axes.set_title(f"{name}: {statistic} = {best.median:.3g} [{best.low:.3g}, {best.high:.3g}]", fontsize=8)
        axes.set_xlabel(statistic, labelpad=1)
        if log_x:
            _log_x(axes)
        _style(axes)
    for row in grid:
        row[0].set_ylabel("error")
    return figure


def width_profile_figure(profiles: Sequence[np.ndarray], errors: Sequence[float], title: str, top: int = 20) -> Figure:
    """Per-block widths of the ``top`` lowest-error models, darker = lower error (log y)."""
    figure = _figure()
    axes = figure.add_subplot()
    errors = np.asarray(errors, dtype=float)
    order = np.argsort(errors)[:top]
    shades = np.linspace(0.15, 0.85, max(1, order.size))
    for shade, index in zip(shades[::-1], order[::-1], strict=True):
        widths = np.asarray(profiles[index], dtype=float)
        axes.plot(np.arange(widths.size), widths, color=(shade, shade, shade + 0.1 * (1 - shade)), linewidth=1.2)
    axes.set_yscale("log", base=2)
    axes.set_xlabel("block index j")
    axes.set_ylabel("width w_j")
    axes.set_title(f"{title}: top {order.size} models", fontsize=9)
    _style(axes)
    return figure


def random_search_figure(curves: Mapping[str, RandomSearchCurve]) -> Figure:
    """Expected best error of k random models vs k (log x), with the quantile band."""
    figure = _figure()
    axes = figure.add_subplot()
    for name, curve in curves.items():
        line = axes.plot(curve.ks, curve.mean, linewidth=1.6, label=name)[0]
        axes.fill_between(curve.ks, curve.low, curve.high, color=line.get_color(), alpha=0.2, linewidth=0)
    _log_x(axes)
    axes.set_xlabel("models sampled k")
    axes.set_ylabel("expected best error")
    axes.set_title(f"random search efficiency (band: {int(round(100 * _level(curves)))}% of min)")
    axes.legend(fontsize=7, frameon=False)
    _style(axes)
    return figure


def pareto_figure(
    populations: Mapping[str, tuple[np.ndarray, np.ndarray]],
    front: tuple[np.ndarray, np.ndarray],
    cost: str,
    log_x: bool = True,
) -> Figure:
    """Every model as a point (one color per population) and the overall Pareto front as a step line."""
    figure = _figure()
    axes = figure.add_subplot()
    for name, (costs, errors) in populations.items():
        axes.scatter(costs, errors, s=6, alpha=0.5, linewidths=0, label=name)
    front_cost, front_error = front
    if front_cost.size:
        axes.step(front_cost, front_error, where="post", color="black", linewidth=1.4, label="Pareto front")
    if log_x:
        _log_x(axes)
    axes.set_xlabel(cost)
    axes.set_ylabel("error")
    axes.set_title(f"error vs {cost}")
    axes.legend(fontsize=7, frameon=False, markerscale=2)
    _style(axes)
    return figure


def save_figure(figure: Figure, out_dir: Path, stem: str, **savefig_options: Any) -> dict[str, Path]:
    """Write ``stem.png`` and ``stem.svg`` under ``out_dir``; return both paths.

    ``savefig_options`` (e.g. ``dpi``, ``bbox_inches``) go to ``Figure.savefig`` for both files.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {fmt: out_dir / f"{stem}.{fmt}" for fmt in ("png", "svg")}
    for fmt, path in paths.items():
        figure.savefig(path, format=fmt, **savefig_options)
    return paths


def _level(curves: Mapping[str, RandomSearchCurve]) -> float:
    return next(iter(curves.values())).level if curves else 0.5
