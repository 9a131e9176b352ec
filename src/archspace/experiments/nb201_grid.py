"""The NAS-Bench-201 comparison grid: algorithms x protocols x budgets x datasets, resumable.

Each cell of the grid (``protocol/dataset/budget``) is one ``nb201_search`` comparison written to
``<out>/<protocol>-<dataset>-<budget>/`` (``runs.jsonl``, ``summary.json``, curves), so an
interrupted grid resumes cell by cell and run by run. ``runs_for`` gives an algorithm fewer (or
more) runs than ``runs`` and ``cells_for`` restricts it to some cells (the slow peers), and the
grid summary says so: every number in it is measured, and how many runs stand behind it is kept
beside it. Each cell's summary holds the Welch test of our best algorithm against the best peer
(``ours_vs_peers``). On CIFAR-10 cells the selected cells' CIFAR-100 and ImageNet16-120 test
accuracies are the transfer results.

All cells' missing runs go through one ``run_comparisons`` call: one pool start for the whole grid,
and no worker idles at a cell's end. Time: the grid's elapsed wall and CPU (this process and its
workers), and per cell and algorithm the sum of its runs' own wall and CPU seconds (each run
records its CPU time; runs logged before that was recorded count in the wall sums only), so a
summary says what each algorithm cost, peers apart from ours (``grid_cost``).
"""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archspace.bench.nb201 import DATASETS, canonical_dataset
from archspace.errors import UsageError
from archspace.experiments.nb201_search import (
    PROTOCOLS,
    RUNS_FILE,
    TEST_METRICS,
    BenchConfig,
    RunRecord,
    is_peer,
    load_records,
    protocol_metric,
    run_comparisons,
    summarize,
)
from archspace.report.nb201_search import write_report
from archspace.search.registry import parse_strategy_names

GRID_SUMMARY = "grid_summary.json"


def cell_id(protocol: str, dataset: str, budget: int) -> str:
    return f"{protocol}/{dataset}/{budget}"


