"""iso-bo infers noise from repeats (a no-op on the noise-free table, noise-aware under ``sample``)
and takes local steps late in a run."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from archspace.bench.nb201 import NB201Table
from archspace.errors import UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.experiments.nb201_search import BenchConfig, protocol_metric, run_search, run_seed
from archspace.families.nb201.index import benchmark_index_of, isomorphism_class_ids
from archspace.search.registry import make_strategy
from archspace.spaces.nb201 import NB201Space

TABLE = NB201Table.load()

# Runs 0 of the grid logs (docs/nb201-search): (protocol, dataset, warp) at 300 evaluations ->
# (sha256 of [evaluated, selected], final cell, repeated evaluations). "copula": the session-6 grid
# (the default); "none": the session-5 grid, which ran on raw values.
GRID_RUNS = {
    ("sample", "cifar100", "copula"): ("e1e5404791f1958d", 9930, 51),
    ("mean", "cifar10", "copula"): ("1a2f6058a0369f75", 6111, 5),
    ("sample", "cifar100", "none"): ("d570cb9feb36da9e", 9930, 46),
    ("mean", "cifar10", "none"): ("aa58b623db1daf99", 6111, 5),
}


def _record(protocol: str, dataset: str, budget: int, run: int, **options):
    metric, mode = protocol_metric(protocol, dataset)
    config = BenchConfig(algorithms=("iso-bo",), budget=budget, runs=run + 1, search_metric=metric, seed_mode=mode,
                         options={"iso-bo": options} if options else {}).checked()
    return run_search("iso-bo", run, config)


def _without_repeats(evaluated: list[int]) -> tuple[list[int], list[int]]:
    """(first evaluations in order, steps that repeated an earlier cell)."""
    seen: set[int] = set()
    first, repeats = [], []
    for step, index in enumerate(evaluated):
        (repeats if index in seen else first).append(step if index in seen else index)
        seen.add(index)
    return first, repeats


def test_on_a_noise_free_objective_probes_are_the_only_change() -> None:
    """Mean protocol: every probe returns the value already seen, so the search is the probe-free one
    with the probes inserted (steps 20, 25, 32, 40, 50 at probe_at=20, growth 1.25), same selections."""
    probed = _record("mean", "cifar10", 60, 0, probe_at=20)
    plain = _record("mean", "cifar10", 60, 0, probe_at=0)
    first, repeats = _without_repeats(probed.evaluated)
    assert repeats == [20, 25, 32, 40, 50]
    assert first == plain.evaluated[: len(first)]
    kept = [s for step, s in enumerate(probed.selected) if step not in repeats]
    assert kept == plain.selected[: len(kept)]
    assert len(set(isomorphism_class_ids()[first])) == len(first)  # still one evaluation per class


@pytest.mark.parametrize("warp", ["copula", "none"])
def test_up_to_100_evaluations_probes_and_local_steps_change_nothing(warp: str) -> None:
    """Probes and local steps start at proposal 100, so a budget of 100 is the plain search (with
    ``warp="none"``, the first iso-bo: tests/test_bench_grid.py pins its logged runs)."""
    default = _record("sample", "cifar10", 100, 0, warp=warp)
    plain = _record("sample", "cifar10", 100, 0, probe_at=0, local_every=0, select="observed", warp=warp)
    assert (default.evaluated, default.selected) == (plain.evaluated, plain.selected)
    assert len(set(default.evaluated)) == 100


def test_copula_warping_changes_the_search_not_the_order_it_selects_by() -> None:
    """The warped GP proposes other cells than the raw one; on the noise-free table both select their
    best observed cell (the warping is monotone)."""
    metric, _ = protocol_metric("mean", "cifar10")
    column = TABLE.column(metric)
    warped, raw = (_record("mean", "cifar10", 60, 2, warp=w) for w in ("copula", "none"))
    assert warped.evaluated != raw.evaluated
    for record in (warped, raw):
        assert record.final == record.evaluated[int(np.argmax(column[record.evaluated]))]


def test_a_repeat_that_disagrees_switches_to_noise_aware_search() -> None:
    """Sample protocol, CIFAR-100, 300 evaluations: noise is found by a probe, repeats become GP
    observations, and the selection is the observed class of lowest posterior mean."""
    metric, mode = protocol_metric("sample", "cifar100")
    benchmark = NB201Benchmark(metric=metric, seed_mode=mode)
    seed = run_seed(0, 0)
    strategy = make_strategy("iso-bo", NB201Space(), seed=seed)
    evaluated = []
    for step in range(300):
        arch = strategy.ask()
        index = benchmark_index_of(arch)
        evaluated.append(index)
        strategy.tell(arch, benchmark.evaluate_index(index, seed=(seed + step) & 0x7FFFFFFF))
    assert strategy.noisy
    repeats = len(evaluated) - len(set(evaluated))
    assert len(strategy.gp) == 300 and repeats > 30  # every value is an observation; ~1 in 4 late asks re-measures
    mean, _ = strategy.gp.posterior()
    rows = np.array(sorted(strategy._values))
    chosen = benchmark_index_of(strategy.recommend())
    assert chosen == int(strategy.representatives[rows[np.argmin(mean[rows])]])
    assert chosen == int(np.argmax(TABLE.column("cifar100_valid_200")))  # the best cell by mean validation
    record = _record("sample", "cifar100", 300, 0)
    assert record.evaluated == evaluated and record.final == chosen  # what the harness runs


@pytest.mark.parametrize("case", sorted(GRID_RUNS), ids="-".join)
def test_runs_are_those_of_the_grid_logs(case) -> None:
    protocol, dataset, warp = case
    record = _record(protocol, dataset, 300, 0, warp=warp)
    digest = hashlib.sha256(json.dumps([record.evaluated, record.selected]).encode()).hexdigest()[:16]
    assert (digest, record.final, len(record.evaluated) - len(set(record.evaluated))) == GRID_RUNS[case]


def test_local_steps_take_the_best_predicted_unseen_neighbour_of_the_incumbent() -> None:
    metric, mode = protocol_metric("mean", "cifar10")
    benchmark = NB201Benchmark(metric=metric, seed_mode=mode)
    strategy = make_strategy("iso-bo", NB201Space(), seed=3, local_after=15, local_every=4)
    points = strategy.gp.points
    local = 0
    for step in range(40):
        due = step >= 15 and (step - 15) % 4 == 0
        if due:
            incumbent = strategy.gp.rows[int(np.argmin(strategy.gp.y))]
            mean, _ = strategy.gp.posterior()
            distance = (points != points[incumbent]).sum(axis=1)
        arch = strategy.ask()
        index = benchmark_index_of(arch)
        if due:
            row = strategy._class_of_index[index]
            near = np.flatnonzero((distance == distance[row]) & ~strategy._excluded | (np.arange(len(points)) == row))
            assert distance[row] in (1, 2) and row == near[np.argmin(mean[near])]
            local += 1
        strategy.tell(arch, benchmark.evaluate_index(index))
    assert local == 7


@pytest.mark.parametrize(("options", "message"), [
    ({"probe_growth": 1.0}, "probe_growth must be > 1"),
    ({"probe_at": -1}, "probe_at must be >= 0"),
    ({"remeasure_every": 0}, "remeasure_every must be >= 1"),
    ({"remeasure_top": 0}, "remeasure_top must be >= 1"),
    ({"local_every": -1}, "local_every must be >= 0"),
    ({"select": "median"}, "unknown selection"),
    ({"warp": "log"}, "unknown output warping 'log'"),
])
def test_bad_noise_options_fail_first(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        make_strategy("iso-bo", NB201Space(), 0, **options)
