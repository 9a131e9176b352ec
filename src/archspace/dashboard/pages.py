"""The dashboard's HTML: one skeleton per page; ``dashboard.js`` fills it from the JSON API.

Every page loads plotly's JavaScript and the dashboard's own script and stylesheet from this
server (``/static/...``), never from a CDN, and names what to show in ``window.ARCHSPACE``
(the page kind, the study, ...). Message pages (unknown study, unreadable database) are
rendered here, complete, so they work even when the API cannot answer.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any
from urllib.parse import quote

_HEAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - archspace dashboard</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dashboard.css">
</head><body{ready}>
<header><a class="brand" href="/">archspace dashboard</a>
<nav><a href="/">studies</a>{results_link}</nav><span class="db" title="database">{db}</span></header>
<main>
"""
_TAIL = """</main>
{scripts}
</body></html>
"""


def _page(title: str, body: str, db: str, results: bool, config: dict[str, Any] | None,
          charts: bool = True) -> str:
    results_link = ' <a href="/results">results</a>' if results else ""
    scripts = ""
    if config is not None:
        data = json.dumps(config).replace("</", "<\\/")
        plotly = '<script src="/static/plotly.min.js"></script>\n' if charts else ""  # 4.8 MB: only where drawn
        scripts = (f"<script>window.ARCHSPACE = {data};</script>\n"
                   f'{plotly}<script src="/static/dashboard.js"></script>')
    ready = ' data-ready="1"' if config is None else ""  # a message page is complete as served
    return (_HEAD.format(title=escape(title), results_link=results_link, db=escape(db), ready=ready)
            + body + _TAIL.format(scripts=scripts))


def study_list_page(db: str, results: bool) -> str:
    body = """<h1>Studies</h1>
<p class="hint">Updated every few seconds. Tick studies and press <em>compare</em> to overlay them.</p>
<div class="toolbar"><button id="compare" disabled>compare selected</button></div>
<table id="studies" class="grid"><thead><tr><th></th><th>study</th><th>status</th><th>space</th>
<th>evaluator</th><th>strategy</th><th>progress</th><th>waiting</th><th>running</th><th>complete</th>
<th>failed</th><th>diverged</th><th>best</th><th>last activity</th></tr></thead><tbody></tbody></table>
<p id="empty" class="hint" hidden>This database holds no study yet.</p>
"""
    return _page("studies", body, db, results, {"page": "list"}, charts=False)


def study_page(db: str, results: bool, name: str) -> str:
    safe = escape(name)
    body = f"""<h1>Study <span class="name">{safe}</span> <span id="status" class="badge"></span></h1>
<section id="summary" class="summary"></section>
<div class="progress"><div id="progress-bar"></div></div>
<div class="charts two">
  <div><h2>Best so far</h2><div id="best" class="chart"></div></div>
  <div><h2>Error EDF</h2><div id="edf" class="chart"></div></div>
</div>
<div class="charts two">
  <div><h2>Error vs <select id="cost-axis"></select> <label><input type="checkbox" id="log-x" checked> log</label></h2>
    <div id="scatter" class="chart"></div></div>
  <div><h2>Flops-normalized EDF</h2><div id="edf-normalized" class="chart"></div></div>
</div>
<h2>Spec statistics vs error</h2>
<div id="statistics" class="chart wide"></div>
<h2>Trials <span id="trial-count" class="hint"></span></h2>
<div class="toolbar"><input id="filter" placeholder="filter: text, or e.g. objective<10, state=failed">
<select id="state-filter"><option value="">all states</option><option>complete</option><option>failed</option>
<option>diverged</option><option>running</option><option>waiting</option><option>interrupted</option></select>
<span id="pager"></span></div>
<table id="trials" class="grid sortable" data-rows="0"><thead></thead><tbody></tbody></table>
"""
    return _page(name, body, db, results, {"page": "study", "study": name})


def trial_page(db: str, results: bool, name: str, number: int) -> str:
    link = f"/study/{quote(name, safe='')}"
    body = f"""<h1><a href="{link}">{escape(name)}</a> / trial {number} <span id="status" class="badge"></span></h1>
<section id="summary" class="summary"></section>
<div id="error-box" hidden><h2>Error</h2><pre id="error"></pre></div>
<div class="charts two">
  <div><h2>Spec</h2><pre id="spec"></pre></div>
  <div><h2>Complexity and cost</h2><table id="cost" class="grid"></table>
       <h2>Metrics</h2><table id="metrics" class="grid"></table>
       <h2>Spec statistics</h2><table id="stats" class="grid"></table></div>
</div>
<div id="curve-box" hidden><h2>Learning curve</h2><div id="curve" class="chart"></div></div>
<h2>Info</h2><pre id="info"></pre>
"""
    return _page(f"{name} #{number}", body, db, results, {"page": "trial", "study": name, "trial": number})


def compare_page(db: str, results: bool, names: list[str]) -> str:
    listed = ", ".join(f'<a href="/study/{quote(n, safe="")}">{escape(n)}</a>' for n in names)
    body = f"""<h1>Compare studies</h1><p>{listed}</p>
<div class="charts two">
  <div><h2>Error EDF</h2><div id="edf" class="chart"></div></div>
  <div><h2>Flops-normalized EDF</h2><div id="edf-normalized" class="chart"></div></div>
</div>
<h2>Pareto fronts: error vs <select id="cost-axis"></select></h2><div id="fronts" class="chart wide"></div>
"""
    return _page("compare", body, db, results, {"page": "compare", "studies": names})


def results_page(db: str, folder: str) -> str:
    body = f"""<h1>Results</h1><p class="hint">{escape(folder)}</p>
<table id="files" class="grid"><thead><tr><th>file</th><th>kind</th><th>size</th></tr></thead><tbody></tbody></table>
"""
    return _page("results", body, db, True, {"page": "results"}, charts=False)


def result_page(db: str, relative: str) -> str:
    body = f"""<h1><a href="/results">results</a> / {escape(relative)}</h1>
<div id="series" class="charts many"></div>
<div id="table-box" hidden><h2>Rows <span id="row-count" class="hint"></span></h2>
<table id="table" class="grid"><thead></thead><tbody></tbody></table></div>
<div id="tree-box" hidden><h2>Content</h2><pre id="tree"></pre></div>
"""
    return _page(relative, body, db, True, {"page": "result", "path": relative})


def message_page(db: str, results: bool, title: str, message: str) -> str:
    """A complete page saying what went wrong (no script needed)."""
    body = f'<h1>{escape(title)}</h1>\n<p class="message">{escape(message)}</p>\n<p><a href="/">back to the study list</a></p>\n'
    return _page(title, body, db, results, None)
