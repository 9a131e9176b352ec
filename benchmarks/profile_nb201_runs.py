"""Where a NAS-Bench-201 search run's CPU time goes, per algorithm and budget (cProfile, 1 thread).

    .venv/bin/python benchmarks/profile_nb201_runs.py [--algorithms rs,re,ls,na-rs,iso-bo,tpe,hyperopt-tpe]
        [--budgets 50,100,300] [--runs 2] [--protocol mean]

For each algorithm and budget: the CPU seconds per run (``process_time``, unprofiled, median of
``--runs`` runs, interleaved across algorithms), then one profiled run split into the strategy's
construction, its ``ask``/``tell``/``recommend`` (for a peer: the adapter plus the peer's
library), the table lookup (``NB201Benchmark.evaluate_index``) and the rest of the harness loop;
for ``iso-bo`` also its GP hyperparameter fits (with the rebuild of ``V``), the per-observation
update and the posterior + EI over every class. Shares are of the profiled run and are applied to
the unprofiled time. Separately: the start-up of a worker process (spawn, imports, first table
load) and the writing of results (one run-log line, one cell's ``summary.json`` + figures).
Prints markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import multiprocessing as mp
import pstats
import resource
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import asdict
from pathlib import Path

from archspace.evaluators.nb201 import NB201Benchmark
from archspace.experiments.nb201_search import (
    BenchConfig,
    protocol_metric,
    run_comparison,
    run_search,
    summarize,
)
from archspace.report.nb201_search import write_report
from archspace.spaces.nb201 import NB201Space

# part -> (file suffix, function names) whose cumulative time is the part
PARTS = {
    "init": (("search/registry.py",), ("make_strategy",)),
    "ask": (("archspace/search/",), ("ask",)),
    "tell": (("archspace/search/",), ("tell",)),
    "recommend": (("archspace/search/",), ("recommend",)),
    "lookup": (("evaluators/nb201.py",), ("evaluate_index",)),
}
ISO_PARTS = {
    "GP fits + rebuild": (("search/hamming_gp.py",), ("fit_hyperparameters",)),
    "GP update": (("search/hamming_gp.py",), ("add",)),
    "posterior + EI": (("search/iso_bo.py",), ("_best_ei_class",)),
}


def _cumulative(stats: pstats.Stats, files: tuple[str, ...], names: tuple[str, ...]) -> float:
    """Cumulative seconds of the outermost calls of the named functions (nested calls not recounted)."""
    total = 0.0
    for (path, _, name), (_, _, _, cumulative, callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name in names and any(path.endswith(f) or f in path for f in files):
            recursive = any(c[2] == name for c in callers)
            total += 0.0 if recursive else cumulative
    return total


def _profile(name: str, config: BenchConfig, bench: NB201Benchmark, space: NB201Space) -> dict[str, float]:
    profiler = cProfile.Profile()
    profiler.enable()
    run_search(name, 0, config, bench, space)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    parts = {part: _cumulative(stats, *spec) / total for part, spec in PARTS.items()}
    parts["harness"] = max(0.0, 1.0 - sum(parts.values()))
    if name == "iso-bo":
        parts.update({part: _cumulative(stats, *spec) / total for part, spec in ISO_PARTS.items()})
    return parts


def _startup_probe(_: int) -> None:
    """Runs in a fresh worker: what a grid worker loads (the harness, the peers' libraries, the table)."""
    from archspace.experiments import nb201_search  # noqa: F401
    from archspace.search.peers import hyperopt_tpe  # noqa: F401

    NB201Benchmark()
    with contextlib.suppress(ImportError):
        import optuna  # noqa: F401


def startup_seconds() -> float:
    """CPU seconds of one spawned worker from start to exit (children's rusage after the join)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pool = mp.get_context("spawn").Pool(1)
    pool.map(_startup_probe, [0])
    pool.close()
    pool.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def writing_seconds(bench: NB201Benchmark, space: NB201Space) -> tuple[float, float]:
    """(CPU per run-log line, CPU for one cell's summary.json + curve figures)."""
    config = BenchConfig(algorithms=("rs", "re", "ls"), budget=100, runs=10).checked()
    records = run_comparison(config)
    with tempfile.TemporaryDirectory() as folder:
        start = time.process_time()
        with (Path(folder) / "runs.jsonl").open("a") as handle:
            for record in records:
                handle.write(json.dumps(asdict(record)) + "\n")
        line = (time.process_time() - start) / len(records)
        summary = summarize(records, config)
        start = time.process_time()
        write_report(summary, folder)
        report = time.process_time() - start
    return line, report


def _print_projection(per_run: dict[str, dict[int, float]], cells: int, runs: int) -> None:
    """The full grid's CPU at these per-run costs: ``cells`` cells per budget, ``runs`` runs each."""
    from archspace.experiments.nb201_search import is_peer

    print(f"\n| algorithm | full grid CPU s ({cells} cells x {runs} runs per budget) |\n|---|---|")
    totals = {False: 0.0, True: 0.0}
    for name, rates in per_run.items():
        seconds = sum(rate * cells * runs for rate in rates.values())
        totals[is_peer(name)] += seconds
        print(f"| {name}{' (peer)' if is_peer(name) else ''} | {seconds:.0f} |")
    ours, both = totals[False], totals[False] + totals[True]
    print(f"\nours: {ours:.0f} CPU s = {ours / 2 / 60:.1f} min on 2 cores; with these peers: {both:.0f} CPU s "
          f"= {both / 2 / 60:.1f} min on 2 cores (if both cores are fully used)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithms", default="rs,re,ls,na-rs,iso-bo,tpe,hyperopt-tpe")
    parser.add_argument("--budgets", default="50,100,300")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--protocol", default="mean")
    parser.add_argument("--grid-cells", type=int, default=9,
                        help="cells per budget in the full grid (3 protocols x 3 datasets; default 9)")
    parser.add_argument("--grid-runs", type=int, default=100, help="runs per cell in the full grid (default 100)")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.simplefilter("ignore")
    try:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
    except ImportError:
        pass
    names = args.algorithms.split(",")
    metric, seed_mode = protocol_metric(args.protocol, "cifar10")
    space = NB201Space()
    bench = NB201Benchmark(metric=metric, seed_mode=seed_mode, space=space)
    columns = ["init", "ask", "tell", "recommend", "lookup", "harness"]
    print(f"| algorithm | budget | CPU s/run | {' | '.join(columns)} | iso-bo: fits / update / posterior+EI |")
    print("|---|---|---|" + "---|" * (len(columns) + 1))
    per_run: dict[str, dict[int, float]] = {n: {} for n in names}
    for budget in (int(b) for b in args.budgets.split(",")):
        config = BenchConfig(algorithms=tuple(names), budget=budget, runs=args.runs, search_metric=metric,
                             seed_mode=seed_mode).checked()
        for name in names:  # warm imports and caches
            run_search(name, 0, BenchConfig(algorithms=(name,), budget=12, runs=1).checked(), bench, space)
        cpu: dict[str, list[float]] = {n: [] for n in names}
        for run in range(args.runs):
            for name in names:
                start = time.process_time()
                run_search(name, run, config, bench, space)
                cpu[name].append(time.process_time() - start)
        for name in names:
            seconds = statistics.median(cpu[name])
            per_run[name][budget] = seconds
            parts = _profile(name, config, bench, space)
            cells = " | ".join(f"{parts[c] * seconds * 1e3:.1f} ms" for c in columns)
            iso = (" / ".join(f"{parts[p] * seconds:.3f} s" for p in ISO_PARTS) if name == "iso-bo" else "")
            print(f"| {name} | {budget} | {seconds:.3f} | {cells} | {iso} |", flush=True)
    _print_projection(per_run, args.grid_cells, args.grid_runs)
    line, report = writing_seconds(bench, space)
    print(f"\nworker start-up (spawn, imports incl. Optuna and hyperopt, table): {startup_seconds():.2f} s CPU")
    print(f"run-log line: {line * 1e3:.2f} ms CPU; one cell's summary.json + curves.png/.svg: {report:.2f} s CPU")
    print("no SQLite: the harness drives strategies against the in-memory table and logs JSON lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
