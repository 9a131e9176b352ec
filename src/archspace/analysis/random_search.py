"""Random-search efficiency: the error of the best of k models drawn at random from a population.

With the population's errors sorted, e_(1) <= ... <= e_(n), the best of k models drawn without
replacement is e_(i) with probability C(n-i, k-1) / C(n, k) (the other k-1 models all lie above
e_(i)). That gives the exact expected minimum for every k = 1..n, and exact quantiles of the
minimum for a band, with no simulation. Drawing with replacement is also supported:
P(min >= e_(i)) = ((n-i+1)/n)^k.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from archspace.errors import DataError, UsageError


@dataclass(frozen=True)
class RandomSearchCurve:
    """Expected best error of k random models, with a quantile band, for each k in ``ks``."""

    ks: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    level: float
    replace: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "k": self.ks.tolist(),
            "mean": self.mean.tolist(),
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "level": self.level,
            "replace": self.replace,
        }


def min_distribution(errors: np.ndarray, ks: Sequence[int] | np.ndarray, replace: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Sorted errors and P[k, i] = probability that the best of k draws is the i-th smallest."""
    sorted_errors = np.sort(_finite(errors))
    n = sorted_errors.size
    ks = _ks(ks, n, replace)
    rank = np.arange(1, n + 1, dtype=float)  # i = 1..n
    k = ks[:, None].astype(float)
    if replace:
        survive = ((n - rank + 1) / n)[None, :] ** k  # P(min >= e_(i))
        survive_next = np.concatenate([survive[:, 1:], np.zeros((ks.size, 1))], axis=1)
        return sorted_errors, survive - survive_next
    # log C(n-i, k-1) - log C(n, k); zero where n - i < k - 1.
    top = n - rank[None, :]
    valid = top >= k - 1
    log_p = _log_choose(np.where(valid, top, 0.0), np.where(valid, k - 1, 0.0)) - _log_choose(float(n), k)
    return sorted_errors, np.where(valid, np.exp(log_p), 0.0)


def random_search_curve(
    errors: np.ndarray,
    ks: Sequence[int] | np.ndarray | None = None,
    level: float = 0.5,
    replace: bool = False,
) -> RandomSearchCurve:
    """Expected min error of the best of k random models and the central ``level`` band of it.

    ``ks`` defaults to every k = 1..n. The band holds the exact quantiles of the minimum's
    distribution (by default its interquartile range).
    """
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1), got {level}")
    values = _finite(errors)
    ks = np.arange(1, values.size + 1) if ks is None else np.asarray(ks)
    sorted_errors, prob = min_distribution(values, ks, replace)
    mean = prob @ sorted_errors
    cumulative = np.cumsum(prob, axis=1)
    tail = (1 - level) / 2
    low = sorted_errors[_first_at_least(cumulative, tail)]
    high = sorted_errors[_first_at_least(cumulative, 1 - tail)]
    return RandomSearchCurve(_ks(ks, values.size, replace), mean, low, high, level, replace)


def _first_at_least(cumulative: np.ndarray, q: float) -> np.ndarray:
    """Index of the first rank whose cumulative probability reaches q (per row)."""
    return np.minimum((cumulative < q - 1e-12).sum(axis=1), cumulative.shape[1] - 1)


def _log_choose(n: np.ndarray | float, k: np.ndarray | float) -> np.ndarray:
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _ks(ks: Sequence[int] | np.ndarray, n: int, replace: bool) -> np.ndarray:
    ks = np.asarray(ks, dtype=int).ravel()
    if ks.size == 0 or np.any(ks < 1):
        raise UsageError("k values must be >= 1")
    if not replace and np.any(ks > n):
        raise UsageError(f"cannot draw more than the population's {n} models without replacement (k = {int(ks.max())})")
    return ks


def _finite(errors: np.ndarray) -> np.ndarray:
    values = np.asarray(errors, dtype=float).ravel()
    if values.size == 0:
        raise DataError("random-search efficiency needs at least one model")
    if not np.all(np.isfinite(values)):
        raise DataError("error values must be finite (drop failed trials first)")
    return values