@dataclass(frozen=True)
class GridConfig:
    """Which algorithms run in which cells, and how many runs each."""

    algorithms: tuple[str, ...]
    protocols: tuple[str, ...] = tuple(PROTOCOLS)
    budgets: tuple[int, ...] = (50, 100, 300)
    datasets: tuple[str, ...] = DATASETS
    runs: int = 100
    seed: int = 0
    ops: tuple[str, ...] | None = None
    runs_for: Mapping[str, int] = field(default_factory=dict)
    cells_for: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def checked(self) -> GridConfig:
        """A validated copy; every problem is one UsageError before any run."""
        algorithms = tuple(parse_strategy_names(self.algorithms))
        protocols = tuple(dict.fromkeys(self.protocols))
        for protocol in protocols:
            protocol_metric(protocol, "cifar10")
        datasets = tuple(dict.fromkeys(canonical_dataset(d) for d in self.datasets))
        budgets = tuple(dict.fromkeys(int(b) for b in self.budgets))
        if not protocols or not datasets or not budgets:
            raise UsageError("a grid needs at least one protocol, dataset and budget")
        for mapping, what in ((self.runs_for, "runs_for"), (self.cells_for, "cells_for"), (self.options, "options")):
            unknown = sorted(set(mapping) - set(algorithms))
            if unknown:
                raise UsageError(f"{what} names algorithms not in the grid: {unknown}")
        for name, runs in self.runs_for.items():
            if not isinstance(runs, int) or runs < 1:
                raise UsageError(f"runs_for[{name!r}] must be a positive integer, got {runs!r}")
        known = {cell_id(p, d, b) for p in protocols for d in datasets for b in budgets}
        cells_for = {}
        for name, cells in self.cells_for.items():
            missing = sorted(set(cells) - known)
            if missing:
                raise UsageError(f"cells_for[{name!r}] names cells outside the grid: {missing}; "
                                 f"cells are protocol/dataset/budget, e.g. {sorted(known)[0]}")
            cells_for[name] = tuple(cells)
        checked = GridConfig(algorithms, protocols, budgets, datasets, int(self.runs), int(self.seed),
                             tuple(self.ops) if self.ops else None, dict(self.runs_for), cells_for,
                             {k: dict(v) for k, v in self.options.items()})
        for config in checked.cell_configs().values():  # budget vs space, metric, options, packages
            for group in config:
                group.checked()
        return checked

    def cells(self) -> list[tuple[str, str, int]]:
        return [(p, d, b) for p in self.protocols for d in self.datasets for b in self.budgets]

    def cell_configs(self) -> dict[str, list[BenchConfig]]:
        """Per cell: one ``BenchConfig`` per distinct run count among the algorithms it runs."""
        out: dict[str, list[BenchConfig]] = {}
        for protocol, dataset, budget in self.cells():
            cid = cell_id(protocol, dataset, budget)
            metric, seed_mode = protocol_metric(protocol, dataset)
            groups: dict[int, list[str]] = {}
            for name in self.algorithms:
                if name in self.cells_for and cid not in self.cells_for[name]:
                    continue
                groups.setdefault(self.runs_for.get(name, self.runs), []).append(name)
            out[cid] = [BenchConfig(algorithms=tuple(names), budget=budget, runs=runs, search_metric=metric,
                                    seed=self.seed, seed_mode=seed_mode, ops=self.ops,
                                    options={n: dict(self.options[n]) for n in names if n in self.options})
                        for runs, names in sorted(groups.items())]
        return out


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_grid(config: GridConfig, workers: int = 1, out: Path | str | None = None,
             progress: bool = False, figures: bool = True, only_finished: bool = False) -> dict[str, Any]:
    """Every cell of the grid (resuming from ``out``), summarized; writes ``grid_summary.json`` and
    each cell's ``summary.json`` (and its curve figures unless ``figures=False``) when ``out`` is given.

    ``only_finished=True`` runs nothing: it summarizes the runs already in ``out`` (the report of an
    interrupted grid; each algorithm's run count says how far it got, empty cells are left out)."""
    config = config.checked()
    out_path = Path(out) if out is not None else None
    if only_finished and out_path is None:
        raise UsageError("only_finished needs the grid's output folder")
    start_wall, start_cpu = time.perf_counter(), _cpu_seconds()
    plan = [(cid, group, out_path / cid.replace("/", "-") if out_path is not None else None)
            for cid, groups in config.cell_configs().items() for group in groups]
    if only_finished:
        found = [_finished(group, folder) for _, group, folder in plan]
    else:
        found = run_comparisons([(group, folder) for _, group, folder in plan], workers=workers, progress=progress)
    by_cell: dict[str, list[tuple[BenchConfig, list[RunRecord]]]] = {}
    for (cid, group, _), records in zip(plan, found, strict=True):
        by_cell.setdefault(cid, []).append((group, records))
    cells: dict[str, Any] = {}
    for cid, parts in by_cell.items():
        records = [r for _, part in parts for r in part]
        if not records:
            continue
        summary = summarize(records, _merged(config, [g for g, _ in parts], {r.algorithm for r in records}))
        summary["seconds"] = run_seconds(records)
        folder = out_path / cid.replace("/", "-") if out_path is not None else None
        if folder is not None and figures:
            write_report(summary, folder)
        elif folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        cells[cid] = summary
    grid = {"config": _plain_config(config), "cells": {cid: _cell_digest(s) for cid, s in cells.items()},
            "seconds": {"wall": time.perf_counter() - start_wall, "cpu": _cpu_seconds() - start_cpu}}
    grid["cost"] = grid_cost(grid)
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        (out_path / GRID_SUMMARY).write_text(json.dumps(grid, indent=2) + "\n")
    return grid


def _finished(group: BenchConfig, folder: Path | None) -> list[RunRecord]:
    """The runs of ``group`` already in ``folder``'s run log (nothing is run)."""
    keys = {a: group.key(a) for a in group.algorithms}
    return [r for r in load_records(folder / RUNS_FILE) if keys.get(r.algorithm) == r.key and r.run < group.runs] \
        if folder is not None else []


def _merged(config: GridConfig, groups: list[BenchConfig], present: set[str]) -> BenchConfig:
    """One config over a cell's run-count groups, keeping the algorithms that have runs."""
    groups = [g for g in groups if present & set(g.algorithms)]
    return BenchConfig(algorithms=tuple(a for g in groups for a in g.algorithms if a in present),
                       budget=groups[0].budget, runs=max(g.runs for g in groups),
                       search_metric=groups[0].search_metric, seed=config.seed, seed_mode=groups[0].seed_mode,
                       ops=config.ops, options={a: o for g in groups for a, o in g.options.items() if a in present})


def run_seconds(records: list[RunRecord]) -> dict[str, Any]:
    """Sums of the runs' own wall and CPU seconds, per algorithm and in all (CPU over timed runs)."""
    by_algorithm: dict[str, dict[str, float]] = {}
    for r in records:
        entry = by_algorithm.setdefault(r.algorithm, {"runs": 0, "run_wall": 0.0, "cpu": 0.0, "cpu_runs": 0})
        entry["runs"] += 1
        entry["run_wall"] += r.seconds
        if r.cpu_seconds is not None:
            entry["cpu"] += r.cpu_seconds
            entry["cpu_runs"] += 1
    return {"run_wall": sum(e["run_wall"] for e in by_algorithm.values()),
            "cpu": sum(e["cpu"] for e in by_algorithm.values()),
            "cpu_runs": sum(e["cpu_runs"] for e in by_algorithm.values()), "by_algorithm": by_algorithm}


