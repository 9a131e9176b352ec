"""Is one design space's error distribution different from another's, and how sure is its centre?

``pairwise_ks`` runs the two-sample Kolmogorov-Smirnov test on every pair of populations: the
statistic is the KS distance between the two error EDFs (``archspace.analysis.edf.ks_distance``)
and the p-value is scipy's exact (small samples) or asymptotic one, the chance of a distance at
least that large if both populations came from one distribution. ``bootstrap_interval`` is the
percentile bootstrap of a population statistic (mean, median): resample the n errors with
replacement ``reps`` times, all draws as one index matrix, and report the central ``level`` range.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from archspace.analysis.edf import ks_distance
from archspace.errors import DataError, UsageError
from archspace.spaces.base import as_generator

STATISTICS: dict[str, Callable[..., np.ndarray]] = {"mean": np.mean, "median": np.median}


@dataclass(frozen=True)
class KSTest:
    """One pair's two-sample KS test: distance D, p-value and the sample sizes."""

    a: str
    b: str
    statistic: float
    pvalue: float
    n_a: int
    n_b: int

    def to_dict(self) -> dict[str, float | int | str]:
        return {"a": self.a, "b": self.b, "statistic": self.statistic, "pvalue": self.pvalue,
                "n_a": self.n_a, "n_b": self.n_b}


def ks_test(errors_a: np.ndarray, errors_b: np.ndarray) -> tuple[float, float]:
    """(D, p) of the two-sample KS test; D equals ``ks_distance`` of the unweighted EDFs."""
    from scipy import stats

    a, b = _finite(errors_a, "a"), _finite(errors_b, "b")
    result = stats.ks_2samp(a, b, alternative="two-sided", method="auto")
    distance = ks_distance(a, b)
    return distance, float(result.pvalue)


def pairwise_ks(populations: Mapping[str, np.ndarray]) -> list[KSTest]:
    """The KS test of every unordered pair of populations, in the mapping's order."""
    tests = []
    for a, b in itertools.combinations(populations, 2):
        statistic, pvalue = ks_test(populations[a], populations[b])
        tests.append(KSTest(a, b, statistic, pvalue, len(populations[a]), len(populations[b])))
    return tests


@dataclass(frozen=True)
class Interval:
    """A statistic's value on the sample and its percentile-bootstrap interval."""

    value: float
    low: float
    high: float
    level: float
    reps: int

    def to_dict(self) -> dict[str, float | int]:
        return {"value": self.value, "low": self.low, "high": self.high, "level": self.level, "reps": self.reps}


def bootstrap_interval(values: np.ndarray, statistic: str = "mean", reps: int = 10_000, level: float = 0.95,
                       seed: int | np.random.Generator | None = 0) -> Interval:
    """Percentile-bootstrap interval of ``statistic`` (``mean`` or ``median``) of ``values``."""
    if statistic not in STATISTICS:
        raise UsageError(f"statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")
    if reps < 1:
        raise UsageError(f"reps must be >= 1, got {reps}")
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1), got {level}")
    values = _finite(values, "values")
    function = STATISTICS[statistic]
    index = as_generator(seed).integers(0, values.size, size=(reps, values.size))
    draws = function(values[index], axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Interval(float(function(values)), float(low), float(high), level, reps)


def _finite(values: np.ndarray, name: str) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    if values.size == 0:
        raise DataError(f"{name}: a population needs at least one error value")
    if not np.all(np.isfinite(values)):
        raise DataError(f"{name}: error values must be finite (drop failed trials first)")
    return values


__all__ = ["Interval", "KSTest", "bootstrap_interval", "ks_test", "pairwise_ks"]
