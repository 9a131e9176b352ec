/* archspace dashboard: fills the server's page skeletons from its JSON API and keeps them live.
 *
 * The study page loads every finished trial once (/trials?after=0) and then polls
 * /trials?after=CURSOR, which answers only the trials finished since; new points are appended
 * to the scatter plot (Plotly.extendTraces) and the table, and the derived charts (EDFs, fronts,
 * best so far, spec statistics) are re-fetched only when something new arrived. No page reloads.
 */
(function () {
  "use strict";

  var cfg = window.ARCHSPACE || {};
  var POLL_MS = Number(new URLSearchParams(window.location.search).get("poll_ms")) || cfg.poll_ms || 2000;
  var PAGE_ROWS = 50;
  var enc = encodeURIComponent;
  var PLOT_CONFIG = { displaylogo: false, responsive: true };
  var SMALL_PLOT_CONFIG = { displayModeBar: false, responsive: true };
  var WEBGL = (function () {
    try {
      var context = document.createElement("canvas").getContext("webgl");
      var lose = context && context.getExtension("WEBGL_lose_context");
      if (lose) { lose.loseContext(); }
      return !!context;
    } catch (e) {
      return false;
    }
  })();
  var SCATTER = WEBGL ? "scattergl" : "scatter";
  var GL_POINTS = 3000;

  function $(id) { return document.getElementById(id); }

  function api(path) {
    return fetch(path, { cache: "no-store" }).then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok) { throw new Error(body.error || response.statusText); }
        return body;
      });
    });
  }

  function layout(extra) {
    var base = {
      margin: { l: 60, r: 15, t: 10, b: 45 }, height: 300, hovermode: "closest",
      paper_bgcolor: "#fff", plot_bgcolor: "#fafafa", font: { size: 12 },
      legend: { orientation: "h", y: -0.25 }
    };
    return Object.assign(base, extra || {});
  }

  function fmt(value, digits) {
    if (value === null || value === undefined || value === "") { return ""; }
    if (typeof value !== "number") { return String(value); }
    if (Number.isInteger(value) && Math.abs(value) < 1e6) { return String(value); }
    var abs = Math.abs(value);
    if (abs >= 1e9) { return (value / 1e9).toPrecision(digits || 4) + "G"; }
    if (abs >= 1e6) { return (value / 1e6).toPrecision(digits || 4) + "M"; }
    return value.toPrecision(digits || 4);
  }

  function ago(timestamp, now) {
    if (!timestamp) { return ""; }
    var s = Math.max(0, (now || Date.now() / 1000) - timestamp);
    if (s < 90) { return Math.round(s) + " s ago"; }
    if (s < 5400) { return Math.round(s / 60) + " min ago"; }
    if (s < 129600) { return Math.round(s / 3600) + " h ago"; }
    return Math.round(s / 86400) + " d ago";
  }

  function clock(timestamp) {
    return timestamp ? new Date(timestamp * 1000).toLocaleString() : "";
  }

  function node(tag, attrs, children) {
    var element = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { element.textContent = attrs[key]; } else { element.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) {
      element.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return element;
  }

  function link(href, text) { return node("a", { href: href, text: text }); }

  function banner(message) {
    var box = $("banner");
    if (!box) {
      box = node("div", { id: "banner", "class": "banner" });
      document.querySelector("main").prepend(box);
    }
    box.textContent = message;
    box.hidden = !message;
  }

  function poll(step, every) {
    function again() {
      step().then(function () { banner(""); }, function (error) { banner(String(error.message || error)); })
        .then(function () { setTimeout(again, every); });
    }
    setTimeout(again, every);
  }

  function ready() { document.body.setAttribute("data-ready", "1"); }

  // Named moments of the first render, for the benchmark (performance.getEntriesByType("mark")).
  function mark(name) { if (window.performance && performance.mark) { performance.mark(name); } }

  function statusBadge(element, status) {
    var labels = { running: "running", dead: "driver died", finished: "finished", stopped: "stopped" };
    element.textContent = labels[status] || status || "";
    element.className = "badge " + (status || "");
  }

  function keyValues(table, pairs) {
    table.innerHTML = "";
    pairs.forEach(function (pair) {
      table.appendChild(node("tr", {}, [node("th", { text: pair[0] }), node("td", { text: fmt(pair[1]) })]));
    });
  }

  // --- study list ---------------------------------------------------------------------------------
  function listPage() {
    var selected = new Set();
    var button = $("compare");
    button.addEventListener("click", function () {
      var query = Array.from(selected).map(function (n) { return "study=" + enc(n); }).join("&");
      window.location.href = "/compare?" + query;
    });

    function render(data) {
      var body = $("studies").querySelector("tbody");
      body.innerHTML = "";
      $("empty").hidden = data.studies.length > 0;
      data.studies.forEach(function (s) {
        var box = node("input", { type: "checkbox" });
        box.checked = selected.has(s.name);
        box.addEventListener("change", function () {
          if (box.checked) { selected.add(s.name); } else { selected.delete(s.name); }
          button.disabled = selected.size < 1;
        });
        var badge = node("span");
        statusBadge(badge, s.status);
        var target = s.n_trials ? s.finished + " / " + s.n_trials : String(s.finished);
        var best = s.best_objective === null ? "" : fmt(s.best_objective) + " (#" + s.best_number + ")";
        var row = node("tr", { "data-study": s.name }, [
          node("td", {}, [box]), node("td", {}, [link("/study/" + enc(s.name), s.name)]), node("td", {}, [badge]),
          node("td", { text: s.space || "" }), node("td", { text: s.evaluator || "" }),
          node("td", { text: s.strategy || "" }), node("td", { text: target }),
          node("td", { text: s.counts.waiting + s.counts.interrupted }), node("td", { text: s.counts.running }),
          node("td", { text: s.counts.complete }), node("td", { text: s.counts.failed }),
          node("td", { text: s.counts.diverged }), node("td", { text: best }),
          node("td", { text: ago(s.last_activity, s.now), title: clock(s.last_activity) })
        ]);
        body.appendChild(row);
      });
    }

    function step() { return api("/api/studies").then(render); }
    step().then(ready, function (error) { banner(error.message); ready(); })
      .then(function () { poll(step, POLL_MS + 1000); });
  }

  // --- study page ---------------------------------------------------------------------------------
  function studyPage() {
    var name = cfg.study;
    var base = "/api/studies/" + enc(name);
    var state = {
      cursor: 0, finished: new Map(), open: [], costs: [], axis: null, charts: null,
      sortKey: "number", sortDir: 1, page: 0, overview: null
    };

    function allRows() {
      var finishedNumbers = state.finished;
      var rows = Array.from(finishedNumbers.values());
      state.open.forEach(function (row) { if (!finishedNumbers.has(row.number)) { rows.push(row); } });
      return rows;
    }

    function costOf(row, key) {
      var value = row.cost ? row.cost[key] : undefined;
      return typeof value === "number" ? value : null;
    }

    // summary and progress
    function renderSummary(data) {
      state.overview = data;
      statusBadge($("status"), data.status);
      var counts = data.counts;
      var best = data.best_objective === null ? "-" : fmt(data.best_objective) + " (trial " + data.best_number + ")";
      var parts = [
        ["space", data.space || "-"], ["evaluator", data.evaluator || "-"], ["strategy", data.strategy || "-"],
        ["finished", data.finished + (data.n_trials ? " of " + data.n_trials : "")],
        ["waiting", counts.waiting + counts.interrupted], ["running", counts.running],
        ["complete", counts.complete], ["failed", counts.failed], ["diverged", counts.diverged],
        ["best", best], ["last activity", ago(data.last_activity, data.now)]
      ];
      if (data.status === "dead") { parts.push(["driver", data.driver + " is gone; rerun the study to resume it"]); }
      var summary = $("summary");
      summary.innerHTML = "";
      parts.forEach(function (p) {
        summary.appendChild(node("span", { "class": "item" }, [node("b", { text: p[0] + ": " }), String(p[1])]));
      });
      var fraction = data.n_trials ? Math.min(1, data.finished / data.n_trials) : 0;
      $("progress-bar").style.width = (100 * fraction).toFixed(1) + "%";
    }

    // trials arriving
    // Adds an answer's trials; returns those not already held (a retried trial comes again).
    function merge(answer) {
      var fresh = answer.trials.filter(function (row) {
        var held = state.finished.get(row.number);
        return !held || held.cursor !== row.cursor;
      });
      fresh.forEach(function (row) { state.finished.set(row.number, row); });
      state.open = answer.open;
      state.cursor = answer.cursor;
      var costs = new Set(state.costs);
      answer.trials.forEach(function (row) {
        Object.keys(row.cost || {}).forEach(function (key) { costs.add(key); });
      });
      state.costs = Array.from(costs);
      return fresh;
    }

    function completeRows(rows) {
      return rows.filter(function (row) { return row.state === "complete" && row.objective !== null; });
    }

    // charts
    function scatterPoints(rows, axis) {
      var points = { x: [], y: [], text: [], customdata: [] };
      completeRows(rows).forEach(function (row) {
        var x = costOf(row, axis);
        if (x === null) { return; }
        points.x.push(x); points.y.push(row.objective);
        points.text.push("trial " + row.number); points.customdata.push(row.number);
      });
      return points;
    }

    function frontTrace() {
      var front = state.charts && state.charts.fronts ? state.charts.fronts[state.axis] : null;
      return {
        type: "scatter", mode: "lines+markers", name: "Pareto front", x: front ? front.x : [],
        y: front ? front.y : [], line: { shape: "hv", color: "#d62728" }, marker: { size: 7 },
        text: front ? front.number.map(function (n) { return "trial " + n; }) : []
      };
    }

    function drawScatter() {
      var select = $("cost-axis");
      var wanted = state.costs.slice().sort(function (a, b) {
        var order = ["flops", "params", "acts"];
        var ia = order.indexOf(a), ib = order.indexOf(b);
        return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
      });
      if (select.options.length !== wanted.length) {
        select.innerHTML = "";
        wanted.forEach(function (key) { select.appendChild(node("option", { value: key, text: key })); });
        if (state.axis && wanted.indexOf(state.axis) >= 0) { select.value = state.axis; }
      }
      state.axis = select.value || null;
      var div = $("scatter");
      if (!state.axis) {
        div.textContent = "no trial recorded a cost yet";
        return Promise.resolve();
      }
      if (!div.data) { div.textContent = ""; }
      var points = scatterPoints(Array.from(state.finished.values()), state.axis);
      // WebGL only where it pays: SVG draws a few thousand points faster than a GL context starts.
      var kind = points.x.length > GL_POINTS ? SCATTER : "scatter";
      var trace = Object.assign({ type: kind, mode: "markers", name: "trials",
                                  marker: { size: 5, opacity: 0.6, color: "#1f77b4" } }, points);
      var logX = $("log-x").checked && points.x.every(function (v) { return v > 0; });
      return Plotly.react(div, [trace, frontTrace()], layout({
        xaxis: { title: { text: state.axis }, type: logX ? "log" : "linear" },
        yaxis: { title: { text: "error (objective)" } }
      }), PLOT_CONFIG).then(function () {
        if (!div.dataset.clicks) {
          div.dataset.clicks = "1";
          div.on("plotly_click", function (event) {
            var number = event.points[0].customdata;
            if (number !== undefined) { window.location.href = "/study/" + enc(name) + "/trial/" + number; }
          });
        }
      });
    }

    function appendScatter(rows) {
      var div = $("scatter");
      if (!state.axis || !div.data) { return drawScatter(); }
      var points = scatterPoints(rows, state.axis);
      if (WEBGL && div.data[0].type === "scatter" && div.data[0].x.length + points.x.length > GL_POINTS) {
        return drawScatter();  // grown past what SVG draws quickly: redraw with WebGL
      }
      var steps = [];
      if (points.x.length) {
        steps.push(Plotly.extendTraces(div, {
          x: [points.x], y: [points.y], text: [points.text], customdata: [points.customdata]
        }, [0]));
      }
      return Promise.all(steps);
    }

    function drawEdf(id, edf, note) {
      var div = $(id);
      if (!edf) {
        if (div.data) { Plotly.purge(div); }
        div.textContent = note;
        return Promise.resolve();
      }
      if (!div.data) { div.textContent = ""; }
      var label = "n=" + edf.n + " | min " + fmt(edf.min) + " | mean " + fmt(edf.mean);
      return Plotly.react(div, [{
        type: "scatter", mode: "lines", x: edf.grid, y: edf.values, name: label, line: { shape: "hv" }
      }], layout({
        xaxis: { title: { text: "error" } }, yaxis: { title: { text: "cumulative prob." }, range: [0, 1] },
        showlegend: true
      }), PLOT_CONFIG);
    }

    function drawBest(best) {
      return Plotly.react($("best"), [{
        type: "scatter", mode: "lines+markers", x: best.x, y: best.y, line: { shape: "hv" },
        text: best.number.map(function (n) { return "trial " + n; }), name: "best so far"
      }], layout({
        xaxis: { title: { text: "finished trials" } }, yaxis: { title: { text: "best error" } }
      }), PLOT_CONFIG);
    }

    // Every spec statistic in ONE plotly figure (a grid of subplots): one layout pass instead
    // of one per statistic, which is what keeps a page with 25 statistics fast.
    function drawStatistics(stats) {
      var div = $("statistics");
      var wanted = (stats || []).slice(0, 40);
      if (!wanted.length) {
        if (div.data) { Plotly.purge(div); }
        div.textContent = "no spec statistic varies across the complete trials yet";
        return Promise.resolve();
      }
      if (!div.data) { div.textContent = ""; }
      var columns = Math.max(1, Math.min(4, Math.floor((div.clientWidth || 1200) / 300)));
      var rows = Math.ceil(wanted.length / columns);
      var rowHeight = 240;
      var gapX = 0.06, gapY = 95 / (rows * rowHeight);
      var traces = [], annotations = [];
      var figure = layout({
        height: rows * rowHeight, margin: { l: 50, r: 10, t: 24, b: 50 }, showlegend: false
      });
      wanted.forEach(function (stat, index) {
        var row = Math.floor(index / columns), column = index % columns;
        var axis = index === 0 ? "" : String(index + 1);
        var x0 = column / columns + (column ? gapX / 2 : 0), x1 = (column + 1) / columns - gapX / 2;
        var y1 = 1 - row / rows, y0 = 1 - (row + 1) / rows + gapY;
        var pick = function (key) { return stat.boxes.map(function (b) { return b[key]; }); };
        traces.push({
          type: "box", xaxis: "x" + axis, yaxis: "y" + axis, x: pick("label"), q1: pick("q1"),
          median: pick("median"), q3: pick("q3"), lowerfence: pick("min"), upperfence: pick("max"),
          mean: pick("mean"), name: stat.name, marker: { color: "#2ca02c" },
          hovertext: stat.boxes.map(function (b) { return "n=" + b.n; })
        });
        figure["xaxis" + axis] = { domain: [x0, x1], anchor: "y" + axis, type: "category", tickfont: { size: 10 } };
        figure["yaxis" + axis] = { domain: [y0, y1], anchor: "x" + axis, tickfont: { size: 10 } };
        var title = stat.name + (stat.same && stat.same.length ? " (= " + stat.same.join(", ") + ")" : "") +
          (typeof stat.spearman === "number" ? "   Spearman \u03c1 = " + stat.spearman.toFixed(2) : "");
        annotations.push({ text: "<b>" + title + "</b>", showarrow: false, xref: "paper", yref: "paper",
                           x: x0, y: y1, xanchor: "left", yanchor: "bottom", font: { size: 11 } });
      });
      figure.annotations = annotations;
      return Plotly.react(div, traces, figure, SMALL_PLOT_CONFIG);
    }

    function drawCharts(charts) {
      state.charts = charts;
      return Promise.all([
        drawBest(charts.best_so_far),
        drawEdf("edf", charts.edf, "no complete trial yet"),
        drawEdf("edf-normalized", charts.edf_normalized,
                "needs a positive flops cost on every complete trial")
      ]).then(function () {
        mark("line-charts-drawn");
        var div = $("scatter");
        if (div.data && div.data.length > 1) {
          var f = frontTrace();
          return Plotly.restyle(div, { x: [f.x], y: [f.y], text: [f.text] }, [1]);
        }
        return drawScatter();
      }).then(function () {
        mark("scatter-drawn");  // everything above the fold is drawn; the statistics grid follows
        return drawStatistics(charts.statistics);
      });
    }

    // the trial table
    var fixedColumns = ["number", "state", "objective"];
    var tailColumns = ["seed", "worker", "attempts", "duration_s", "finished_at", "error"];

    function columns() {
      return fixedColumns.concat(state.costs.map(function (c) { return "cost:" + c; }), tailColumns);
    }

    function valueOf(row, column) {
      if (column.indexOf("cost:") === 0) { return costOf(row, column.slice(5)); }
      var value = row[column];
      return value === undefined ? null : value;
    }

    function parseFilter(text) {
      return text.split(/[\s,]+/).filter(Boolean).map(function (term) {
        var match = /^([\w:.]+)\s*(<=|>=|!=|=|<|>)\s*(.+)$/.exec(term);
        if (!match) {
          var needle = term.toLowerCase();
          return function (row) {
            return [row.number, row.state, row.worker, row.error].some(function (v) {
              return v !== null && v !== undefined && String(v).toLowerCase().indexOf(needle) >= 0;
            });
          };
        }
        var column = match[1], op = match[2], raw = match[3];
        if (state.costs.indexOf(column) >= 0) { column = "cost:" + column; }
        var number = Number(raw);
        return function (row) {
          var value = valueOf(row, column);
          if (value === null) { return false; }
          var target = isNaN(number) || typeof value !== "number" ? raw : number;
          if (typeof target === "string") { value = String(value); }
          switch (op) {
            case "<": return value < target;
            case ">": return value > target;
            case "<=": return value <= target;
            case ">=": return value >= target;
            case "!=": return value != target; // eslint-disable-line eqeqeq
            default: return value == target; // eslint-disable-line eqeqeq
          }
        };
      });
    }

    function visibleRows() {
      var tests = parseFilter($("filter").value);
      var stateWanted = $("state-filter").value;
      var rows = allRows().filter(function (row) {
        return (!stateWanted || row.state === stateWanted) && tests.every(function (t) { return t(row); });
      });
      var key = state.sortKey, dir = state.sortDir;
      rows.sort(function (a, b) {
        var x = valueOf(a, key), y = valueOf(b, key);
        if (x === y) { return a.number - b.number; }
        if (x === null) { return 1; }
        if (y === null) { return -1; }
        return (x < y ? -1 : 1) * dir;
      });
      return rows;
    }

    function renderTable() {
      var table = $("trials");
      var cols = columns();
      var head = table.querySelector("thead");
      var signature = cols.join("|") + "/" + state.sortKey + state.sortDir;
      if (head.dataset.signature !== signature) {
        head.dataset.signature = signature;
        head.innerHTML = "";
        var tr = node("tr");
        cols.forEach(function (column) {
          var label = column.replace("cost:", "") + (column === state.sortKey ? (state.sortDir > 0 ? " \u25b2" : " \u25bc") : "");
          var th = node("th", { text: label, "data-column": column });
          th.addEventListener("click", function () {
            if (state.sortKey === column) { state.sortDir = -state.sortDir; } else { state.sortKey = column; state.sortDir = 1; }
            renderTable();
          });
          tr.appendChild(th);
        });
        head.appendChild(tr);
      }
      var rows = visibleRows();
      var pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
      state.page = Math.min(state.page, pages - 1);
      var body = table.querySelector("tbody");
      var fragment = document.createDocumentFragment();
      rows.slice(state.page * PAGE_ROWS, (state.page + 1) * PAGE_ROWS).forEach(function (row) {
        var tr = node("tr", { "data-number": row.number, "class": "state-" + row.state });
        cols.forEach(function (column) {
          var value = valueOf(row, column);
          if (column === "number") {
            tr.appendChild(node("td", {}, [link("/study/" + enc(name) + "/trial/" + row.number, String(row.number))]));
          } else if (column === "finished_at") {
            tr.appendChild(node("td", { text: clock(value) }));
          } else {
            tr.appendChild(node("td", { text: fmt(value), title: value === null ? "" : String(value) }));
          }
        });
        fragment.appendChild(tr);
      });
      body.innerHTML = "";
      body.appendChild(fragment);
      table.setAttribute("data-rows", String(state.finished.size + state.open.length));
      table.setAttribute("data-finished", String(state.finished.size));
      table.setAttribute("data-cursor", String(state.cursor));
      $("trial-count").textContent = rows.length + " shown of " + allRows().length;
      renderPager(pages);
    }

    function renderPager(pages) {
      var pager = $("pager");
      pager.innerHTML = "";
      var prev = node("button", { text: "\u2190" });
      var next = node("button", { text: "\u2192" });
      prev.disabled = state.page <= 0;
      next.disabled = state.page >= pages - 1;
      prev.addEventListener("click", function () { state.page -= 1; renderTable(); });
      next.addEventListener("click", function () { state.page += 1; renderTable(); });
      pager.appendChild(prev);
      pager.appendChild(node("span", { text: " page " + (state.page + 1) + " of " + pages + " " }));
      pager.appendChild(next);
    }

    // wiring
    $("filter").addEventListener("input", function () { state.page = 0; renderTable(); });
    $("state-filter").addEventListener("change", function () { state.page = 0; renderTable(); });
    $("cost-axis").addEventListener("change", function () { drawScatter(); });
    $("log-x").addEventListener("change", function () { drawScatter(); });

    function step() {
      return api(base + "/trials?after=" + state.cursor).then(function (answer) {
        var costsBefore = state.costs.length;
        var fresh = merge(answer);
        renderSummary(Object.assign({}, state.overview, answer));
        renderTable();
        // The server may answer charts a little behind the trials (it throttles recomputing them
        // for large studies): ask again until they cover every trial this page holds.
        var stale = state.charts && state.charts.cursor < state.cursor;
        if (!fresh.length) { return stale ? api(base + "/charts").then(drawCharts) : null; }
        var scatter = state.costs.length !== costsBefore ? drawScatter() : appendScatter(fresh);
        return Promise.all([scatter, api(base + "/charts").then(drawCharts)]);
      });
    }

    var charts = api(base + "/charts");  // fetched alongside the trials, drawn after them
    Promise.all([api(base), api(base + "/trials?after=0")]).then(function (answers) {
      mark("trials-loaded");
      merge(answers[1]);
      renderSummary(Object.assign({}, answers[0], answers[1]));
      renderTable();
      mark("table-drawn");
      return charts.then(function (c) { mark("charts-loaded"); return drawCharts(c); });
    }).then(function () { mark("charts-drawn"); ready(); }, function (error) { banner(error.message); ready(); })
      .then(function () { poll(step, POLL_MS); });  // polling starts once the first render is done
  }

  // --- trial page ---------------------------------------------------------------------------------
  function trialPage() {
    var path = "/api/studies/" + enc(cfg.study) + "/trials/" + cfg.trial;

    function render(t) {
      statusBadge($("status"), t.state === "failed" ? "dead" : t.state === "complete" ? "finished" : "stopped");
      $("status").textContent = t.state;
      var summary = $("summary");
      summary.innerHTML = "";
      [["objective", fmt(t.objective)], ["seed", t.seed], ["worker", t.worker || "-"], ["attempts", t.attempts],
       ["duration", t.duration_s === null ? "-" : fmt(t.duration_s) + " s"], ["started", clock(t.started_at)],
       ["finished", clock(t.finished_at)], ["spec hash", t.arch_hash]].forEach(function (p) {
        summary.appendChild(node("span", { "class": "item" }, [node("b", { text: p[0] + ": " }), String(p[1])]));
      });
      $("spec").textContent = JSON.stringify(t.spec, null, 2);
      var cost = Object.keys(t.cost).length ? t.cost : t.complexity;
      var costPairs = Object.keys(cost || {}).map(function (k) { return [k, cost[k]]; });
      if (!Object.keys(t.cost).length && t.complexity) { costPairs.push(["(analytic, at input)", t.complexity.input]); }
      keyValues($("cost"), costPairs);
      keyValues($("metrics"), Object.keys(t.metrics).map(function (k) { return [k, t.metrics[k]]; }));
      keyValues($("stats"), Object.keys(t.statistics).map(function (k) { return [k, t.statistics[k]]; }));
      $("info").textContent = JSON.stringify(t.info, null, 2);
      $("error-box").hidden = !t.error;
      $("error").textContent = t.error || "";
      var curve = t.learning_curve;
      $("curve-box").hidden = !curve;
      if (!curve) { return Promise.resolve(t); }
      var epochs = curve.map(function (e, i) { return e.epoch === undefined ? i + 1 : e.epoch; });
      var traces = ["train_error", "val_error"].filter(function (k) {
        return curve.some(function (e) { return typeof e[k] === "number"; });
      }).map(function (k) {
        return { type: "scatter", mode: "lines+markers", name: k, x: epochs, y: curve.map(function (e) { return e[k]; }) };
      });
      if (curve.some(function (e) { return typeof e.train_loss === "number"; })) {
        traces.push({ type: "scatter", mode: "lines", name: "train_loss", yaxis: "y2", x: epochs,
                      y: curve.map(function (e) { return e.train_loss; }), line: { dash: "dot" } });
      }
      return Plotly.react($("curve"), traces, layout({
        xaxis: { title: { text: "epoch" } }, yaxis: { title: { text: "error (%)" } },
        yaxis2: { title: { text: "loss" }, overlaying: "y", side: "right" }
      }), PLOT_CONFIG).then(function () { return t; });
    }

    var finished = false;
    function step() {
      if (finished) { return Promise.resolve(); }
      return api(path).then(render).then(function (t) { finished = t.finished; });
    }
    step().then(ready, function (error) { banner(error.message); ready(); })
      .then(function () { poll(step, POLL_MS); });
  }

  // --- compare page -------------------------------------------------------------------------------
  function comparePage() {
    var query = cfg.studies.map(function (n) { return "study=" + enc(n); }).join("&");
    var data = null;

    function edfTraces(edfs) {
      return Object.keys(edfs || {}).map(function (name) {
        var e = edfs[name];
        return { type: "scatter", mode: "lines", line: { shape: "hv" }, x: e.grid, y: e.values,
                 name: name + "  " + e.n + " | " + fmt(e.min) + " | " + fmt(e.mean) };
      });
    }

    function drawFronts() {
      var axis = $("cost-axis").value;
      var fronts = (data.fronts || {})[axis] || {};
      var traces = Object.keys(fronts).map(function (name) {
        var f = fronts[name];
        return { type: "scatter", mode: "lines+markers", line: { shape: "hv" }, x: f.x, y: f.y, name: name,
                 text: f.number.map(function (n) { return name + " trial " + n; }) };
      });
      var logX = traces.every(function (t) { return t.x.every(function (v) { return v > 0; }); });
      return Plotly.react($("fronts"), traces, layout({
        height: 380, xaxis: { title: { text: axis || "cost" }, type: logX ? "log" : "linear" },
        yaxis: { title: { text: "error" } }
      }), PLOT_CONFIG);
    }

    function render(answer) {
      data = answer;
      var select = $("cost-axis");
      var current = select.value;
      if (select.options.length !== (answer.costs || []).length) {
        select.innerHTML = "";
        (answer.costs || []).forEach(function (c) { select.appendChild(node("option", { value: c, text: c })); });
        if (current) { select.value = current; }
      }
      var edfLayout = layout({ height: 380, xaxis: { title: { text: "error" } },
                               yaxis: { title: { text: "cumulative prob." }, range: [0, 1] }, showlegend: true });
      return Promise.all([
        Plotly.react($("edf"), edfTraces(answer.edf), edfLayout, PLOT_CONFIG),
        Plotly.react($("edf-normalized"), edfTraces(answer.edf_normalized), edfLayout, PLOT_CONFIG),
        drawFronts()
      ]);
    }

    $("cost-axis").addEventListener("change", function () { if (data) { drawFronts(); } });
    function step() { return api("/api/compare?" + query).then(render); }
    step().then(ready, function (error) { banner(error.message); ready(); })
      .then(function () { poll(step, 3 * POLL_MS); });
  }

  // --- results folder -----------------------------------------------------------------------------
  function resultsPage() {
    api("/api/results").then(function (answer) {
      var body = $("files").querySelector("tbody");
      answer.files.forEach(function (f) {
        body.appendChild(node("tr", {}, [
          node("td", {}, [link("/results/view?path=" + enc(f.path), f.path)]), node("td", { text: f.kind }),
          node("td", { text: fmt(f.bytes) + " B" })
        ]));
      });
    }).then(ready, function (error) { banner(error.message); ready(); });
  }

  function resultPage() {
    api("/api/results/file?path=" + enc(cfg.path)).then(function (answer) {
      var box = $("series");
      var steps = answer.series.map(function (series, index) {
        var holder = node("div", { id: "series-" + index, "class": "plot" });
        box.appendChild(node("div", { "class": "chart small" }, [node("div", { "class": "chart-title", text: series.name }), holder]));
        var traces = series.lines.map(function (line) {
          return { type: "scatter", mode: "lines", name: line.name, y: line.y };
        });
        return Plotly.react(holder, traces, layout({
          height: 240, margin: { l: 50, r: 10, t: 8, b: 40 },
          showlegend: traces.length > 1 && traces.length <= 12
        }), SMALL_PLOT_CONFIG);
      });
      if (answer.kind === "table") {
        $("table-box").hidden = false;
        $("row-count").textContent = "(" + answer.rows.length + " of " + answer.total_rows + ")";
        var head = node("tr", {}, answer.columns.map(function (c) { return node("th", { text: c }); }));
        $("table").querySelector("thead").appendChild(head);
        var body = $("table").querySelector("tbody");
        answer.rows.forEach(function (row) {
          body.appendChild(node("tr", {}, row.map(function (v) { return node("td", { text: fmt(v) }); })));
        });
      } else {
        $("tree-box").hidden = false;
        $("tree").textContent = JSON.stringify(answer.tree, null, 1).slice(0, 200000);
      }
      return Promise.all(steps);
    }).then(ready, function (error) { banner(error.message); ready(); });
  }

  var pages = { list: listPage, study: studyPage, trial: trialPage, compare: comparePage,
                results: resultsPage, result: resultPage };
  if (pages[cfg.page]) { pages[cfg.page](); }
})();
