"""Compare search algorithms on NAS-Bench-201 the way the papers do.

Every algorithm gets ``runs`` independent runs of ``budget`` table evaluations on the search
metric (CIFAR-10 validation accuracy by default). A run records, after each evaluation, the
best search-metric accuracy seen so far and the cell the strategy would select (its
``recommend()``, e.g. the best-criterion center for neighborhood-aware search). The report gives
best-so-far curves with 95% confidence bands and the test accuracy of the finally selected cell
on CIFAR-10, CIFAR-100 and ImageNet16-120, against the best cell of the table. The headline
metric is the test accuracy on the searched dataset (``<dataset>_test_200``); the other two are
transfer (the search never saw them).

Protocols (``PROTOCOLS``): ``mean`` (the ``<dataset>_valid_200`` column, a mean over the
benchmark's training seeds), ``sample`` (one training seed's ``valid_200`` drawn per evaluation,
the noisy protocol) and ``valid12`` (the 12-epoch fidelity ``<dataset>_valid_12`` searched, the
200-epoch test accuracy reported). Peers (registry metadata ``peer=True``: Optuna, hyperopt,
SMAC3) run at their libraries' defaults; ``summarize`` adds a Welch test of our best algorithm
against the best peer.

Strategies are driven directly against the in-memory table (no study database), runs go to
``workers`` processes, and each finished run is appended to ``runs.jsonl`` in the output folder
so an interrupted comparison resumes where it stopped. ``run_comparisons`` runs several
comparisons (a grid's cells) through one pool: the pool's start-up (each worker imports the
package and the peers' libraries) is paid once, and workers move on to the next comparison's runs
instead of idling at the end of each. Each record keeps its run's CPU time (``cpu_seconds``).
Which strategies need torch (one torch thread per batch) or an optional package comes from the
strategy registry's metadata. The outputs (``summary.json``, ``curves.png``/``.svg``) are written by ``archspace.report.nb201_search``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from archspace.analysis.statistics import mean_ci
from archspace.bench.nb201 import DATASETS, SEED_MODES, MetricName, NB201Table
from archspace.errors import UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.families.nb201.index import benchmark_index_of
from archspace.progress import ProgressBar
from archspace.report.nb201_search import write_report
from archspace.search.base import SearchExhausted
from archspace.search.registry import (
    STRATEGIES,
    check_requirements,
    is_model_based,
    make_strategy,
    parse_strategy_names,
    strategy_metadata,
)
from archspace.spaces.nb201 import NB201Space

TEST_METRICS: tuple[str, ...] = tuple(f"{d}_test_200" for d in DATASETS)
RUNS_FILE = "runs.jsonl"
# protocol -> (search metric template, seed mode)
PROTOCOLS: dict[str, tuple[str, str]] = {
    "mean": ("{dataset}_valid_200", "mean"),
    "sample": ("{dataset}_valid_200", "sample"),
    "valid12": ("{dataset}_valid_12", "mean"),
}


def protocol_metric(protocol: str, dataset: str) -> tuple[str, str]:
    """(search metric, seed mode) of a protocol on a dataset; a UsageError for unknown names."""
    if protocol not in PROTOCOLS:
        raise UsageError(f"unknown protocol {protocol!r}; known: {list(PROTOCOLS)}")
    template, seed_mode = PROTOCOLS[protocol]
    return MetricName.parse(template.format(dataset=dataset)).column, seed_mode


def is_peer(algorithm: str) -> bool:
    """Whether an algorithm is a peer library's (metadata ``peer``), ``na-`` wrappers excluded."""
    return not algorithm.startswith("na-") and bool(STRATEGIES.entry(algorithm).get("peer", False))


def headline_metric(search_metric: str) -> str:
    """The test metric reported first: the searched dataset's 200-epoch test accuracy."""
    return f"{MetricName.parse(search_metric).dataset}_test_200"


