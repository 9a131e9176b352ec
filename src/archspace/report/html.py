"""Write a report: figures (PNG + SVG), a self-contained HTML page, and summary.json.

The HTML embeds every figure as a base64 PNG, so the single file can be mailed or opened offline;
summary.json holds every number the page shows (and the full curves behind the figures).

``html_page``, ``html_table`` and ``escape`` are the page and table builders every archspace
report uses (the design-space report here, the ranking study's in ``archspace.report.ranking``).
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from archspace.analysis.summary import format_size
from archspace.report.build import ReportConfig, ReportContent, analyze_table

_STYLE = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px;
       color: #222; line-height: 1.4; padding: 0 1em; }
h1 { font-size: 1.6em; } h2 { font-size: 1.25em; border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.8em; }
table { border-collapse: collapse; font-size: .85em; margin: .6em 0; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f4f6f8; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .85em; color: #555; }
.notes { font-size: .85em; color: #444; background: #fafafa; border: 1px solid #eee; padding: .5em 1em; }
"""


@dataclass(frozen=True)
class ReportPaths:
    """Where a written report lives."""

    html: Path
    summary: Path
    figures: dict[str, dict[str, Path]]


def write_report(table: pd.DataFrame, out_dir: str | Path, config: ReportConfig | None = None) -> ReportPaths:
    """Analyze ``table`` and write report.html, summary.json and figures/ under ``out_dir``."""
    config = config or ReportConfig()
    content = analyze_table(table, config)
    return write_content(content, Path(out_dir))


def write_content(content: ReportContent, out_dir: Path) -> ReportPaths:
    """Write already-computed report content."""
    from archspace.report.figures import save_figure

    out_dir.mkdir(parents=True, exist_ok=True)
    figure_paths = {}
    for name, (figure, _) in content.figures.items():
        figure_paths[name] = save_figure(figure, out_dir / "figures", name)
    summary = {**content.summary, "generated": datetime.now(UTC).isoformat(timespec="seconds"),
               "figures": {name: {fmt: str(p.relative_to(out_dir)) for fmt, p in paths.items()}
                           for name, paths in figure_paths.items()}}
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(_finite(summary), indent=1) + "\n")
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(content, figure_paths), encoding="utf-8")
    return ReportPaths(html_path, summary_path, figure_paths)


def html_page(title: str, body: Iterable[str]) -> str:
    """A complete page: the shared style, ``title`` as heading, then the ``body`` HTML fragments."""
    head = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>", f"<h1>{escape(title)}</h1>"]
    return "\n".join([*head, *body, "</body></html>"])


