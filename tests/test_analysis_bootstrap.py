"""Empirical bootstrap of the best value of a statistic, on populations with a known best."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.analysis.bootstrap import bootstrap_best, bootstrap_best_samples
from archspace.errors import DataError, UsageError


def _population(seed: int, n: int = 500, best: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Depths 1..30 uniformly; error is a parabola with its minimum at ``best`` plus noise."""
    rng = np.random.default_rng(seed)
    depth = rng.integers(1, 31, n).astype(float)
    error = 20 + 0.05 * (depth - best) ** 2 + rng.normal(0, 0.4, n)
    return depth, error


def test_interval_covers_the_true_best_and_median_is_near_it() -> None:
    depth, error = _population(0)
    best = bootstrap_best(depth, error, reps=10_000, seed=1)
    assert best.low <= 12.0 <= best.high
    assert abs(best.median - 12.0) <= 3
    assert best.high - best.low < 15  # informative, not the whole 1..30 range
    assert (best.reps, best.sample_size, best.level) == (10_000, 125, 0.95)


def test_coverage_over_several_constructed_populations() -> None:
    covered = [bootstrap_best(*_population(seed, best=b), reps=2000, seed=seed).low <= b
               <= bootstrap_best(*_population(seed, best=b), reps=2000, seed=seed).high
               for seed, b in enumerate([5.0, 9.0, 15.0, 22.0, 26.0])]
    assert all(covered)


def test_noise_free_population_pins_the_best_exactly() -> None:
    x = np.arange(1.0, 101.0)
    error = np.abs(x - 40.0)
    samples = bootstrap_best_samples(x, error, reps=3000, fraction=1.0, seed=0)
    # With every pair drawn the true best is almost always present; the median is exactly it.
    assert np.median(samples) == 40.0


def test_same_seed_same_answer_different_seed_different_draws() -> None:
    depth, error = _population(2)
    a = bootstrap_best_samples(depth, error, reps=500, seed=5)
    b = bootstrap_best_samples(depth, error, reps=500, seed=5)
    c = bootstrap_best_samples(depth, error, reps=500, seed=6)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_draws_are_x_of_the_min_error_pair_of_each_resample() -> None:
    x = np.array([10.0, 20.0, 30.0])
    error = np.array([3.0, 1.0, 2.0])
    samples = bootstrap_best_samples(x, error, reps=4000, fraction=1.0, seed=0)
    # 3 draws with replacement: x = 20 wins whenever pair 1 is drawn: 1 - (2/3)^3 = 19/27.
    assert np.mean(samples == 20.0) == pytest.approx(19 / 27, abs=0.03)
    assert set(np.unique(samples)) <= {10.0, 20.0, 30.0}


def test_non_finite_pairs_are_dropped_and_bad_arguments_refused() -> None:
    x = np.array([1.0, np.nan, 3.0, 4.0])
    error = np.array([5.0, 0.0, 1.0, 2.0])
    assert bootstrap_best(x, error, reps=200, fraction=1.0).median == 3.0
    with pytest.raises(UsageError, match="fraction"):
        bootstrap_best(x, error, fraction=0.0)
    with pytest.raises(UsageError, match="statistic values"):
        bootstrap_best(x, error[:2])
    with pytest.raises(DataError, match="finite"):
        bootstrap_best(np.array([np.nan]), np.array([1.0]))
