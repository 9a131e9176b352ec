"""The NAS-Bench-201 comparison grid: algorithms x protocols x budgets x datasets, resumable.

Each cell of the grid (``protocol/dataset/budget``) is one ``nb201_search`` comparison written to
``<out>/<protocol>-<dataset>-<budget>/`` (``runs.jsonl``, ``summary.json``, curves), so an
interrupted grid resumes cell by cell and run by run. ``runs_for`` gives an algorithm fewer (or
more) runs than ``runs`` and ``cells_for`` restricts it to some cells (the slow peers), and the
grid summary says so: every number in it is measured, and how many runs stand behind it is kept
beside it. Each cell's summary holds the Welch test of our best algorithm against the best peer
(``ours_vs_peers``). On CIFAR-10 cells the selected cells' CIFAR-100 and ImageNet16-120 test
accuracies are the transfer results. Wall and CPU time (this process and its finished workers)
are recorded per cell.
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
    load_records,
    protocol_metric,
    run_comparison,
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
    cells: dict[str, Any] = {}
    start_wall, start_cpu = time.perf_counter(), _cpu_seconds()
    for cid, groups in config.cell_configs().items():
        if not groups:
            continue
        folder = out_path / cid.replace("/", "-") if out_path is not None else None
        wall, cpu = time.perf_counter(), _cpu_seconds()
        records = []
        for group in groups:
            if only_finished:
                keys = {a: group.key(a) for a in group.algorithms}
                records += [r for r in load_records(folder / RUNS_FILE) if keys.get(r.algorithm) == r.key
                            and r.run < group.runs]
            else:
                records += run_comparison(group, workers=workers, out=folder, progress=progress)
        if not records:
            continue
        present = {r.algorithm for r in records}
        groups = [g for g in groups if present & set(g.algorithms)]
        groups = [BenchConfig(**{**asdict(g), "algorithms": tuple(a for a in g.algorithms if a in present),
                                 "options": {a: o for a, o in g.options.items() if a in present}})
                  for g in groups]
        merged = BenchConfig(algorithms=tuple(n for g in groups for n in g.algorithms), budget=groups[0].budget,
                             runs=max(g.runs for g in groups), search_metric=groups[0].search_metric,
                             seed=config.seed, seed_mode=groups[0].seed_mode, ops=config.ops,
                             options={k: v for g in groups for k, v in g.options.items()})
        summary = summarize(records, merged)
        summary["seconds"] = {"wall": time.perf_counter() - wall, "cpu": _cpu_seconds() - cpu}
        if folder is not None and figures:
            write_report(summary, folder)
        elif folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
        cells[cid] = summary
    grid = {"config": _plain_config(config), "cells": {cid: _cell_digest(s) for cid, s in cells.items()},
            "seconds": {"wall": time.perf_counter() - start_wall, "cpu": _cpu_seconds() - start_cpu}}
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        (out_path / GRID_SUMMARY).write_text(json.dumps(grid, indent=2) + "\n")
    return grid


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
            "ours_vs_peers": summary["ours_vs_peers"], "seconds": summary["seconds"]}


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


__all__ = ["GRID_SUMMARY", "GridConfig", "cell_id", "grid_rows", "run_grid"]
