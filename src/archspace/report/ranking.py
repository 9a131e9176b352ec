"""The ranking-correlation study's report: ``report.json``, four figures and ``report.html``.

``report`` is the dict ``archspace.experiments.ranking_study.RankingStudy.build_report`` returns.
The figures follow the paper's Figures 2, 3 and 4 (plus a scatter of supernet against ground-truth
accuracy), each written as PNG and SVG; the page (built with ``archspace.report.html``'s page and
table builders) shows the tables and links the PNGs beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from archspace.analysis import ranking
from archspace.report.figures import save_figure
from archspace.report.html import escape, html_page, html_table

FIGURES = ("fig_tau_top_n", "fig_op_usage", "fig_mean_top_n", "fig_scatter")
CAPTIONS = {"fig_tau_top_n": "Figure 2 style: correlation over the top-N architectures.",
            "fig_op_usage": "Figure 3 style: op usage in the top-N cells.",
            "fig_mean_top_n": "Figure 4 style: mean supernet accuracy of the top-N against N (tau_a).",
            "fig_scatter": "Supernet accuracy against ground truth."}


def write_report(report: dict[str, Any], out: Path | str) -> list[Path]:
    """Write ``report.json``, the figures (PNG + SVG) and ``report.html`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, default=_plain, allow_nan=True))
    written = [out / "report.json"]
    for name, draw in figure_functions().items():
        written += save_figure(draw(report), out, name, dpi=110, bbox_inches="tight").values()
    (out / "report.html").write_text(render_html(report))
    written.append(out / "report.html")
    return written


def figure_functions() -> dict[str, Callable[[dict[str, Any]], Figure]]:
    """File stem -> the function drawing that figure from a report, in ``FIGURES`` order."""
    return {"fig_tau_top_n": tau_top_n_figure, "fig_op_usage": op_usage_figure,
            "fig_mean_top_n": mean_top_n_figure, "fig_scatter": scatter_figure}


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


# --- figures -----------------------------------------------------------------------------------

def tau_top_n_figure(report: dict[str, Any]) -> Figure:
    """Figure 2 style: correlation over the top-N by ground truth, mean +- std over seeds."""
    fig = Figure(figsize=(13, 3.6))
    axes = fig.subplots(1, 3, sharey=True)
    for axis, metric in zip(axes, ranking.METRICS, strict=True):
        for variation, result in report["results"].items():
            rows = result["aggregate"]["top_n"]
            ns = [r["n"] for r in rows]
            mean = np.array([r[metric]["mean"] for r in rows])
            std = np.array([r[metric]["std"] for r in rows])
            axis.errorbar(ns, mean, yerr=std, marker="o", capsize=3, label=variation)
        axis.axhline(0.0, color="grey", lw=0.8)
        axis.set_xscale("log")
        axis.set_xlabel("top-N architectures (by ground truth)")
        axis.set_title(metric)
    axes[0].set_ylabel("correlation with ground truth")
    axes[0].legend(fontsize=8)
    return fig


def _variation_panels(report: dict[str, Any]) -> tuple[Figure, Any]:
    """One figure with a panel per variation of the study (axes shaped (1, variations))."""
    count = len(report["results"])
    fig = Figure(figsize=(4.2 * count, 3.6))
    return fig, fig.subplots(1, count, squeeze=False)


def _label_first_panel(fig: Figure, axes: Any, ylabel: str) -> Figure:
    axes[0][0].set_ylabel(ylabel)
    axes[0][0].legend(fontsize=8)
    return fig


def op_usage_figure(report: dict[str, Any]) -> Figure:
    """Figure 3 style: op counts in the top-N cells, by ground truth and by supernet accuracy."""
    fig, axes = _variation_panels(report)
    for axis, (variation, result) in zip(axes[0], report["results"].items(), strict=True):
        usage = result["op_usage"]
        row = 1 if len(usage["n"]) > 1 else 0  # the second-smallest N (10 when available)
        n = usage["n"][row]
        x = np.arange(len(usage["ops"]))
        axis.bar(x - 0.2, usage["ground_truth"][row], 0.4, label="ground truth")
        axis.bar(x + 0.2, usage["supernet_mean_over_seeds"][row], 0.4, label="supernet (mean over seeds)")
        axis.set_xticks(x, [op.replace("nor_", "").replace("_connect", "") for op in usage["ops"]], rotation=30)
        axis.set_title(f"{variation}: ops in top-{n}")
    return _label_first_panel(fig, axes, "count over all edges")


def mean_top_n_figure(report: dict[str, Any]) -> Figure:
    """Figure 4 style: mean predicted accuracy of the top-N (by ground truth) against N; tau_a."""
    fig, axes = _variation_panels(report)
    for axis, (variation, result) in zip(axes[0], report["results"].items(), strict=True):
        for entry in result["per_seed"]:
            predicted, truth = np.array(entry["predicted"]), np.array(result["truth"])
            ns = np.arange(1, len(truth) + 1)
            axis.plot(ns, ranking.mean_predicted_top_n(predicted, truth, ns), label=f"seed {entry['seed']}")
        tau = result["aggregate"]["tau_a"]
        axis.set_title(f"{variation}: tau_a {tau['mean']:.2f} +- {tau['std']:.2f}")
        axis.set_xlabel("N (top-N by ground truth)")
    return _label_first_panel(fig, axes, "mean supernet accuracy of top-N (%)")


def scatter_figure(report: dict[str, Any]) -> Figure:
    """Supernet accuracy against ground-truth accuracy, every seed."""
    fig, axes = _variation_panels(report)
    for axis, (variation, result) in zip(axes[0], report["results"].items(), strict=True):
        for entry in result["per_seed"]:
            axis.scatter(result["truth"], entry["predicted"], s=14, label=f"seed {entry['seed']}")
        kendall = result["aggregate"]["all"]["kendall"]
        axis.set_title(f"{variation}: tau {kendall['mean']:.2f} +- {kendall['std']:.2f}")
        axis.set_xlabel("stand-alone / benchmark accuracy (%)")
    return _label_first_panel(fig, axes, "supernet accuracy (%)")


# --- the page ----------------------------------------------------------------------------------

def render_html(report: dict[str, Any]) -> str:
    """The report page (figures linked as sibling PNG files) with the tables of the report."""
    parts = []
    if report.get("command_line"):
        parts.append(f"<p>Command: <code>{escape(report['command_line'])}</code></p>")
    parts += [_setup_paragraph(report), _ground_truth_paragraph(report["ground_truth"])]
    parts += ["<h2>Correlation with ground truth (mean &plusmn; std over supernet seeds)</h2>",
              _correlation_table(report["results"])]
    parts += ["<h2>Kendall tau over the top-N by ground truth</h2>", _top_n_table(report["results"])]
    parts += ["<h2>Supernets</h2>", _supernet_table(report["supernets"])]
    parts += [f"<h3>{CAPTIONS[name]}</h3><img src='{name}.png' style='max-width:100%'>" for name in FIGURES]
    parts.append(f"<p>Full numbers: <a href='report.json'>report.json</a>. Generated {report['created_at']}.</p>")
    return html_page(report["title"], parts)


def _fmt(stat: dict[str, float]) -> str:
    return "n/a" if not np.isfinite(stat["mean"]) else f"{stat['mean']:+.3f} &plusmn; {stat['std']:.3f}"


def _setup_paragraph(report: dict[str, Any]) -> str:
    cfg, bn = report["config"], report["bn_recompute"]
    bn_text = (f"recomputed per sub-network on {bn['batches']} x {bn['batch_size']} training images" if bn
               else "the supernet's training statistics (not recomputed)")
    return (f"<p>Data: {escape(cfg['dataset'])}, training images: {cfg['train_subset'] or 'all'}, "
            f"validation images: {cfg['val_size']}. Macro network: N = {cfg['cells_per_stage']} cells per stage, "
            f"C = {cfg['channels']} channels. Supernet seeds: {cfg['seeds']}. Supernet epochs: "
            f"{cfg['supernet_recipe']['epochs']}. BatchNorm statistics for inherited-weight evaluation: "
            f"{bn_text}.</p>")


def _ground_truth_paragraph(gt: dict[str, Any]) -> str:
    return (f"<p>Ground truth: {escape(gt['kind'])}, {gt['count']} cells over ops {gt['ops']}, "
            f"accuracy {gt['accuracy_range'][0]:.2f}..{gt['accuracy_range'][1]:.2f} %.</p>")


def _correlation_table(results: dict[str, Any]) -> str:
    header = ["variation", "cells", "Kendall tau", "Spearman", "Pearson", "tau_a", "random sample tau"]
    rows = [[escape(variation), str(r["aggregate"]["count"]),
             *(_fmt(r["aggregate"]["all"][m]) for m in ranking.METRICS),
             _fmt(r["aggregate"]["tau_a"]), _fmt(r["aggregate"]["random_sample"]["kendall"])]
            for variation, r in results.items()]
    return html_table(header, rows)


def _top_n_table(results: dict[str, Any]) -> str:
    all_ns = sorted({row["n"] for r in results.values() for row in r["aggregate"]["top_n"]})
    rows = []
    for variation, result in results.items():
        by_n = {row["n"]: row["kendall"] for row in result["aggregate"]["top_n"]}
        rows.append([escape(variation), *(_fmt(by_n[n]) if n in by_n else "" for n in all_ns)])
    return html_table(["variation", *(f"N={n}" for n in all_ns)], rows)


def _supernet_table(supernets: dict[str, Any]) -> str:
    rows = []
    for run, info in supernets.items():
        loss = "" if info["final_train_loss"] is None else f"{info['final_train_loss']:.3f}"
        err = "" if info["final_train_error"] is None else f"{info['final_train_error']:.1f}"
        rows.append([escape(run), str(info["steps"]), str(info["train_seconds"]), loss, err])
    return html_table(["run", "steps", "train s", "final train loss", "final train error %"], rows)


__all__ = ["CAPTIONS", "FIGURES", "figure_functions", "render_html", "write_report"]