def html_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table with one header row; header and cells are HTML fragments (``escape`` plain text)."""
    head = "<tr>" + "".join(f"<th>{h}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{head}{body}</table>"


def escape(value: Any) -> str:
    """``str(value)`` with HTML special characters escaped."""
    return html.escape(str(value))


def render_html(content: ReportContent, figure_paths: dict[str, dict[str, Path]]) -> str:
    """The report page with every figure embedded as a data URI."""
    summary = content.summary
    parts = [
        f"<p>{summary['models']} models in {len(summary['groups'])} population(s): {escape(', '.join(summary['groups']))}.</p>",
    ]
    if summary.get("notes"):
        parts.append('<div class="notes">' + "".join(f"<div><b>{escape(k)}</b>: {escape(v)}</div>" for k, v in summary["notes"].items()) + "</div>")
    parts += ["<h2>Design-space summary</h2>", _summary_table(content.tables["design_space_summary"])]
    parts += ["<h2>Error distributions</h2>", _figure_html("edf", content, figure_paths)]
    if "normalized_edf" in content.figures:
        parts.append(_figure_html("normalized_edf", content, figure_paths))
    parts += ["<h3>Kolmogorov-Smirnov distance between EDFs</h3>", _matrix_table(summary["ks_distance"])]
    if summary.get("ks_test"):
        parts += ["<h3>Do the EDFs differ? Two-sample KS tests</h3>", _ks_test_table(summary["ks_test"])]
    if summary.get("error_intervals"):
        parts += ["<h3>Mean and median error (bootstrap)</h3>", _interval_table(summary["error_intervals"])]
    if summary["bootstrap"]:
        parts += ["<h2>Trends: best value of each statistic (bootstrap)</h2>", _bootstrap_table(summary["bootstrap"])]
        parts += [_figure_html(f"bootstrap_{s}", content, figure_paths) for s in summary["bootstrap"]]
    widths = [name for name in content.figures if name.startswith("widths_")]
    if widths:
        parts += ["<h2>Per-block width profiles</h2>"] + [_figure_html(n, content, figure_paths) for n in widths]
    parts += ["<h2>Random-search efficiency</h2>", _figure_html("random_search", content, figure_paths)]
    for cost, front in summary["pareto"].items():
        parts += [f"<h2>Pareto front: error vs {escape(cost)}</h2>", _figure_html(f"pareto_{cost}", content, figure_paths)]
        parts += [f"<h3>Models on the front ({len(front)})</h3>", _frame_table(pd.DataFrame(front))]
        parts += [f"<h3>Compare at equal {escape(cost)}</h3>", _frame_table(content.tables[f"equal_cost_{cost}"])]
    return html_page(summary["title"], parts)


# --- HTML pieces -----------------------------------------------------------------------------


def _figure_html(name: str, content: ReportContent, figure_paths: dict[str, dict[str, Path]]) -> str:
    png = figure_paths[name]["png"].read_bytes()
    caption = content.figures[name][1]
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure id="fig-{escape(name)}"><img alt="{escape(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _summary_table(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    shown["size"] = [format_size(v) for v in shown["size"]]
    shown["dimension"] = ["-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:g}" for v in shown["dimension"]]
    return _frame_table(shown)


def _matrix_table(matrix: dict[str, dict[str, float]]) -> str:
    names = list(matrix)
    return html_table(["", *map(escape, names)],
                      ([escape(a), *(f"{matrix[a][b]:.3f}" for b in names)] for a in names))


def _ks_test_table(tests: list[dict[str, Any]]) -> str:
    rows = [[escape(t["a"]), escape(t["b"]), f"{t['statistic']:.3f}", f"{t['pvalue']:.3g}",
             "yes" if t["pvalue"] < 0.05 else "no"] for t in tests]
    return (html_table(["space A", "space B", "KS distance D", "p-value", "differ at 5%?"], rows)
            + "<p>p: chance of a distance at least D if both populations came from one error distribution "
              "(scipy's two-sample KS test; no correction for the number of pairs).</p>")


def _interval_table(intervals: dict[str, dict[str, dict[str, float]]]) -> str:
    rows = [[escape(name), *(f"{per[s]['value']:.2f} [{per[s]['low']:.2f}, {per[s]['high']:.2f}]"
                             for s in ("mean", "median"))] for name, per in intervals.items()]
    level = next(iter(intervals.values()))["mean"]
    return (html_table(["space", "mean error", "median error"], rows)
            + f"<p>value [{100 * level['level']:g}% percentile-bootstrap interval, {level['reps']} resamples "
              "of the population].</p>")


def _bootstrap_table(bootstrap: dict[str, dict[str, dict[str, float]]]) -> str:
    names = list(dict.fromkeys(n for per_group in bootstrap.values() for n in per_group))
    rows = [[escape(statistic), *(_best_cell(per_group.get(name)) for name in names)]
            for statistic, per_group in bootstrap.items()]
    return html_table(["statistic", *map(escape, names)], rows) + "<p>median [95% interval] of the best value.</p>"


def _best_cell(best: dict[str, float] | None) -> str:
    return "-" if best is None else f"{best['median']:.3g} [{best['low']:.3g}, {best['high']:.3g}]"


def _frame_table(frame: pd.DataFrame) -> str:
    return html_table([escape(c) for c in frame.columns],
                      ([escape(_cell(v)) for v in row] for row in frame.itertuples(index=False)))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _finite(value: Any) -> Any:
    """JSON has no NaN/inf: turn them into null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value
