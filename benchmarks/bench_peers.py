"""Per-evaluation ask/tell overhead of our strategies vs Optuna's TPE, same budgets, side by side.

    .venv/bin/python benchmarks/bench_peers.py [--budgets 50,100,300] [--repeats 3]
        [--algorithms tpe,iso-bo,rs,re,ls,hyperopt-tpe]

One process, one BLAS thread. For each budget every algorithm runs ``--repeats`` full searches
on the NAS-Bench-201 table (``run_search``, mean protocol), interleaved round by round so the
machine's load hits all of them alike; the figure is the median CPU time (``process_time``, so
other jobs on a shared machine do not inflate it) per evaluation, minus the bare table lookup,
and its ratio to Optuna TPE's at the same budget (target for ours: <= 2).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings

from archspace.evaluators.nb201 import NB201Benchmark
from archspace.experiments.nb201_search import BenchConfig, run_search
from archspace.spaces.nb201 import NB201Space


def cpu_per_evaluation(name: str, budget: int, run: int, bench: NB201Benchmark, space: NB201Space) -> float:
    config = BenchConfig(algorithms=(name,), budget=budget, runs=run + 1).checked()
    start = time.process_time()
    record = run_search(name, run, config, bench, space)
    return (time.process_time() - start) / max(1, len(record.evaluated))


def bare_lookup(bench: NB201Benchmark, n: int = 2000) -> float:
    start = time.process_time()
    for i in range(n):
        bench.evaluate_index(i)
    return (time.process_time() - start) / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budgets", default="50,100,300")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--algorithms", default="tpe,iso-bo,rs,re,ls,hyperopt-tpe")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.simplefilter("ignore")
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = args.algorithms.split(",")
    space, bench = NB201Space(), NB201Benchmark()
    for name in names:  # warm imports and caches
        cpu_per_evaluation(name, 12, 0, bench, space)
    lookup = bare_lookup(bench)
    print(f"bare table lookup: {lookup * 1e3:.3f} ms CPU per evaluation")
    for budget in (int(b) for b in args.budgets.split(",")):
        times: dict[str, list[float]] = {n: [] for n in names}
        for repeat in range(args.repeats):
            for name in names:
                times[name].append(cpu_per_evaluation(name, budget, repeat, bench, space) - lookup)
        tpe = statistics.median(times["tpe"]) if "tpe" in times else float("nan")
        for name in names:
            own = statistics.median(times[name])
            print(f"budget {budget:>4}  {name:>13}: {own * 1e3:8.3f} ms CPU per evaluation  "
                  f"({own / tpe:5.2f}x Optuna TPE)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