@dataclass(frozen=True)
class BenchConfig:
    """One comparison: which algorithms, how many evaluations and runs, on which metric."""

    algorithms: tuple[str, ...] = ("rs", "re", "ls", "bo", "bo-learned", "na-rs", "tpe")
    budget: int = 100
    runs: int = 200
    search_metric: str = "cifar10_valid_200"
    seed: int = 0
    seed_mode: str = "mean"
    ops: tuple[str, ...] | None = None
    options: dict[str, dict[str, Any]] = field(default_factory=dict)

    def checked(self) -> BenchConfig:
        """A validated copy (names normalized); raises one clear UsageError per problem."""
        algorithms = tuple(parse_strategy_names(self.algorithms))
        for name, value in (("budget", self.budget), ("runs", self.runs)):
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise UsageError(f"{name} must be a positive integer, got {value!r}")
        metric = MetricName.parse(self.search_metric).column
        if self.seed_mode not in SEED_MODES:
            raise UsageError(f"seed_mode must be one of {list(SEED_MODES)}, got {self.seed_mode!r}")
        unknown = sorted(set(self.options) - set(algorithms))
        if unknown:
            raise UsageError(f"options given for algorithms not being run: {unknown}")
        for algorithm in algorithms:
            check_requirements(algorithm)  # a missing optional package (e.g. optuna) fails here
        NB201Benchmark(metric=metric, seed_mode=self.seed_mode)  # metric/seed-mode combination
        ops = tuple(self.ops) if self.ops else None
        checked = BenchConfig(algorithms, int(self.budget), int(self.runs), metric, int(self.seed),
                              self.seed_mode, ops, self.options)
        space = checked.space()  # unknown ops -> UsageError
        if len(space.ops) < 2:
            raise UsageError(f"the op mask must leave at least two ops (a one-op space has a single cell), "
                             f"got {list(space.ops)}")
        size = len(space.allowed_indices)
        if checked.budget > size:
            raise UsageError(f"budget {checked.budget} is larger than the space ({size} cells over ops "
                             f"{list(space.ops)}): every run would evaluate every cell")
        return checked

    def space(self) -> NB201Space:
        return NB201Space(ops=self.ops) if self.ops else NB201Space()

    def key(self, algorithm: str) -> str:
        """Identity of an algorithm's runs under this config (what resume matches on)."""
        data = {"algorithm": algorithm, "budget": self.budget, "metric": self.search_metric,
                "seed": self.seed, "seed_mode": self.seed_mode, "ops": self.ops,
                "options": self.options.get(algorithm, {})}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def run_seed(seed: int, run: int) -> int:
    """The seed of run ``run`` (shared by all algorithms: run r of each starts alike)."""
    return int(np.random.SeedSequence(entropy=seed, spawn_key=(run,)).generate_state(1)[0])


@dataclass
class RunRecord:
    """One run: benchmark indices evaluated, observed accuracies, selected cell after each step."""

    algorithm: str
    run: int
    key: str
    evaluated: list[int]
    observed: list[float]
    selected: list[int]
    seconds: float
    cpu_seconds: float | None = None  # process CPU time of the run; None in logs written before it was kept

    @property
    def final(self) -> int:
        return self.selected[-1]


def run_search(
    algorithm: str,
    run: int,
    config: BenchConfig,
    benchmark: NB201Benchmark | None = None,
    space: NB201Space | None = None,
) -> RunRecord:
    """One search run of ``config.budget`` evaluations, driven in-process against the table."""
    space = space or config.space()
    benchmark = benchmark or NB201Benchmark(metric=config.search_metric, seed_mode=config.seed_mode, space=space)
    seed = run_seed(config.seed, run)
    strategy = make_strategy(algorithm, space, seed=seed, **_with_budget(algorithm, config))
    recommend: Callable[[], Any] = getattr(strategy, "recommend", lambda: None)
    evaluated: list[int] = []
    observed: list[float] = []
    selected: list[int] = []
    best_index, best_objective = -1, math.inf
    start, start_cpu = time.perf_counter(), time.process_time()
    for step in range(config.budget):
        try:
            arch = strategy.ask()
        except SearchExhausted:
            break
        index = benchmark_index_of(arch)
        result = benchmark.evaluate_index(index, seed=(seed + step) & 0x7FFFFFFF)
        strategy.tell(arch, result)
        if result.objective is not None and result.objective < best_objective:
            best_index, best_objective = index, result.objective
        choice = recommend()
        evaluated.append(index)
        observed.append(100.0 - float(result.objective) if result.objective is not None else math.nan)
        selected.append(benchmark_index_of(choice) if choice is not None else best_index)
    return RunRecord(algorithm, run, config.key(algorithm), evaluated, observed, selected,
                     time.perf_counter() - start, time.process_time() - start_cpu)


def _with_budget(algorithm: str, config: BenchConfig) -> dict[str, Any]:
    """The algorithm's options, plus ``n_trials = budget`` for a strategy that takes it (SMAC's
    facades size their initial design from the declared number of trials, as a user declares it)."""
    options = dict(config.options.get(algorithm, {}))
    base = algorithm.removeprefix("na-")
    import inspect

    if "n_trials" in inspect.signature(STRATEGIES.get(base).__init__).parameters and "n_trials" not in options:
        options["n_trials"] = config.budget
    return options


