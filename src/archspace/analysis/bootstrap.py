"""Empirical bootstrap of the best value of a statistic (*Designing Network Design Spaces*, Sec. 3.2).

Given pairs (x_i, e_i) of a model statistic (depth, w_4, b, g, e_fit, flops ...) and its error,
draw 25% of the pairs with replacement, keep x of the lowest-error pair, and repeat 10^4 times.
The 2.5/97.5 percentiles of the kept values give a 95% interval for the best x and their median
is the "most likely best" value. All repetitions are drawn at once as one index matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archspace.errors import DataError, UsageError
from archspace.spaces.base import as_generator


@dataclass(frozen=True)
class BootstrapBest:
    """The bootstrap distribution of the best x, summarized."""

    low: float
    median: float
    high: float
    level: float
    reps: int
    sample_size: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "low": self.low,
            "median": self.median,
            "high": self.high,
            "level": self.level,
            "reps": self.reps,
            "sample_size": self.sample_size,
        }


def bootstrap_best_samples(
    x: np.ndarray,
    error: np.ndarray,
    reps: int = 10_000,
    fraction: float = 0.25,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """The ``reps`` bootstrap values of x at the min-error pair (one per repetition)."""
    x, error = _pairs(x, error)
    if reps < 1:
        raise UsageError(f"reps must be >= 1, got {reps}")
    if not 0 < fraction <= 1:
        raise UsageError(f"fraction must be in (0, 1], got {fraction}")
    size = max(1, int(round(fraction * x.size)))
    rng = as_generator(seed)
    index = rng.integers(0, x.size, size=(reps, size), dtype=np.int32 if x.size < 2**31 else np.int64)
    best = np.argmin(error[index], axis=1)
    return x[index[np.arange(reps), best]]


def bootstrap_best(
    x: np.ndarray,
    error: np.ndarray,
    reps: int = 10_000,
    fraction: float = 0.25,
    level: float = 0.95,
    seed: int | np.random.Generator | None = 0,
) -> BootstrapBest:
    """Interval (at ``level``) and median of the best x over ``reps`` bootstrap repetitions."""
    if not 0 < level < 1:
        raise UsageError(f"level must be in (0, 1), got {level}")
    x, error = _pairs(x, error)
    samples = bootstrap_best_samples(x, error, reps, fraction, seed)
    tail = (1 - level) / 2 * 100
    low, median, high = np.percentile(samples, [tail, 50.0, 100 - tail])
    size = max(1, int(round(fraction * x.size)))
    return BootstrapBest(float(low), float(median), float(high), level, reps, size)


def _pairs(x: np.ndarray, error: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    error = np.asarray(error, dtype=float).ravel()
    if x.shape != error.shape:
        raise UsageError(f"{x.size} statistic values for {error.size} errors")
    keep = np.isfinite(x) & np.isfinite(error)
    if not keep.any():
        raise DataError("the bootstrap needs at least one pair with finite statistic and error")
    return x[keep], error[keep]
