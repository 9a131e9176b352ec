"""Search strategies on the NAS-Bench-201 table: per-run cost, harness throughput, BO cost.

    .venv/bin/python benchmarks/bench_search.py [--runs 200] [--workers 2] [--skip-bo]

Everything in one run on the same machine, so the ratios are meaningful on a noisy shared box:
* a bare loop of 100 table lookups (``NB201Benchmark.evaluate``) vs a 100-evaluation run of each
  strategy driven by the harness (``run_search``): the ratio is the strategy's own overhead;
* ``run_comparison`` of ``--runs`` runs of every non-BO archspace strategy with ``--workers``
  processes (target: 200 runs in < 30 s on 2 cores), and Optuna TPE per run for comparison;
* BO (GP + EI) per 100-evaluation run, and BO with K = 8 learned Bi-LSTM kernels for 160
  evaluations (target: < 60 s on CPU).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

from archspace.evaluators.nb201 import NB201Benchmark
from archspace.experiments.nb201_search import BenchConfig, run_comparison, run_search
from archspace.families.nb201.index import benchmark_cell_at
from archspace.spaces.nb201 import NB201Space

NON_BO = ("rs", "re", "ls", "na-rs")


def median_seconds(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_lookups(bench: NB201Benchmark, cells: list) -> None:  # noqa: ANN001
    for cell in cells:
        bench.evaluate(cell)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-bo", action="store_true")
    parser.add_argument("--only-bo", action="store_true", help="only the two BO measurements")
    args = parser.parse_args(argv)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    space, bench = NB201Space(), NB201Benchmark()
    rng = np.random.default_rng(0)
    cells = [benchmark_cell_at(int(i)) for i in rng.integers(0, 15625, 100)]
    config = BenchConfig(algorithms=NON_BO + ("tpe", "bo", "bo-learned"), budget=100, runs=args.runs).checked()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if not args.only_bo:
        table_strategies(args, space, bench, cells, config)
    if args.skip_bo:
        return 0
    import torch

    torch.set_num_threads(1)
    wall, cpu = time.perf_counter(), time.process_time()
    run_search("bo", 0, config, bench, space)
    print(f"    bo 100-evaluation run:          {time.perf_counter() - wall:8.2f} s wall, "
          f"{time.process_time() - cpu:6.2f} s CPU")
    learned = BenchConfig(algorithms=("bo-learned",), budget=160, runs=1).checked()
    wall, cpu = time.perf_counter(), time.process_time()
    run_search("bo-learned", 0, learned, bench, space)
    print(f"bo-learned 160 evaluations (K = 8, 19 steps after 10 random): {time.perf_counter() - wall:6.2f} s wall, "
          f"{time.process_time() - cpu:6.2f} s CPU  target < 60 s")
    return 0


def table_strategies(args, space, bench, cells, config) -> None:  # noqa: ANN001
    """Per-run cost of the table-speed strategies and the 200-run harness throughput."""
    bare_lookups(bench, cells)
    bare = median_seconds(lambda: bare_lookups(bench, cells), 30)
    print(f"100 bare table lookups (evaluate):  {bare * 1e3:8.2f} ms")
    for name in NON_BO + ("tpe",):
        run_search(name, 0, config, bench, space)  # warm imports
        counter = iter(range(10**6))
        per_run = median_seconds(lambda name=name, counter=counter: run_search(name, next(counter), config, bench, space),
                                 5 if name == "tpe" else 30)
        print(f"{name:>6} 100-evaluation run:          {per_run * 1e3:8.2f} ms  "
              f"({per_run / bare:5.1f}x the bare lookups)" + ("  target < 20 ms" if name == "re" else ""))
    non_bo = BenchConfig(algorithms=NON_BO, budget=100, runs=args.runs)
    start = time.perf_counter()
    run_comparison(non_bo, workers=args.workers)
    wall = time.perf_counter() - start
    print(f"{args.runs} runs each of {','.join(NON_BO)} ({args.workers} workers): {wall:6.2f} s  target < 30 s")


if __name__ == "__main__":
    sys.exit(main())