def grid_cost(grid: dict[str, Any]) -> dict[str, Any]:
    """What the grid costs per algorithm: mean CPU seconds per run at each budget (over the cells
    whose runs were timed) and the CPU the grid's full configuration (every cell it names, the
    runs each algorithm is given there) takes at that rate; totals for ours and for the peers."""
    config = grid["config"]
    per_run: dict[str, dict[int, list[tuple[float, int]]]] = {}
    for cell in grid["cells"].values():
        for name, entry in cell["seconds"]["by_algorithm"].items():
            if entry["cpu_runs"]:
                per_run.setdefault(name, {}).setdefault(cell["budget"], []).append((entry["cpu"], entry["cpu_runs"]))
    algorithms: dict[str, Any] = {}
    for name in config["algorithms"]:
        rates = {b: sum(c for c, _ in v) / sum(n for _, n in v) for b, v in per_run.get(name, {}).items()}
        cells = [c for c in (cell_id(p, d, b) for p in config["protocols"] for d in config["datasets"]
                             for b in config["budgets"])
                 if name not in config["cells_for"] or c in config["cells_for"][name]]
        runs = config["runs_for"].get(name, config["runs"])
        budgets = [int(c.rsplit("/", 1)[1]) for c in cells]
        known = all(b in rates for b in budgets)
        algorithms[name] = {"peer": is_peer(name), "cpu_per_run": {str(b): rates[b] for b in sorted(rates)},
                            "full_grid_cpu": sum(rates[b] * runs for b in budgets) if known else None,
                            "full_grid_runs": runs * len(cells)}
    totals = {}
    for label, pick in (("ours", False), ("peers", True)):
        values = [a["full_grid_cpu"] for a in algorithms.values() if a["peer"] is pick]
        totals[label] = sum(values) if values and all(v is not None for v in values) else None
    return {"algorithms": algorithms, "full_grid_cpu": totals}


def _plain_config(config: GridConfig) -> dict[str, Any]:
    data = asdict(config)
    data["runs_for"] = dict(config.runs_for)
    data["cells_for"] = {k: list(v) for k, v in config.cells_for.items()}
    return data


def _cell_digest(summary: dict[str, Any]) -> dict[str, Any]:
    """What the grid table needs from one cell's summary."""
    headline = summary["headline_metric"]
    algorithms = {}
    for name, entry in summary["algorithms"].items():
        algorithms[name] = {"runs": entry["runs"], "peer": entry["peer"],
                            "seconds_per_run": entry["seconds_per_run"],
                            **{m: {k: entry[m][k] for k in ("mean", "ci95", "std", "hit_best")} for m in TEST_METRICS}}
    return {"search_metric": summary["config"]["search_metric"], "seed_mode": summary["config"]["seed_mode"],
            "budget": summary["config"]["budget"], "headline_metric": headline,
            "best_cell": summary["best_cell"][headline], "algorithms": algorithms,
            "ours_vs_peers": summary["ours_vs_peers"], "transfer": summary.get("transfer", {}),
            "seconds": summary["seconds"]}


def grid_rows(grid: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """(columns, rows) of the grid table: one row per cell, one column per algorithm (headline
    test mean, runs in brackets when not the grid's default), then our best vs the best peer."""
    algorithms = list(grid["config"]["algorithms"])
    default_runs = grid["config"]["runs"]
    columns = ["cell", *algorithms, "ours vs best peer (p)"]
    rows = []
    for cid, cell in grid["cells"].items():
        row: list[Any] = [cid]
        for name in algorithms:
            entry = cell["algorithms"].get(name)
            if entry is None:
                row.append("-")
                continue
            text = f"{entry[cell['headline_metric']]['mean']:.2f}"
            row.append(text if entry["runs"] == default_runs else f"{text} (n={entry['runs']})")
        versus = cell["ours_vs_peers"]
        row.append(f"{versus['our_best']} vs {versus['best_peer']}: {versus['difference']:+.3f} "
                   f"(p={versus['p_value']:.2g}, {versus['verdict']})" if versus else "-")
        rows.append(row)
    return columns, rows


__all__ = ["GRID_SUMMARY", "GridConfig", "cell_id", "grid_cost", "grid_rows", "run_grid", "run_seconds"]
