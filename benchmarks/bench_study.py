"""Study overhead and parallel speed-up, measured side by side in one run.

1. Per-trial overhead (store + schedule) of the inline executor over N trivial trials with the
   NAS-Bench-201 table evaluator: (study wall time - time spent inside evaluate) / N, next to the
   bare evaluation loop without any study.
2. A population of real training jobs (NB201 cells trained on scikit-learn's digits, or with
   ``--dataset fashion-mnist --subset N`` on a Fashion-MNIST subset; note that validation and test
   inference then cover 15,000 images per model) with 1 and with 2 local worker processes.

    .venv/bin/python benchmarks/bench_study.py [--trials 10000] [--train-models 8] [--epochs 1] [--max-params 2e5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from archspace.evaluators.nb201 import NB201Benchmark
from archspace.search.population import PopulationStrategy
from archspace.spaces.base import Regime
from archspace.spaces.nb201 import NB201Space
from archspace.study import InlineExecutor, LocalProcessExecutor, Study
from archspace.study.progress import StudyProgress


class _Silent:
    def start(self, state: StudyProgress) -> None: ...
    def update(self, state: StudyProgress) -> None: ...
    def stop(self) -> None: ...


def overhead(n: int, folder: Path) -> None:
    evaluator = NB201Benchmark(seed_mode="sample")
    strategy = PopulationStrategy(NB201Space(), n, seed=0)
    start = time.perf_counter()
    for number, arch in enumerate(strategy.population):  # the bare evaluation loop
        evaluator.evaluate(arch, number)
    bare = time.perf_counter() - start
    study = Study.create("overhead", folder / "overhead.db")
    start = time.perf_counter()
    study.optimize(PopulationStrategy(NB201Space(), n, seed=0), evaluator, n, InlineExecutor())
    wall = time.perf_counter() - start
    inside = float(study.trials_dataframe()["duration_s"].sum())
    print(f"[overhead] {n} trials inline: study {wall:.2f} s, bare evaluate loop {bare:.2f} s")
    print(f"[overhead] per-trial overhead (study - time in evaluate) = {(wall - inside) / n * 1e3:.3f} ms; "
          f"(study - bare loop) = {(wall - bare) / n * 1e3:.3f} ms")
    start = time.perf_counter()
    Study.load("overhead", folder / "overhead.db").optimize(
        PopulationStrategy(NB201Space(), n, seed=0), evaluator, n)
    print(f"[overhead] resume of the finished study (replay {n} asks/tells): {time.perf_counter() - start:.2f} s")


def _burn(_: int) -> float:
    start = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - start


def cpu_control() -> None:
    """How much of a second core this machine gives right now: a pure-Python loop in 1 vs 2
    processes (2.0x on an idle 2-core machine). Read the training speed-up against it."""
    import multiprocessing

    start = time.perf_counter()
    _burn(0)
    one = time.perf_counter() - start
    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        pool.map(_burn, [0])  # start the pool before timing
        start = time.perf_counter()
        pool.map(_burn, [0, 1], chunksize=1)
        two = time.perf_counter() - start
    print(f"[control] CPU-bound loop: 1 process {one:.2f} s, 2 copies in 2 processes {two:.2f} s; "
          f"machine's 2-process efficiency now {2 * one / two:.2f}x (ideal 2.00x)")


def parallel(models: int, dataset: str, subset: int | None, epochs: int, max_params: float,
             repeats: int, folder: Path, compare_threads: bool = False) -> None:
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.train.recipe import Recipe

    evaluator = TrainingEvaluator(dataset, Recipe(epochs=epochs, subset=subset))
    resolution = evaluator.load().resolution
    strategy_args = dict(space=NB201Space(), n=models, regime=Regime(params=(0.0, max_params)), seed=0,
                         complexity_kwargs={"resolution": resolution, "num_classes": 10, "in_channels": 1})
    # (workers, torch threads per worker); the executor's default is 1 thread per worker.
    configs = [(1, 1), (2, 1)] + ([(1, 2)] if compare_threads else [])
    walls: dict[tuple[int, int | None], list[float]] = {c: [] for c in configs}
    for repeat in range(repeats):  # alternate the configurations so that load changes hit all
        for workers, threads in configs:
            study = Study.create(f"train-{workers}-{threads}-{repeat}", folder / "train.db")
            start = time.perf_counter()
            study.optimize(PopulationStrategy(**strategy_args), evaluator, models,
                           LocalProcessExecutor(workers, threads_per_worker=threads), progress=_Silent())
            walls[(workers, threads)].append(time.perf_counter() - start)
            assert study.counts()["complete"] == models
            label = f"{workers} worker(s), {threads} thread(s) each"
            print(f"[parallel] {models} NB201 cells (<= {max_params:.0f} params), {dataset} "
                  f"(subset {subset}), {epochs} epoch(s), {label}: {walls[(workers, threads)][-1]:.1f} s")
    median = {c: float(np.median(v)) for c, v in walls.items()}
    print(f"[parallel] median wall time: 1 worker {median[(1, 1)]:.1f} s, 2 workers {median[(2, 1)]:.1f} s; "
          f"speed-up 2 workers vs 1 (1 thread each): {median[(1, 1)] / median[(2, 1)]:.2f}x")
    if compare_threads:
        print(f"[parallel] 1 worker with 2 torch threads: {median[(1, 2)]:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--train-models", type=int, default=8)
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--subset", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-overhead", action="store_true")
    parser.add_argument("--compare-threads", action="store_true",
                        help="also time 1 worker with 2 torch threads")
    parser.add_argument("--max-params", type=float, default=0.2e6, help="params regime upper bound")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_overhead:
            overhead(args.trials, Path(tmp))
        cpu_control()
        parallel(args.train_models, args.dataset, args.subset, args.epochs, args.max_params,
                 args.repeats, Path(tmp), args.compare_threads)


if __name__ == "__main__":
    main()
