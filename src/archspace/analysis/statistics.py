"""Small statistics shared by the workflows' summaries: means with t-based confidence intervals."""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def mean_ci(values: np.ndarray, axis: int = 0, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Mean and t-based confidence half-width along ``axis`` (half-width 0 for one value).

    The half-width is ``t_{(1+level)/2, n-1} * s / sqrt(n)`` with the sample standard deviation
    ``s`` (ddof=1): the interval of the mean over independent runs, as the search papers plot it.
    """
    values = np.asarray(values, dtype=float)
    n = values.shape[axis]
    mean = values.mean(axis=axis)
    if n < 2:
        return mean, np.zeros_like(mean)
    sem = values.std(axis=axis, ddof=1) / math.sqrt(n)
    return mean, stats.t.ppf(0.5 + level / 2, n - 1) * sem


__all__ = ["mean_ci"]
