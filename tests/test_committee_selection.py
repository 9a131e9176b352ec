"""Cascade selection equals brute force over members and every threshold; pruning changes nothing."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from archspace.committee.cascade import Cascade, stage_outputs
from archspace.committee.selection import (
    SelectionConfig,
    count_ordered,
    front_indices,
    select_cascade,
)
from archspace.errors import UsageError
from committee_pools import synthetic_pool

EXACT = {2: None, 3: None, 4: None}


def brute_force(pool, max_models, confidence="max_prob", allow_repeats=False, worst_case=None):
    """(accuracy, average cost) of every cascade and every threshold drawn from the observed confidences."""
    points = []
    names = pool.names
    for length in range(1, max_models + 1):
        combos = (itertools.product(names, repeat=length) if allow_repeats
                  else itertools.permutations(names, length))
        for members in combos:
            costs = np.cumsum([pool.costs[pool.index(m)] for m in members])
            if worst_case is not None and costs[-1] > worst_case:
                continue
            confidences, predictions = stage_outputs(pool, Cascade(members, (1.0,) * (length - 1), confidence))
            choices = [np.concatenate([[0.0], np.unique(c[(c > 0) & (c < 1)]), [1.0]]) for c in confidences[:-1]]
            for thresholds in itertools.product(*choices):
                limits = np.asarray(thresholds)[:, None]
                leaves = np.vstack([(confidences[:-1] >= limits) & (limits < 1), np.ones((1, pool.num_examples), bool)])
                stage = leaves.argmax(axis=0)
                chosen = predictions[stage, np.arange(pool.num_examples)]
                points.append(((chosen == pool.labels).mean(), costs[stage].mean()))
    return np.array(points)


def best_under_cost(points, budget):
    feasible = points[points[:, 1] <= budget + 1e-9]
    top = feasible[:, 0].max()
    return top, feasible[feasible[:, 0] == top][:, 1].min()


def cheapest_for_accuracy(points, target):
    feasible = points[points[:, 0] >= target - 1e-12]
    cheapest = feasible[:, 1].min()
    return feasible[feasible[:, 1] <= cheapest + 1e-9][:, 0].max(), cheapest


@pytest.fixture(scope="module")
def small_pool():
    return synthetic_pool(models=4, examples=12, classes=3, seed=5, costs=[1.0, 2.0, 3.0, 5.0])


@pytest.fixture(scope="module")
def small_points(small_pool):
    return brute_force(small_pool, max_models=3)


@pytest.mark.parametrize("prune", [True, False])
@pytest.mark.parametrize("budget", [1.0, 1.7, 2.5, 3.2, 4.0, 6.0, 11.0])
def test_target_cost_equals_brute_force(small_pool, small_points, budget, prune):
    chosen = select_cascade(small_pool, SelectionConfig(max_models=3, target_cost=budget, grid=EXACT, prune=prune))
    accuracy, cost = best_under_cost(small_points, budget)
    assert chosen.heldout.accuracy == pytest.approx(accuracy)
    assert chosen.heldout.average_cost == pytest.approx(cost)
    assert chosen.heldout.average_cost <= budget + 1e-9


@pytest.mark.parametrize("prune", [True, False])
@pytest.mark.parametrize("target", [0.25, 0.5, 0.6, 0.75, 0.9, 1.0])
def test_target_accuracy_equals_brute_force(small_pool, small_points, target, prune):
    chosen = select_cascade(small_pool, SelectionConfig(max_models=3, target_accuracy=target, grid=EXACT, prune=prune))
    if small_points[:, 0].max() < target:
        assert chosen.cascade is None
        return
    accuracy, cost = cheapest_for_accuracy(small_points, target)
    assert chosen.heldout.average_cost == pytest.approx(cost)
    assert chosen.heldout.accuracy == pytest.approx(accuracy)


def test_front_equals_brute_force_front(small_pool, small_points):
    front = select_cascade(small_pool, SelectionConfig(max_models=3, grid=EXACT)).front
    expected = small_points[front_indices(small_points[:, 1], small_points[:, 0])]
    found = sorted((round(p.average_cost, 9), round(p.accuracy, 9)) for p in front)
    assert found == sorted((round(c, 9), round(a, 9)) for a, c in expected)


def test_four_models_repeats_entropy_and_worst_case_bound():
    pool = synthetic_pool(models=3, examples=7, classes=3, seed=2, costs=[1.0, 2.0, 4.0])
    points = brute_force(pool, max_models=4, confidence="entropy", allow_repeats=True, worst_case=9.0)
    for budget in (1.5, 2.5, 5.0):
        config = SelectionConfig(max_models=4, target_cost=budget, grid=EXACT, confidence="entropy",
                                 allow_repeats=True, worst_case_cost=9.0)
        chosen = select_cascade(pool, config)
        assert (chosen.heldout.accuracy, chosen.heldout.average_cost) == pytest.approx(best_under_cost(points, budget))
        assert chosen.heldout.worst_case_cost <= 9.0


def test_quantile_grid_is_close_and_counts_every_cascade():
    pool = synthetic_pool(models=5, examples=400, classes=5, seed=1)
    config = SelectionConfig(max_models=3, target_cost=4.0, prune=False, grid={2: 16, 3: 8})
    chosen = select_cascade(pool, config)
    assert chosen.stats.cascades_evaluated == count_ordered(5, 3) == 5 + 20 + 60
    exact = select_cascade(pool, SelectionConfig(max_models=3, target_cost=4.0, grid={2: None, 3: 64}))
    assert exact.heldout.accuracy >= chosen.heldout.accuracy
    assert chosen.heldout.accuracy >= exact.heldout.accuracy - 0.03
    assert exact.stats.cascades_evaluated + exact.stats.cascades_pruned == count_ordered(5, 3)


def test_counting_matches_the_issue():
    assert count_ordered(8, 4, allow_repeats=True, min_models=2) == 4672
    assert count_ordered(8, 4) == 8 + 56 + 336 + 1680


def test_unreachable_target_returns_no_cascade(small_pool):
    chosen = select_cascade(small_pool, SelectionConfig(target_cost=0.5))
    assert chosen.cascade is None and chosen.heldout is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_models": 5}, "max_models must be 1..4"),
        ({"target_cost": 1.0, "target_accuracy": 0.5}, "not both"),
        ({"target_accuracy": 75.0}, "fraction in \\(0, 1\\]"),
        ({"target_cost": -1.0}, "must be positive"),
        ({"grid": {3: 1}}, "grid size for 3-model"),
        ({"confidence": "vibes"}, "unknown confidence"),
    ],
)
def test_bad_configs_are_rejected(kwargs, message):
    with pytest.raises(UsageError, match=message):
        SelectionConfig(**kwargs)