# --- parallel execution with resume -----------------------------------------------------------

def _uses_torch(algorithm: str) -> bool:
    """Whether the strategy computes with torch (its batches then pin torch to one thread too)."""
    return bool(strategy_metadata(algorithm)["uses_torch"])


def _optuna_verbosity() -> int | None:
    """The calling process's Optuna log level (None when it has not loaded Optuna)."""
    optuna = sys.modules.get("optuna")
    return None if optuna is None else int(optuna.logging.get_verbosity())


def _worker_init(optuna_verbosity: int | None = None) -> None:
    """Worker processes: one BLAS / OpenMP thread each (workers are the parallelism), and the
    caller's Optuna log level (a spawned worker would otherwise log every TPE trial at INFO)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    if optuna_verbosity is not None:
        import optuna

        optuna.logging.set_verbosity(optuna_verbosity)


class _single_threaded:
    """One BLAS (and torch) thread for the duration of a batch, restored afterwards.

    Tiny GP solves are many times slower when BLAS spreads them over busy cores. torch is only
    touched when the batch needs it (importing it costs seconds).
    """

    def __init__(self, torch_too: bool) -> None:
        self.torch_too = torch_too

    def __enter__(self) -> None:
        from threadpoolctl import threadpool_limits

        self._limits = threadpool_limits(1)
        self._torch_threads = None
        if self.torch_too:
            import torch

            self._torch_threads = torch.get_num_threads()
            torch.set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        if self._torch_threads is not None:
            import torch

            torch.set_num_threads(self._torch_threads)
        self._limits.restore_original_limits()


def _run_batch(task: tuple[str, tuple[int, ...], BenchConfig]) -> list[RunRecord]:
    algorithm, runs, config = task
    space = config.space()
    benchmark = NB201Benchmark(metric=config.search_metric, seed_mode=config.seed_mode, space=space)
    with _single_threaded(_uses_torch(algorithm)):
        return [run_search(algorithm, run, config, benchmark, space) for run in runs]


def load_records(path: Path) -> list[RunRecord]:
    """Records of ``runs.jsonl`` (a truncated last line, from an interruption, is ignored)."""
    if not path.is_file():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(RunRecord(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            continue
    return records


def _tasks(config: BenchConfig, done: set[tuple[str, int]], batch: int) -> list[tuple[str, tuple[int, ...], BenchConfig]]:
    tasks = []
    for algorithm in config.algorithms:
        todo = [r for r in range(config.runs) if (algorithm, r) not in done]
        size = 1 if is_model_based(algorithm) else batch
        tasks += [(algorithm, tuple(todo[i : i + size]), config) for i in range(0, len(todo), size)]
    return tasks


def run_comparison(
    config: BenchConfig,
    workers: int = 1,
    out: Path | str | None = None,
    progress: bool = False,
) -> list[RunRecord]:
    """All runs of all algorithms (resuming from ``out/runs.jsonl`` when present), sorted."""
    return run_comparisons([(config, out)], workers=workers, progress=progress)[0]


@dataclass
class _Comparison:
    """One comparison in flight: its config, run log and the records it has so far."""

    config: BenchConfig
    log: Path | None
    records: dict[tuple[str, int], RunRecord]

    @classmethod
    def open(cls, config: BenchConfig, out: Path | str | None) -> _Comparison:
        log = Path(out) / RUNS_FILE if out is not None else None
        keys = {a: config.key(a) for a in config.algorithms}
        records = {(r.algorithm, r.run): r for r in load_records(log) if keys.get(r.algorithm) == r.key
                   and r.run < config.runs} if log is not None else {}
        if log is not None:
            _prepare_log(log)
        return cls(config, log, records)

    def add(self, batch: list[RunRecord]) -> None:
        """Keep a finished batch; its lines go to the run log in one append."""
        for record in batch:
            self.records[(record.algorithm, record.run)] = record
        if self.log is not None and batch:
            with self.log.open("a") as handle:
                handle.write("".join(json.dumps(asdict(r)) + "\n" for r in batch))

    def sorted(self) -> list[RunRecord]:
        return [self.records[(a, r)] for a in self.config.algorithms for r in range(self.config.runs)]


def run_comparisons(
    comparisons: Sequence[tuple[BenchConfig, Path | str | None]],
    workers: int = 1,
    progress: bool = False,
) -> list[list[RunRecord]]:
    """Several comparisons (``(config, out)`` pairs, e.g. a grid's cells) through one pool.

    Each resumes from its own ``out/runs.jsonl``; the runs still missing from all of them are
    queued together in the given order, so one pool start serves them all and no worker waits for
    a comparison's slowest run. Results are those of ``run_comparison`` on each, in order.
    """
    if workers < 1:
        raise UsageError(f"workers must be >= 1, got {workers}")
    jobs = [_Comparison.open(config.checked(), out) for config, out in comparisons]
    tasks = []
    for index, job in enumerate(jobs):
        batch = max(1, min(25, job.config.runs // (2 * workers) or 1))
        tasks += [(index, task) for task in _tasks(job.config, set(job.records), batch=batch)]
    total = sum(len(task[1]) for _, task in tasks)
    with ProgressBar("search runs", total, enabled=progress and total > 0) as bar:
        for index, batch in _execute(tasks, workers):
            jobs[index].add(batch)
            bar.advance(len(batch))
    return [job.sorted() for job in jobs]


def _prepare_log(path: Path) -> None:
    """Create the run log's folder; end a line torn by an interruption so appends stay parseable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_file() and path.stat().st_size:
        with path.open("rb") as handle:
            handle.seek(-1, 2)
            torn = handle.read(1) != b"\n"
        if torn:
            with path.open("a") as handle:
                handle.write("\n")


def _run_indexed(item: tuple[int, tuple[str, tuple[int, ...], BenchConfig]]) -> tuple[int, list[RunRecord]]:
    index, task = item
    return index, _run_batch(task)


def _execute(tasks: list, workers: int) -> Iterable[tuple[int, list[RunRecord]]]:
    """(comparison index, finished batch) for every ``(index, task)``, in process or in one pool."""
    if workers == 1 or len(tasks) <= 1:
        yield from map(_run_indexed, tasks)
        return
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(workers, initializer=_worker_init,
                                      initargs=(_optuna_verbosity(),)) as pool:
        yield from pool.imap_unordered(_run_indexed, tasks)


# --- summaries ---------------------------------------------------------------------------------

def _padded(rows: Sequence[Sequence[float]], length: int) -> np.ndarray:
    """Rows of best-so-far curves; a run that stopped early keeps its last value."""
    out = np.empty((len(rows), length))
    for i, row in enumerate(rows):
        row = np.asarray(row, dtype=float)
        out[i, : len(row)] = row
        out[i, len(row) :] = row[-1] if len(row) else np.nan
    return out


def summarize(records: Sequence[RunRecord], config: BenchConfig, table: NB201Table | None = None) -> dict[str, Any]:
    """Per-algorithm curves and final accuracies (mean, 95% CI), and comparisons, as plain data.

    ``ours_vs_peers`` is the Welch test of our best against the best peer on the headline metric
    (the searched dataset's test accuracy); ``transfer`` holds the same test on each other dataset's
    test accuracy of the same selected cells (e.g. CIFAR-10 searched -> CIFAR-100 / ImageNet16-120)."""
    config = config.checked()
    table = table or NB201Table.load()
    search = table.column(config.search_metric)
    headline = headline_metric(config.search_metric)
    tests = {m: table.column(m) for m in TEST_METRICS}
    best = {m: float(tests[m].max()) for m in TEST_METRICS}
    best[config.search_metric] = float(search.max())
    algorithms: dict[str, Any] = {}
    finals: dict[str, np.ndarray] = {}
    transfer_finals: dict[str, dict[str, np.ndarray]] = {m: {} for m in TEST_METRICS if m != headline}
    for name in config.algorithms:
        mine = [r for r in records if r.algorithm == name]
        if not mine:
            continue
        observed = _padded([np.fmax.accumulate(np.nan_to_num(r.observed, nan=-np.inf)) for r in mine], config.budget)
        selected = _padded([r.selected for r in mine], config.budget).astype(np.int64)
        curve_mean, curve_ci = mean_ci(observed)
        test_curve = tests[headline][selected]
        test_mean, test_ci = mean_ci(test_curve)
        final = selected[:, -1]
        finals[name] = tests[headline][final]
        entry = {
            "runs": len(mine),
            "peer": is_peer(name),
            "seconds_per_run": float(np.mean([r.seconds for r in mine])),
            **_cpu_stats(mine),
            "final_search_metric": _stat(search[final], best[config.search_metric]),
            "curve": {"best_so_far_search": _band(curve_mean, curve_ci),
                      "selected_test": _band(test_mean, test_ci)},
        }
        for metric in TEST_METRICS:
            entry[metric] = _stat(tests[metric][final], best[metric])
            if metric in transfer_finals:
                transfer_finals[metric][name] = tests[metric][final]
        algorithms[name] = entry
    return {
        "config": asdict(config),
        "headline_metric": headline,
        "best_cell": best,
        "algorithms": algorithms,
        "comparisons": _comparisons(finals),
        "ours_vs_peers": ours_vs_peers(finals),
        "transfer": {m: ours_vs_peers(v) for m, v in transfer_finals.items()},
    }


def _cpu_stats(records: Sequence[RunRecord]) -> dict[str, Any]:
    """Mean CPU seconds per run over the records that measured it, and how many did."""
    cpu = [r.cpu_seconds for r in records if r.cpu_seconds is not None]
    return {"cpu_per_run": float(np.mean(cpu)) if cpu else None, "cpu_runs": len(cpu)}


def _stat(values: np.ndarray, best: float) -> dict[str, float]:
    mean, ci = mean_ci(values)
    return {"mean": float(mean), "ci95": float(ci), "std": float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            "median": float(np.median(values)), "regret": float(best - mean),
            "hit_best": float(np.mean(np.isclose(values, best)))}


def _band(mean: np.ndarray, ci: np.ndarray) -> dict[str, list[float]]:
    return {"mean": mean.round(4).tolist(), "ci95": ci.round(4).tolist()}


def welch(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Welch t-test p-value of mean(a) != mean(b); NaN when undefined (no spread)."""
    if len(a) > 1 and len(b) > 1 and (np.std(a) > 0 or np.std(b) > 0):
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)
    return float("nan")


def ours_vs_peers(finals: dict[str, np.ndarray]) -> dict[str, Any]:
    """Our best algorithm against the best peer (by mean headline accuracy): difference, Welch p."""
    ours = {n: v for n, v in finals.items() if not is_peer(n)}
    peers = {n: v for n, v in finals.items() if is_peer(n)}
    if not ours or not peers:
        return {}
    mine = max(ours, key=lambda n: float(np.mean(ours[n])))
    theirs = max(peers, key=lambda n: float(np.mean(peers[n])))
    diff = float(np.mean(ours[mine]) - np.mean(peers[theirs]))
    p = welch(ours[mine], peers[theirs])
    verdict = "tie" if not p < 0.05 else ("ours better" if diff > 0 else "peer better")
    return {"our_best": mine, "best_peer": theirs, "difference": diff, "p_value": p, "verdict": verdict,
            "runs": [len(ours[mine]), len(peers[theirs])]}


def _comparisons(finals: dict[str, np.ndarray]) -> dict[str, Any]:
    """The best algorithm (by mean final CIFAR-10 test accuracy) against every other: Welch t-test."""
    if not finals:
        return {}
    leader = max(finals, key=lambda n: float(np.mean(finals[n])))
    out: dict[str, Any] = {"best_algorithm": leader, "against": {}}
    for name, values in finals.items():
        if name == leader:
            continue
        diff = float(np.mean(finals[leader]) - np.mean(values))
        p = welch(finals[leader], values)
        out["against"][name] = {"difference": diff, "p_value": p, "significant_at_0.05": bool(p < 0.05)}
    return out


# --- printing ---------------------------------------------------------------------------------

def summary_rows(summary: dict[str, Any]) -> list[list[Any]]:
    """Table rows: algorithm, runs, final CIFAR-10/100/ImageNet16 test mean +- CI, regret."""
    rows = []
    headline = summary.get("headline_metric", "cifar10_test_200")
    for name, entry in summary["algorithms"].items():
        row = [name + (" (peer)" if entry.get("peer") else ""), entry["runs"]]
        for metric in TEST_METRICS:
            row.append(f"{entry[metric]['mean']:.2f} ± {entry[metric]['ci95']:.2f}")
        row.append(f"{entry[headline]['regret']:.2f}")
        row.append(f"{entry['seconds_per_run'] * 1000:.1f}")
        rows.append(row)
    return rows


SUMMARY_COLUMNS = ["algorithm", "runs", "CIFAR-10 test", "CIFAR-100 test", "ImageNet16 test",
                   "regret", "ms/run"]


__all__ = ["PROTOCOLS", "SUMMARY_COLUMNS", "TEST_METRICS", "BenchConfig", "headline_metric", "is_peer",
           "ours_vs_peers", "protocol_metric", "welch", "RunRecord", "load_records", "mean_ci",
           "run_comparison", "run_comparisons", "run_search", "run_seed", "summarize", "summary_rows", "write_report"]
