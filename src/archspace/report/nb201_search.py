"""The NAS-Bench-201 search comparison's outputs: ``summary.json`` and the curve figure.

``summary`` is what ``archspace.experiments.nb201_search.summarize`` returns: per algorithm, the
best-so-far search-metric curve and the selected cell's test curve on the searched dataset (mean and 95% CI
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
    """Best-so-far search accuracy and the selected cell's headline test accuracy vs evaluations."""
    metric = summary["config"]["search_metric"]
    headline = summary.get("headline_metric", "cifar10_test_200")
    panels = (("best_so_far_search", f"best {metric} so far (%)", summary["best_cell"][metric]),
              ("selected_test", f"{headline} of selected cell (%)", summary["best_cell"][headline]))
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    for ax, (key, label, best) in zip(axes, panels, strict=True):
        _draw_panel(ax, summary["algorithms"], key, label, best)
    axes[1].legend(loc="lower right", fontsize=8)
    config = summary["config"]
    fig.suptitle(f"NAS-Bench-201 search ({config['search_metric']}, {config['seed_mode']}), mean and 95% CI "
                 f"over {config['runs']} runs")
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


def grid_markdown(grid: dict[str, Any], algorithms: list[str] | None = None, metric: str | None = None) -> str:
    """A markdown table of a grid summary: per cell, each algorithm's headline test accuracy
    (mean +- 95% CI; runs in brackets when not the grid's default), then our best vs the best peer.

    With ``metric`` (e.g. ``cifar100_test_200``) the table is that test accuracy of the same selected
    cells (transfer) and the last column is the cell's ``transfer`` Welch test on it; cells whose
    headline is ``metric`` itself are left out."""
    names = algorithms or list(grid["config"]["algorithms"])
    default_runs = grid["config"]["runs"]
    lines = ["| cell | " + " | ".join(names) + " | our best vs best peer: difference (Welch p) |",
             "|---|" + "---|" * (len(names) + 1)]
    for cid, cell in grid["cells"].items():
        if metric is not None and metric == cell["headline_metric"]:
            continue
        shown = metric or cell["headline_metric"]
        parts = []
        for name in names:
            entry = cell["algorithms"].get(name)
            if entry is None:
                parts.append("-")
                continue
            stat = entry[shown]
            text = f"{stat['mean']:.2f} ± {stat['ci95']:.2f}"
            parts.append(text if entry["runs"] == default_runs else f"{text} [{entry['runs']}]")
        versus = cell["ours_vs_peers"] if metric is None else cell.get("transfer", {}).get(metric, {})
        verdict = (f"{versus['our_best']} vs {versus['best_peer']}: {versus['difference']:+.3f} "
                   f"(p = {versus['p_value']:.2g}, {versus['verdict']})") if versus else "-"
        lines.append(f"| {cid} | " + " | ".join(parts) + f" | {verdict} |")
    return "\n".join(lines) + "\n"


def grid_cost_markdown(grid: dict[str, Any], cores: int = 2) -> str:
    """A markdown table of ``grid["cost"]``: per algorithm the CPU seconds per run at each budget and
    what the grid's full configuration costs at those rates, then the totals with and without the
    peers (and the wall time that is on ``cores`` fully used cores)."""
    cost = grid["cost"]
    budgets = [str(b) for b in grid["config"]["budgets"]]
    lines = ["| algorithm | " + " | ".join(f"CPU s/run at {b}" for b in budgets) + " | full grid: runs | full grid: CPU s |",
             "|---|" + "---|" * (len(budgets) + 2)]
    for name, entry in cost["algorithms"].items():
        rates = [f"{entry['cpu_per_run'][b]:.3f}" if b in entry["cpu_per_run"] else "-" for b in budgets]
        total = f"{entry['full_grid_cpu']:.0f}" if entry["full_grid_cpu"] is not None else "not all budgets timed"
        lines.append(f"| {name}{' (peer)' if entry['peer'] else ''} | " + " | ".join(rates)
                     + f" | {entry['full_grid_runs']} | {total} |")
    ours, peers = cost["full_grid_cpu"]["ours"], cost["full_grid_cpu"]["peers"]

    def wall(seconds: float) -> str:
        return f"{seconds:.0f} CPU s = {seconds / cores / 60:.1f} min on {cores} cores"

    lines.append("")
    if ours is not None:
        lines.append(f"Ours only: {wall(ours)}.")
    if ours is not None and peers is not None:
        lines.append(f"With the peers: {wall(ours + peers)} (the peers' own share: {peers:.0f} CPU s).")
    return "\n".join(lines) + "\n"


def na_markdown(result: dict[str, Any]) -> str:
    """A markdown table of the neighborhood-aware harness: NA-X vs X at equal evaluations."""
    lines = ["| signal | criterion | comparison | evaluations | runs | NA (mean ± 95% CI) | plain | NA - plain | Welch p |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        runs = "/".join(str(n) for n in r.get("runs", []))
        lines.append(f"| {r['signal']} | {r['criterion']} | na-{r['inner']} vs {r['inner']} | {r['evaluations']} | {runs} | "
                     f"{r['na']['mean']:.2f} ± {r['na']['ci95']:.2f} | {r['plain']['mean']:.2f} ± {r['plain']['ci95']:.2f} | "
                     f"{r['difference']:+.3f} | {r['p_value']:.2g} |")
    return "\n".join(lines) + "\n"


__all__ = ["curves_figure", "grid_cost_markdown", "grid_markdown", "na_markdown", "plot_curves", "write_report"]
