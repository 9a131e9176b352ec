"""Pareto fronts and the compare-at-equal-cost table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from archspace.analysis.pareto import compare_at_equal_cost, pareto_front, pareto_front_indices
from archspace.errors import DataError


def _dominated(i: int, cost: np.ndarray, error: np.ndarray) -> bool:
    better_or_equal = (cost <= cost[i]) & (error <= error[i])
    strictly = (cost < cost[i]) | (error < error[i])
    return bool(np.any(better_or_equal & strictly))


def test_front_of_a_small_known_population() -> None:
    cost = np.array([1, 2, 2, 3, 4, 4, 5.0])
    error = np.array([5, 4, 3, 3, 1, 1, 2.0])
    assert pareto_front_indices(cost, error).tolist() == [0, 2, 4]


def test_front_equals_brute_force_definition() -> None:
    rng = np.random.default_rng(0)
    cost = rng.integers(1, 30, 200).astype(float)
    error = rng.integers(1, 30, 200).astype(float)
    front = set(pareto_front_indices(cost, error).tolist())
    brute = {i for i in range(200) if not _dominated(i, cost, error)}
    # Exact duplicates on the front are represented once.
    unique_brute = {min(j for j in brute if cost[j] == cost[i] and error[j] == error[i]) for i in brute}
    assert front == unique_brute
    ordered = pareto_front_indices(cost, error)
    assert np.all(np.diff(cost[ordered]) > 0) and np.all(np.diff(error[ordered]) < 0)
    for i, j in itertools.combinations(ordered, 2):  # no front model dominates another
        pair_cost, pair_error = cost[[i, j]], error[[i, j]]
        assert not _dominated(0, pair_cost, pair_error) and not _dominated(1, pair_cost, pair_error)


def test_non_finite_rows_are_ignored() -> None:
    assert pareto_front_indices([1.0, np.nan, 3.0], [2.0, 0.0, 1.0]).tolist() == [0, 2]


def test_pareto_front_of_a_table_and_missing_column_error() -> None:
    table = pd.DataFrame({"error": [3.0, 2.0, 2.5], "flops": [1.0, 2.0, 3.0], "group": ["a", "a", "b"]})
    assert pareto_front(table, "flops")["flops"].tolist() == [1.0, 2.0]
    with pytest.raises(DataError, match="params"):
        pareto_front(table, "params")


def test_compare_at_equal_cost_groups_models_into_shared_bins() -> None:
    table = pd.DataFrame({
        "error": [10.0, 12.0, 8.0, 9.0, 5.0, 7.0],
        "flops": [1.0, 1.5, 1.2, 90.0, 95.0, 100.0],
        "group": ["a", "a", "b", "a", "b", "b"],
    })
    stats = compare_at_equal_cost(table, "flops", bins=2)
    assert stats[["bin", "group", "n"]].values.tolist() == [[0, "a", 2], [0, "b", 1], [1, "a", 1], [1, "b", 2]]
    assert stats["min_error"].tolist() == [10.0, 8.0, 9.0, 5.0]
    assert stats["mean_error"].tolist() == [11.0, 8.0, 9.0, 6.0]
    assert stats["flops_low"].iloc[0] == pytest.approx(1.0)
    assert stats["flops_high"].iloc[-1] == pytest.approx(100.0)
