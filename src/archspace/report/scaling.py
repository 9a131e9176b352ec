"""The scaling study's report: error vs cost per rule, the best rule per budget, and a comparison.

``write_scaling_report(table, plan, out_dir)`` joins the study's trials to the plan's variants
(``archspace.scaling.analysis``), draws error vs flops (and vs measured latency when the trials
carry it) with one line per rule through the shared base, the achieved cost ratio of every
variant against its target, and, given another population, both on one error-vs-cost plane with
the equal-cost table; it writes figures/ (PNG + SVG), summary.json and report.html.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from archspace.analysis.pareto import compare_at_equal_cost, pareto_front_indices
from archspace.report.figures import _figure, _log_x, _style, pareto_figure, save_figure
from archspace.report.html import _finite, escape, html_page, html_table
from archspace.scaling.analysis import (
    best_rules,
    front_variants,
    rule_curves,
    variant_trials,
    verdict,
)

COSTS = ("flops", "params", "latency_ms", "latency_iqr_ms", "latency_cpu_ms", "throughput", "peak_memory_mb")


def curve_figure(curves: pd.DataFrame, cost: str, title: str) -> Figure:
    """Mean error (bar: bootstrap interval over seeds) vs achieved ``cost``, one line per rule."""
    figure = _figure(5.4, 3.8)
    axes = figure.add_subplot()
    base = curves[curves["rule"] == "base"]
    for rule, group in curves[curves["rule"] != "base"].groupby("rule", sort=False):
        group = pd.concat([base, group]).sort_values(cost)
        yerr = np.vstack([group["mean_error"] - group["ci_low"], group["ci_high"] - group["mean_error"]])
        axes.errorbar(group[cost], group["mean_error"], yerr=yerr, marker="o", markersize=4, capsize=2,
                      linewidth=1.2, label=rule)
    if not base.empty:
        axes.scatter(base[cost], base["mean_error"], color="black", zorder=5, s=25, label="base")
    values = curves[cost].to_numpy(dtype=float)
    if (values > 0).all() and values.max() / values.min() > 10:
        _log_x(axes)
    axes.set_xlabel(cost + (" (multiply-adds)" if cost == "flops" else ""))
    axes.set_ylabel("validation error (%)")
    axes.set_title(title)
    axes.legend(fontsize=7, frameon=False)
    _style(axes)
    return figure


def ratio_figure(variants: list[dict[str, Any]], cost_kind: str) -> Figure:
    """Achieved cost ratio of each variant against its target multiplier (the diagonal is exact)."""
    figure = _figure(4.6, 3.6)
    axes = figure.add_subplot()
    rules = list(dict.fromkeys(v["rule"] for v in variants))
    for offset, rule in enumerate(rules):
        chosen = [v for v in variants if v["rule"] == rule]
        jitter = 1 + 0.03 * (offset - (len(rules) - 1) / 2)
        axes.scatter([v["multiplier"] * jitter for v in chosen], [v["ratio"] for v in chosen], s=18, label=rule)
    targets = sorted({v["multiplier"] for v in variants})
    line = [min(targets) / 1.2, max(targets) * 1.2]
    axes.plot(line, line, color="black", linewidth=0.8, linestyle="--")
    _log_x(axes)
    axes.set_yscale("log")
    axes.set_xlabel(f"target {cost_kind} multiplier")
    axes.set_ylabel(f"achieved {cost_kind} ratio")
    axes.set_title("how closely each rule hits its target")
    axes.legend(fontsize=7, frameon=False)
    _style(axes)
    return figure


def comparison(table: pd.DataFrame, other: pd.DataFrame, cost: str, label: str,
               bins: int = 5) -> tuple[dict[str, Any], Figure] | None:
    """The scaled family (per trial) against another population at equal ``cost``."""
    if cost not in other.columns or cost not in table.columns:
        return None
    ours = table[["error", cost]].assign(group=label)
    theirs = other[["error", cost, "group"]].copy()
    theirs["group"] = theirs["group"].astype(str)
    both = pd.concat([ours, theirs], ignore_index=True)
    both = both[np.isfinite(both[cost].to_numpy(dtype=float))]
    if both.empty:
        return None
    costs, errors = both[cost].to_numpy(dtype=float), both["error"].to_numpy(dtype=float)
    front = pareto_front_indices(costs, errors)
    positive = bool(costs.min() > 0)
    equal = compare_at_equal_cost(both, cost, bins=bins, log=positive)
    populations = {name: (g[cost].to_numpy(dtype=float), g["error"].to_numpy(dtype=float))
                   for name, g in both.groupby("group", sort=False)}
    figure = pareto_figure(populations, (costs[front], errors[front]), cost, log_x=positive)
    on_front = both.iloc[front]["group"].value_counts().to_dict()
    return {"cost": cost, "equal_cost": _records(equal), "front_members": {str(k): int(v) for k, v in on_front.items()},
            "models": {str(k): int(v) for k, v in both["group"].value_counts().items()}}, figure


def write_scaling_report(table: pd.DataFrame, plan: Any, out_dir: Path, title: str = "Scaling study",
                         notes: Mapping[str, str] | None = None, reps: int = 2000, seed: int = 0,
                         comparison_table: pd.DataFrame | None = None,
                         comparison_label: str = "scaled") -> tuple[dict[str, Path], dict[str, Any]]:
    """Write figures/, summary.json and report.html for the study ``table`` of ``plan``."""
    variants = [plan.base.to_dict(), *[v.to_dict() for v in plan.variants]]
    trials = variant_trials(table, variants)
    costs = [c for c in COSTS if c in trials.columns]
    curves, draws = rule_curves(trials, costs, reps=reps, seed=seed)
    best = best_rules(curves, draws)
    figures: dict[str, tuple[Figure, str]] = {}
    figures["error_vs_flops"] = (curve_figure(curves, "flops", "error vs flops per scaling rule"),
                                 "Mean validation error over seeds (bars: 95% bootstrap interval over seeds) "
                                 "against the variant's analytic flops; every rule starts at the base (black).")
    if "latency_ms" in curves.columns and np.isfinite(curves["latency_ms"]).all():
        figures["error_vs_latency"] = (curve_figure(curves, "latency_ms", "error vs measured latency"),
                                       "The same errors against the median measured wall-clock latency "
                                       "(ms, batch 1; median over the variant's trials).")
    if "latency_cpu_ms" in curves.columns and np.isfinite(curves["latency_cpu_ms"]).all():
        figures["error_vs_cpu_latency"] = (curve_figure(curves, "latency_cpu_ms", "error vs CPU time per image"),
                                           "The same errors against the median process CPU time of a batch-1 "
                                           "pass (ms): steadier than wall-clock latency on a shared CPU.")
    figures["achieved_ratio"] = (ratio_figure(variants[1:], plan.cost_kind),
                                 f"Achieved {plan.cost_kind} ratio of each variant against its target multiplier.")
    summary: dict[str, Any] = {"title": title, "notes": dict(notes or {}), "plan": plan.to_dict(),
                               "curves": _records(curves), "best_rule_per_budget": best, "verdict": verdict(best),
                               "pareto": {cost: front_variants(curves, cost) for cost in
                                          ("flops", "params", "latency_ms", "latency_cpu_ms")
                                          if cost in curves.columns and np.isfinite(curves[cost]).all()}}
    if comparison_table is not None:
        compared = comparison(table, comparison_table, "flops", comparison_label)
        if compared is not None:
            summary["comparison"], figure = compared
            figures["comparison_flops"] = (figure, "The scaled variants (every trial) and the other population on "
                                                   "one error-vs-flops plane; black: the joint Pareto front.")
        else:
            summary["comparison"] = {"skipped": "the other population has no flops column"}
        compared = comparison(table, comparison_table, "latency_cpu_ms", comparison_label)
        if compared is not None:  # both measured the same way (e.g. a population trained by `scale --population`)
            summary["comparison_cpu_latency"], figure = compared
            figures["comparison_cpu_latency"] = (figure, "The same populations on the error vs CPU time per image "
                                                         "(batch 1) plane; black: the joint Pareto front.")
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: save_figure(fig, out_dir / "figures", name) for name, (fig, _) in figures.items()}
    summary["generated"] = datetime.now(UTC).isoformat(timespec="seconds")
    summary["figures"] = {name: {fmt: str(p.relative_to(out_dir)) for fmt, p in found.items()}
                          for name, found in paths.items()}
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(_finite(summary), indent=1) + "\n")
    html_path = out_dir / "report.html"
    html_path.write_text(render(summary, curves, figures, paths), encoding="utf-8")
    return {"html": html_path, "summary": summary_path}, summary


def render(summary: dict[str, Any], curves: pd.DataFrame, figures: Mapping[str, tuple[Figure, str]],
           paths: Mapping[str, Mapping[str, Path]]) -> str:
    import base64

    parts = []
    if summary["notes"]:
        items = "".join(f"<li><b>{escape(k)}</b>: {escape(v)}</li>" for k, v in summary["notes"].items())
        parts.append(f'<div class="notes"><ul>{items}</ul></div>')
    parts.append(f"<h2>Verdict</h2><p>{escape(summary['verdict'])}</p>")
    if summary.get("pareto"):
        items = "".join(f"<li><b>{escape(cost)}</b>: {escape(', '.join(names))}</li>"
                        for cost, names in summary["pareto"].items())
        parts.append(f"<p>Variants on the mean-error Pareto front of each cost (cheapest first):</p><ul>{items}</ul>")
    parts.append("<h2>Best rule per budget</h2>")
    parts.append(html_table(
        ["budget", "best rule", "error % (95% CI)", "P(best)", "runner-up", "margin", "within noise"],
        [[f"{b['multiplier']:g}x", escape(b["best_rule"]), f"{b['mean_error']:.2f} ({b['ci'][0]:.2f}-{b['ci'][1]:.2f})",
          f"{b['p_best']:.2f}", escape(b.get("runner_up", "")), f"{b.get('margin', float('nan')):.2f}",
          "yes" if b["within_noise"] else "no"] for b in summary["best_rule_per_budget"]]))
    parts.append("<h2>Variants</h2>")
    knobs = {v["name"]: v["knobs"] for v in [summary["plan"]["base"], *summary["plan"]["variants"]]}
    columns = [c for c in ("flops", "params", "latency_ms", "latency_iqr_ms", "latency_spread_ms", "latency_cpu_ms",
                           "throughput") if c in curves.columns]
    parts.append(html_table(
        ["variant", "knobs", "achieved ratio", *columns, "seeds", "error % (95% CI)"],
        [[escape(r["variant"]), escape(json.dumps(knobs.get(r["variant"], {}))), f"{r['ratio']:.3f}",
          *[_fmt(r[c]) for c in columns], str(r["seeds"]),
          f"{r['mean_error']:.2f} ({r['ci_low']:.2f}-{r['ci_high']:.2f})"] for _, r in curves.iterrows()]))
    for name, (_, caption) in figures.items():
        data = base64.b64encode(paths[name]["png"].read_bytes()).decode("ascii")
        parts.append(f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{data}">'
                     f"<figcaption>{escape(caption)}</figcaption></figure>")
    for key, what in (("comparison", "flops"), ("comparison_cpu_latency", "CPU latency")):
        rows = summary.get(key, {}).get("equal_cost")
        if rows:
            header = list(rows[0])
            parts.append(f"<h2>Comparison at equal {what}</h2>")
            parts.append(html_table([escape(h) for h in header], [[_fmt(row[h]) for h in header] for row in rows]))
    return html_page(summary["title"], parts)


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return ""
        return f"{value:.4g}"
    return escape(value)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out
