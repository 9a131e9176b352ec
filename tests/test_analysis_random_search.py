"""Random-search efficiency: exact order statistics against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from archspace.analysis.random_search import min_distribution, random_search_curve
from archspace.errors import DataError, UsageError

POPULATION = np.array([3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.6, 5.3, 5.8])


def test_expected_min_equals_enumeration_of_every_subset() -> None:
    curve = random_search_curve(POPULATION)
    brute = [np.mean([min(s) for s in itertools.combinations(POPULATION, k)]) for k in range(1, 10)]
    np.testing.assert_allclose(curve.mean, brute, rtol=1e-12)
    assert curve.mean[0] == pytest.approx(POPULATION.mean())
    assert curve.mean[-1] == POPULATION.min()


def test_with_replacement_equals_enumeration_of_every_sequence() -> None:
    curve = random_search_curve(POPULATION, ks=[1, 2, 3], replace=True)
    brute = [np.mean([min(s) for s in itertools.product(POPULATION, repeat=k)]) for k in (1, 2, 3)]
    np.testing.assert_allclose(curve.mean, brute, rtol=1e-12)


def test_band_holds_exact_quantiles_of_the_minimum() -> None:
    k = 3
    curve = random_search_curve(POPULATION, ks=[k], level=0.5)
    minima = np.sort([min(s) for s in itertools.combinations(POPULATION, k)])
    cdf = np.arange(1, minima.size + 1) / minima.size
    assert curve.low[0] == minima[np.argmax(cdf >= 0.25 - 1e-12)]
    assert curve.high[0] == minima[np.argmax(cdf >= 0.75 - 1e-12)]
    assert curve.low[0] <= curve.mean[0] <= curve.high[0]


def test_probabilities_sum_to_one_and_curve_is_non_increasing() -> None:
    errors = np.random.default_rng(0).gamma(2.0, 3.0, size=300)
    _, prob = min_distribution(errors, np.arange(1, 301))
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, atol=1e-9)
    curve = random_search_curve(errors)
    assert np.all(np.diff(curve.mean) <= 1e-12)


def test_ties_are_handled() -> None:
    errors = np.array([2.0, 2.0, 1.0, 1.0])
    curve = random_search_curve(errors)
    brute = [np.mean([min(s) for s in itertools.combinations(errors, k)]) for k in range(1, 5)]
    np.testing.assert_allclose(curve.mean, brute)


def test_bad_input_is_reported() -> None:
    with pytest.raises(UsageError, match="without replacement"):
        random_search_curve(POPULATION, ks=[10])
    with pytest.raises(UsageError, match=">= 1"):
        random_search_curve(POPULATION, ks=[0])
    with pytest.raises(DataError, match="at least one"):
        random_search_curve(np.array([]))
