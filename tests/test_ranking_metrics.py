"""Ranking metrics on known sequences, against brute force and scipy."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from archspace.analysis import ranking
from archspace.errors import UsageError


def brute_kendall_tau_a(x, y):
    """Kendall tau-a by enumerating pairs (no ties in the inputs used here)."""
    total = 0
    for i, j in itertools.combinations(range(len(x)), 2):
        total += np.sign(x[i] - x[j]) * np.sign(y[i] - y[j])
    return total / math.comb(len(x), 2)


def test_correlations_known_values():
    assert ranking.correlations([1, 2, 3, 4], [10, 20, 30, 40]) == {"kendall": 1.0, "spearman": 1.0, "pearson": 1.0}
    out = ranking.correlations([4, 3, 2, 1], [1, 2, 3, 4])
    assert out["kendall"] == pytest.approx(-1) and out["spearman"] == pytest.approx(-1)
    # one swapped pair of 4: tau = (5 - 1) / 6
    assert ranking.correlations([1, 2, 4, 3], [1, 2, 3, 4])["kendall"] == pytest.approx(4 / 6)
    assert all(math.isnan(v) for v in ranking.correlations([1, 1, 1], [1, 2, 3]).values())
    assert all(math.isnan(v) for v in ranking.correlations([1, 2], [1, 2]).values())


def test_correlations_match_brute_force_and_scipy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=40), rng.normal(size=40)
    y = 0.5 * x + y
    out = ranking.correlations(x, y)
    assert out["kendall"] == pytest.approx(brute_kendall_tau_a(x, y))
    assert out["spearman"] == pytest.approx(np.corrcoef(stats.rankdata(x), stats.rankdata(y))[0, 1])
    assert out["pearson"] == pytest.approx(np.corrcoef(x, y)[0, 1])


def test_top_n_uses_the_best_by_ground_truth():
    truth = np.arange(30, dtype=float)[::-1]  # item 0 is the best
    predicted = truth.copy()
    predicted[:10] = predicted[:10][::-1]  # the top-10 are ranked backwards, the rest perfectly
    rows = ranking.top_n_correlations(predicted, truth, ns=(10, 25, 50))
    assert [r["n"] for r in rows] == [10, 25, 30]  # 50 does not fit; "all" appended
    assert rows[0]["kendall"] == pytest.approx(-1.0)
    expected = brute_kendall_tau_a(predicted[:25], truth[:25])
    assert rows[1]["kendall"] == pytest.approx(expected)


def test_tau_a_and_mean_predicted():
    truth = np.array([5.0, 4, 3, 2, 1])
    perfect = truth * 2
    assert ranking.mean_predicted_top_n(perfect, truth, [1, 2, 5]).tolist() == [10.0, 9.0, 6.0]
    assert ranking.tau_a(perfect, truth) == pytest.approx(-1.0)
    reversed_ = truth[::-1].copy()
    assert ranking.tau_a(reversed_, truth) == pytest.approx(1.0)
    with pytest.raises(UsageError):
        ranking.mean_predicted_top_n(perfect, truth, [6])


def test_random_sample_and_op_usage_and_aggregation():
    rng = np.random.default_rng(1)
    x = rng.normal(size=50)
    sample = ranking.random_sample_correlations(x, x, 20, seed=0)
    assert sample["n"] == 20 and sample["kendall"] == pytest.approx(1.0)
    ops = np.array([[0, 0, 1, 1, 2, 2], [3, 3, 3, 3, 3, 3], [4, 4, 4, 0, 0, 0]])
    counts = ranking.op_usage(ops, [1.0, 3.0, 2.0], ns=[1, 2, 3])
    assert counts.tolist() == [[0, 0, 0, 6, 0], [3, 0, 0, 6, 3], [5, 2, 2, 6, 3]]
    agg = ranking.aggregate_over_seeds([0.2, 0.4, float("nan")])
    assert agg["mean"] == pytest.approx(0.3) and agg["std"] == pytest.approx(np.std([0.2, 0.4], ddof=1))
    assert agg["count"] == 2
    a = ranking.ranking_summary(x, x + rng.normal(size=50), ns=(10, 25))
    b = ranking.ranking_summary(x, x + rng.normal(size=50), ns=(10, 25))
    both = ranking.aggregate_summaries([a, b])
    assert both["seeds"] == 2 and [r["n"] for r in both["top_n"]] == [10, 25, 50]
    assert both["all"]["kendall"]["mean"] == pytest.approx((a["all"]["kendall"] + b["all"]["kendall"]) / 2)


def test_bad_inputs():
    with pytest.raises(UsageError, match="equal length"):
        ranking.correlations([1, 2, 3], [1, 2])
    with pytest.raises(UsageError, match="finite"):
        ranking.correlations([1, 2, float("nan")], [1, 2, 3])
