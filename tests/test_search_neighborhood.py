"""Neighborhood-aware search and the flatness analysis on the real table."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.analysis.flatness import (
    FlatnessConfig,
    criterion_correlations,
    flat_vs_sharp,
    neighbor_indices,
)
from archspace.bench.nb201 import NB201Table
from archspace.errors import UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.families.nb201.index import benchmark_cell_at, benchmark_index_of
from archspace.search.neighborhood import NeighborhoodAware, neighborhood_criterion
from archspace.search.random_search import RandomSearch
from archspace.spaces.nb201 import NB201Space


def test_criteria_known_values() -> None:
    values = np.array([[1.0, 2.0, 3.0, 10.0], [4.0, 4.0, 4.0, 4.0]])
    assert neighborhood_criterion(values, "mean").tolist() == [4.0, 4.0]
    assert neighborhood_criterion(values, "median").tolist() == [2.5, 4.0]
    assert neighborhood_criterion(values, "max").tolist() == [10.0, 4.0]
    std = np.std([1.0, 2.0, 3.0, 10.0])
    assert neighborhood_criterion(values, "std", lam=2.0).tolist() == pytest.approx([1 + 2 * std, 4.0])
    with pytest.raises(UsageError, match="unknown neighborhood criterion"):
        neighborhood_criterion(values, "min")


def test_na_random_search_is_charged_for_every_neighbor_and_tells_the_criterion() -> None:
    space, bench = NB201Space(), NB201Benchmark()
    inner = RandomSearch(space, seed=0)
    told = []
    original_tell = inner.tell
    inner.tell = lambda arch, result: (told.append((arch, result.objective)), original_tell(arch, result))
    na = NeighborhoodAware(inner, space, seed=1, n_nbr=3, criterion="median")
    asked = []
    for _ in range(12):
        arch = na.ask()
        asked.append(arch)
        na.tell(arch, bench.evaluate(arch))
    assert len(told) == 3  # 12 evaluations = 3 centers x (1 + 3 neighbors)
    for k, (center, value) in enumerate(told):
        group = asked[4 * k : 4 * k + 4]
        assert group[0] == center
        assert all(g in set(space.neighbors(center, 1)) for g in group[1:])
        assert value == pytest.approx(np.median([bench.evaluate(g).objective for g in group]))
    assert na.recommend() == min(told, key=lambda t: t[1])[0]


def test_known_neighbors_are_reused_not_re_evaluated() -> None:
    space, bench = NB201Space(ops=("none", "skip_connect")), None
    bench = NB201Benchmark(space=space)
    na = NeighborhoodAware(RandomSearch(space, seed=0), space, seed=0, n_nbr=6)
    asked = [na.ask() for _ in range(7)]
    for arch in asked:
        na.tell(arch, bench.evaluate(arch))
    more = [na.ask() for _ in range(30)]
    assert len(set(asked) | set(more)) == len(asked) + len(more)  # never the same cell twice


def test_neighbor_indices_match_the_space() -> None:
    space = NB201Space()
    nbrs = neighbor_indices(np.array([0, 6111, 15624]))
    for row, index in zip(nbrs, (0, 6111, 15624), strict=True):
        expected = {benchmark_index_of(c) for c in space.neighbors(benchmark_cell_at(index), 1)}
        assert set(row.tolist()) == expected and len(row) == 24


def test_flat_top_cells_transfer_better_on_this_table() -> None:
    report = flat_vs_sharp(NB201Table.load(), FlatnessConfig(top=200))
    flat, sharp = report["groups"]["flat"], report["groups"]["sharp"]
    assert flat["cells"] == sharp["cells"] == 100
    assert flat["neighborhood_std"] < sharp["neighborhood_std"]
    for metric in ("cifar10_test_200", "cifar100_test_200", "imagenet16_test_200"):
        assert flat[metric] > sharp[metric]


def test_criterion_correlations_table() -> None:
    report = criterion_correlations(NB201Table.load(), FlatnessConfig(n_random=400, seed=1))
    taus = report["kendall_tau"]
    assert set(taus) == {"f(a)", "mean g", "median g", "worst neighbor g", "f(a) + 1 std"}
    assert 0.8 < taus["f(a)"]["cifar10_test_200"] < 0.95
    assert all(-1 <= t <= 1 for row in taus.values() for t in row.values())
    sampled = criterion_correlations(NB201Table.load(), FlatnessConfig(n_random=400, n_nbr=3, seed=1))
    assert sampled["neighbors"] == 3


def test_flatness_bad_input() -> None:
    table = NB201Table.load()
    with pytest.raises(UsageError, match="metric"):
        flat_vs_sharp(table, FlatnessConfig(metric="params_mb"))
    with pytest.raises(UsageError, match="top must be"):
        flat_vs_sharp(table, FlatnessConfig(top=1))
    with pytest.raises(UsageError, match="n_nbr"):
        criterion_correlations(table, FlatnessConfig(n_nbr=25))
