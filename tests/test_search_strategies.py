"""Sample-based strategies on the real NAS-Bench-201 table: contract, behaviour, known numbers."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.search.base import SearchExhausted
from archspace.search.evolution import RegularizedEvolution
from archspace.search.learned_kernel import LearnedKernelConfig
from archspace.search.local_search import LocalSearch
from archspace.search.random_search import RandomSearch
from archspace.search.registry import make_strategy, parse_strategy_names
from archspace.spaces.nb201 import NB201Space

FAST_OPTIONS = {
    "bo": {"n_init": 5, "n_candidates": 50},
    "bo-learned": {
        "n_init": 5, "n_candidates": 30, "n_kernels": 2,
        "kernel": LearnedKernelConfig(hidden=4, iterations=5), "feature_options": {"macro": False},
    },
    "na-rs": {"n_nbr": 2},
    "na-re": {"n_nbr": 2, "population_size": 4, "sample_size": 2},
}


@pytest.fixture(scope="module")
def space() -> NB201Space:
    return NB201Space()


@pytest.fixture(scope="module")
def bench() -> NB201Benchmark:
    return NB201Benchmark(metric="cifar10_valid_200")


def drive(strategy, bench: NB201Benchmark, budget: int) -> list:  # noqa: ANN001
    """ask/tell ``budget`` times against the table; returns the proposals."""
    proposals = []
    for _ in range(budget):
        arch = strategy.ask()
        strategy.tell(arch, bench.evaluate(arch))
        proposals.append(arch)
    return proposals


@pytest.mark.parametrize("name", ["rs", "re", "ls", "bo", "na-rs", "na-re", "tpe", "bo-learned"])
def test_same_seed_same_proposals_different_seed_different(name: str, space, bench) -> None:
    budget = {"bo-learned": 9, "bo": 10}.get(name, 16)
    runs = [drive(make_strategy(name, space, seed=s, **FAST_OPTIONS.get(name, {})), bench, budget) for s in (3, 3, 4)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert all(space.validate(a) for a in runs[0])


@pytest.mark.parametrize("name", ["rs", "re", "ls", "bo", "na-rs", "tpe"])
def test_masked_space_proposals_use_only_allowed_ops(name: str) -> None:
    masked = NB201Space(ops=("skip_connect", "nor_conv_1x1", "nor_conv_3x3"))
    bench = NB201Benchmark(space=masked)
    for arch in drive(make_strategy(name, masked, seed=0, **FAST_OPTIONS.get(name, {})), bench, 15):
        assert set(arch.ops) <= set(masked.ops)


def test_random_search_enumerates_a_small_space_then_is_exhausted() -> None:
    tiny = NB201Space(ops=("none", "skip_connect"))  # 2**6 = 64 cells
    rs = RandomSearch(tiny, seed=0)
    seen = {rs.ask() for _ in range(64)}
    assert len(seen) == 64
    with pytest.raises(SearchExhausted):
        rs.ask()


def test_regularized_evolution_children_are_mutations_of_the_population(space, bench) -> None:
    re = RegularizedEvolution(space, seed=1, population_size=5, sample_size=2)
    drive(re, bench, 5)  # random initial population
    for _ in range(20):
        members = [a for a, _ in re.population]
        child = re.ask()
        assert any(sum(x != y for x, y in zip(child.ops, m.ops, strict=True)) == 1 for m in members)
        re.tell(child, bench.evaluate(child))
        assert len(re.population) == 5 and re.population[-1][0] == child


def test_regularized_evolution_rejects_bad_sizes(space) -> None:
    with pytest.raises(UsageError, match="sample_size"):
        RegularizedEvolution(space, population_size=3, sample_size=4)


def test_local_search_walks_downhill_from_the_best_initial_cell(space, bench) -> None:
    ls = LocalSearch(space, seed=2, n_init=5)
    drive(ls, bench, 5)
    start = ls.history.best_arch
    neighborhood = set(space.neighbors(start, 1))
    walk = drive(ls, bench, 24)  # the whole first neighborhood, in random order
    assert set(walk) == neighborhood - set(ls.history.archs[:5])
    best_neighbor = min(neighborhood, key=lambda a: ls.history.by_arch[a])
    nxt = ls.ask()
    if ls.history.by_arch[best_neighbor] < ls.history.by_arch[start]:
        assert nxt in set(space.neighbors(best_neighbor, 1))  # moved on
    else:
        assert nxt not in neighborhood  # restart from a random cell


def test_strategies_tolerate_several_asks_before_tells(space, bench) -> None:
    for name in ("re", "ls", "bo", "na-rs"):
        strategy = make_strategy(name, space, seed=0, **FAST_OPTIONS.get(name, {}))
        for _ in range(6):
            batch = [strategy.ask() for _ in range(3)]
            for arch in batch:
                strategy.tell(arch, bench.evaluate(arch))
        assert strategy.recommend() is not None


def test_failed_results_are_never_the_incumbent(space, bench) -> None:
    rs = RandomSearch(space, seed=0)
    first = rs.ask()
    rs.tell(first, Result(objective=None, status="failed"))
    second = rs.ask()
    rs.tell(second, bench.evaluate(second))
    assert rs.recommend() == second


def test_known_search_result_on_the_table(space, bench) -> None:
    """Regularized evolution, seed 0, 100 evaluations: a fixed, reproducible incumbent."""
    re = make_strategy("re", space, seed=0)
    drive(re, bench, 100)
    best = re.recommend()
    value = bench.evaluate(best).metrics["cifar10_valid_200"]
    assert value == pytest.approx(100 - re.history.best_objective)
    assert value >= 91.0  # the top 0.5% of the table's 15,625 cells have >= 91 % validation accuracy
    assert (bench.table.column("cifar10_valid_200") > value).sum() < 200  # top 1.3% of the table


def test_registry_names_and_errors(space) -> None:
    assert parse_strategy_names("rs, re,rs,na-ls") == ["rs", "re", "na-ls"]
    with pytest.raises(UsageError, match="unknown search algorithm 'sa'"):
        parse_strategy_names("rs,sa")
    with pytest.raises(UsageError, match="no search algorithm"):
        parse_strategy_names(" , ")
    with pytest.raises(UsageError, match="bad options"):
        make_strategy("rs", space, seed=0, population_size=3)


def test_tpe_accepts_results_it_did_not_ask_for(space, bench) -> None:
    tpe = make_strategy("tpe", space, seed=0)
    cell = space.sample(np.random.default_rng(9))
    tpe.tell(cell, bench.evaluate(cell))
    assert len(tpe.study.trials) == 1 and tpe.recommend() == cell
    drive(tpe, bench, 3)
    assert len(tpe.study.trials) == 4
