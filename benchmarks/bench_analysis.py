"""Analysis speed, measured side by side in one run.

1. Empirical bootstrap of the best x: 10^4 repetitions over 500 models, vectorized (one index
   matrix) next to a Python loop over the draws, same draws.
2. Exact random-search curve (k = 1..n) over 500 models next to Monte-Carlo simulation with
   10^3 draws per k.
3. The full report (`archspace analyze --db ...` path: load studies, EDFs, normalized EDFs, KS,
   bootstrap of 6 statistics, random search, width profiles, Pareto, HTML + JSON + PNG + SVG)
   for 6 studies x 100 models from AnyNetX_A..E and RegNetX, with e_fit computed from the
   specs and with e_fit already in the table. The trials come from a real SQLite study database
   filled by ``ComplexityEvaluator`` (objective = flops in M; the analysis cost does not depend on
   what the numbers are).

    .venv/bin/python benchmarks/bench_analysis.py [--models 500] [--per-study 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from archspace.analysis.bootstrap import bootstrap_best
from archspace.analysis.random_search import random_search_curve
from archspace.analysis.table import load_studies
from archspace.analysis.widths import add_model_statistics
from archspace.evaluators.complexity import ComplexityEvaluator
from archspace.report.build import ReportConfig
from archspace.report.html import write_report
from archspace.search.population import PopulationStrategy
from archspace.spaces.base import Regime
from archspace.spaces.registry import get_space
from archspace.study import InlineExecutor, Study

SPACES = ("anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e", "regnetx")


def _best(seconds: list[float]) -> float:
    return min(seconds)


def bench_bootstrap(models: int, reps: int = 10_000) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(1, 30, models).astype(float)
    error = (x - 12) ** 2 * 0.05 + rng.normal(0, 0.5, models)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        bootstrap_best(x, error, reps=reps, seed=1)
        runs.append(time.perf_counter() - start)
    vectorized = _best(runs)
    size = models // 4
    index = np.random.default_rng(1).integers(0, models, size=(reps, size))
    start = time.perf_counter()
    looped = [x[row[np.argmin(error[row])]] for row in index]  # reference: one draw at a time
    np.percentile(looped, [2.5, 50, 97.5])
    loop = time.perf_counter() - start
    print(f"bootstrap {reps} reps x {size} of {models} models: vectorized {vectorized * 1e3:.1f} ms, "
          f"python loop {loop * 1e3:.1f} ms  ({loop / vectorized:.1f}x)")


def bench_random_search(models: int, draws: int = 1000) -> None:
    errors = np.random.default_rng(0).gamma(2.0, 3.0, models)
    start = time.perf_counter()
    random_search_curve(errors)
    exact = time.perf_counter() - start
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for k in range(1, models + 1):
        picks = np.argsort(rng.random((draws, models)), axis=1)[:, :k]
        errors[picks].min(axis=1).mean()
    simulated = time.perf_counter() - start
    print(f"random-search curve k=1..{models}: exact {exact * 1e3:.1f} ms, simulated ({draws} draws per k) "
          f"{simulated * 1e3:.0f} ms  ({simulated / exact:.0f}x)")


def fill_database(path: Path, per_study: int) -> None:
    inputs = {"resolution": 32, "num_classes": 10, "in_channels": 3}
    for name in SPACES:
        strategy = PopulationStrategy(get_space(name), per_study, Regime(flops=(2e8, 8e8)), seed=0,
                                      complexity_kwargs={"resolution": 224})
        study = Study.create(name, path, config={"space": name})
        study.optimize(strategy, ComplexityEvaluator(name, **inputs), per_study, executor=InlineExecutor())


class _Clock:
    """Wall and CPU seconds of a block (CPU time is the steadier figure on a shared machine)."""

    def __enter__(self) -> _Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, time.process_time() - self.cpu

    def __str__(self) -> str:
        return f"{self.wall:6.2f} s wall {self.cpu:6.2f} s CPU"


def bench_report(per_study: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.db"
        with _Clock() as fill:
            fill_database(db, per_study)
        with _Clock() as load:
            table = load_studies(list(SPACES), db)
        config = ReportConfig(space_summaries={n: get_space(n).summary() for n in SPACES})
        with _Clock() as fit:
            with_fit = add_model_statistics(table)
        with _Clock() as precomputed:
            write_report(with_fit, Path(folder) / "report_precomputed", config)
        with _Clock() as full:
            write_report(table, Path(folder) / "report_full", config)
    models = per_study * len(SPACES)
    print(f"report, {len(SPACES)} studies x {per_study} models (database filled: {fill}):")
    print(f"  load studies from SQLite   {load}")
    print(f"  e_fit of {models} models      {fit}  (archspace.spaces.regnet.fit_regnet, once per distinct profile)")
    print(f"  report, e_fit in table     {precomputed}")
    print(f"  report, computing e_fit    {full}  (wall = {full.wall / 30:.2f} x the 30 s target; "
          f"e_fit is {fit.cpu / full.cpu:.0%} of its CPU time)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--per-study", type=int, default=100)
    args = parser.parse_args()
    bench_bootstrap(args.models)
    bench_random_search(args.models)
    bench_report(args.per_study)


if __name__ == "__main__":
    main()
