"""Error EDFs, complexity-normalized EDFs and the KS distance on populations with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from archspace.analysis.edf import (
    complexity_bin_edges,
    complexity_weights,
    edf_values,
    error_edf,
    ks_distance,
    normalized_edfs,
)
from archspace.errors import DataError, UsageError


def test_edf_of_known_sample_counts_strictly_smaller_errors() -> None:
    errors = np.array([3.0, 1.0, 2.0, 2.0])
    at = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5])
    # F(e) = (1/n) sum 1[e_i < e]: strict inequality, so F(1.0) = 0 and F(3.0) = 3/4.
    np.testing.assert_allclose(edf_values(errors, at), [0, 0, 0.25, 0.25, 0.75, 0.75, 1.0])


def test_error_edf_reports_n_min_mean_and_legend() -> None:
    edf = error_edf(np.array([4.0, 2.0, 6.0]), grid=np.array([2.0, 4.5, 7.0]))
    assert (edf.n, edf.min, edf.mean) == (3, 2.0, 4.0)
    np.testing.assert_allclose(edf.values, [0.0, 2 / 3, 1.0])
    assert edf.label("AnyNetX_A") == "AnyNetX_A  3 | 2.00 | 4.00"


def test_weighted_edf_equals_edf_of_replicated_sample() -> None:
    errors = np.array([1.0, 2.0, 3.0])
    at = np.linspace(0, 4, 17)
    replicated = np.repeat(errors, [2, 1, 3])
    np.testing.assert_allclose(edf_values(errors, at, np.array([2.0, 1.0, 3.0])), edf_values(replicated, at))


def test_ks_of_identical_samples_is_zero() -> None:
    sample = np.random.default_rng(0).normal(size=200)
    assert ks_distance(sample, sample) == 0.0
    assert ks_distance(sample, np.random.default_rng(1).permutation(sample)) == 0.0


def test_ks_matches_scipy_and_is_one_for_disjoint_samples() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=150), rng.normal(0.4, 1.2, size=90)
    assert ks_distance(a, b) == pytest.approx(ks_2samp(a, b).statistic, abs=1e-12)
    assert ks_distance(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 1.0


def test_complexity_weights_give_target_mass_per_bin() -> None:
    flops = np.array([1.0, 1.5, 1.2, 10.0, 80.0, 90.0])
    edges = np.array([1.0, 5.0, 50.0, 100.0])
    weights = complexity_weights(flops, edges)
    bins = np.array([0, 0, 0, 1, 2, 2])
    np.testing.assert_allclose(np.bincount(bins, weights), [1 / 3, 1 / 3, 1 / 3])
    assert weights.sum() == pytest.approx(1.0)


def _population(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Error falls with log flops; flops log-uniform over two decades."""
    flops = np.exp(rng.uniform(np.log(1e6), np.log(1e8), n))
    errors = 30 - 3 * np.log10(flops) + rng.normal(0, 0.5, n)
    return errors, flops


def test_normalized_edf_is_invariant_to_resampling_complexity() -> None:
    rng = np.random.default_rng(7)
    errors, flops = _population(rng, 400)
    edges = complexity_bin_edges([flops], bins=8)
    bins = np.clip(np.searchsorted(edges, flops, side="right") - 1, 0, 7)
    # Oversample the cheap half: every model in bins 0..3 appears four times.
    copies = np.where(bins < 4, 4, 1)
    skewed = (np.repeat(errors, copies), np.repeat(flops, copies))
    reference = {"a": (errors, flops), "b": (errors, flops)}
    resampled = {"a": (errors, flops), "b": skewed}
    grid = np.linspace(errors.min(), errors.max(), 64)
    plain = normalized_edfs(reference, bins=8, grid=grid)
    normalized = normalized_edfs(resampled, bins=8, grid=grid)
    np.testing.assert_allclose(normalized["b"].values, plain["b"].values, atol=1e-12)
    # Without normalization the skewed population looks worse (more cheap, high-error models).
    assert ks_distance(*[skewed[0], errors]) > 0.1


def test_normalized_edf_removes_complexity_bias_of_a_random_resample() -> None:
    rng = np.random.default_rng(11)
    errors, flops = _population(rng, 4000)
    # A second population from the same design space, sampled with a strong bias to heavy models.
    keep = rng.random(flops.size) < (np.log10(flops) - 5.9) / 2.2
    populations = {"uniform": (errors, flops), "biased": (errors[keep], flops[keep])}
    grid = np.linspace(errors.min(), errors.max(), 128)
    normalized = normalized_edfs(populations, bins=10, grid=grid)
    raw = ks_distance(errors, errors[keep])
    gap = np.max(np.abs(normalized["uniform"].values - normalized["biased"].values))
    assert raw > 0.2
    assert gap < 0.05


def test_bad_input_is_reported() -> None:
    with pytest.raises(DataError, match="at least one"):
        error_edf(np.array([]))
    with pytest.raises(DataError, match="finite"):
        error_edf(np.array([1.0, np.nan]))
    with pytest.raises(UsageError, match="weights"):
        edf_values(np.array([1.0, 2.0]), np.array([1.5]), np.array([1.0]))
    with pytest.raises(DataError, match="positive"):
        complexity_bin_edges([np.array([0.0, 1.0])], bins=3)
