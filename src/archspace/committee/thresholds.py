"""Threshold grids on sorted confidences, and every threshold setting of a cascade at once.

For one cascade stage, the candidate thresholds are values taken from the sorted confidences the
stage produced on the held-out examples (all distinct values, or evenly spaced order statistics
when there are more than the grid allows), preceded by 0 (everything exits) and followed by
"1" (nothing exits). An example's *bin* is the number of candidates it clears, so "exits at
threshold index a" is simply ``bin >= a``.

With the bins of stages 1..j, the number of examples that reach stage j+1 under thresholds
(a_1, ..., a_j) is a j-dimensional cumulative histogram; weighting the histogram by
``correct_{j+1} - correct_j`` gives how the correct count changes when those examples go on. Adding
these arrays stage by stage (``extend``) gives the correct count and the total cost of *every*
threshold setting of a K-stage cascade in a few numpy calls: no loop over examples or thresholds,
and a cascade's arrays are its prefix's arrays plus one histogram.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np


def candidate_thresholds(confidence: np.ndarray, size: int | None) -> np.ndarray:
    """Sorted thresholds below 1 starting at 0: distinct confidences, or ``size`` order statistics."""
    values = np.unique(confidence[confidence < 1.0])
    values = values[values > 0.0]
    if size is not None and values.size > size - 1:
        picks = np.unique(np.linspace(0, values.size - 1, max(size - 1, 1)).round().astype(np.int64))
        values = values[picks]
    return np.concatenate([[0.0], values])


def bins_of(confidence: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """How many candidate thresholds each confidence clears, minus one (0..len-1)."""
    return np.searchsorted(thresholds, confidence, side="right") - 1


def threshold_value(thresholds: np.ndarray, index: int) -> float:
    """The threshold that index ``index`` stands for; ``len(thresholds)`` means 1 (never exit)."""
    return 1.0 if index >= thresholds.size else float(thresholds[index])


@dataclass(frozen=True)
class StageGrid:
    """One stage's candidate thresholds and each example's bin under them."""

    thresholds: np.ndarray
    bins: np.ndarray


@dataclass(frozen=True)
class SettingsGrid:
    """Correct count and total cost (sums over examples) of a cascade for every threshold setting.

    Both arrays have one axis per threshold (stages 1..K-1); axis ``j`` has one entry more than
    stage j's candidate thresholds (the last entry means "never exit"); a single model gives
    0-dimensional arrays. ``flat``/``sizes`` index each example's bins of those stages, which is
    what extending the cascade by one stage needs.
    """

    correct: np.ndarray
    total_cost: np.ndarray
    grids: tuple[StageGrid, ...] = ()
    flat: np.ndarray | None = None
    sizes: tuple[int, ...] = ()

    def thresholds_at(self, flat_index: int) -> tuple[float, ...]:
        """The threshold values of the setting at ``flat_index`` of the flattened arrays."""
        if not self.grids:
            return ()
        position = np.unravel_index(flat_index, self.correct.shape)
        return tuple(threshold_value(g.thresholds, int(a)) for g, a in zip(self.grids, position, strict=True))


def single_stage(correct: np.ndarray, stage_cost: float) -> SettingsGrid:
    """The one setting of a one-model cascade."""
    count = np.asarray(np.count_nonzero(correct), dtype=np.float32)
    return SettingsGrid(count, np.asarray(stage_cost * correct.shape[0], dtype=np.float64))


def extended_index(parent: SettingsGrid, grid: StageGrid) -> tuple[np.ndarray, tuple[int, ...]]:
    """Each example's flat bin index over the parent's thresholded stages plus its last stage."""
    size = grid.thresholds.size
    flat = grid.bins if parent.flat is None else parent.flat * size + grid.bins
    return flat, (*parent.sizes, size)


def cumulative_histogram(flat: np.ndarray, sizes: tuple[int, ...], weights: np.ndarray | None = None) -> np.ndarray:
    """``out[a_1..a_j]`` = sum of ``weights`` over examples whose bins satisfy ``b_i < a_i``.

    The histogram is summed "strictly below" along each axis by a product with a 0/1 triangular
    matrix (BLAS), in float32: exact, since every partial sum is an integer below 2**24.
    """
    if flat.size >= 2**24:
        raise ValueError("threshold search handles fewer than 16,777,216 examples")
    cells = int(np.prod(sizes))
    out = np.bincount(flat, weights=weights, minlength=cells).astype(np.float32).reshape(sizes)
    for axis, size in enumerate(sizes):
        below = strictly_below(size)
        out = np.moveaxis(np.moveaxis(out, axis, -1) @ below.T, -1, axis)
    return np.ascontiguousarray(out)


@functools.lru_cache(maxsize=64)
def strictly_below(size: int) -> np.ndarray:
    """(size+1, size) float32 matrix with ``[a, b] = 1`` where ``b < a``."""
    return np.tri(size + 1, size, k=-1, dtype=np.float32)


def extend(
    parent: SettingsGrid,
    grid: StageGrid,
    index: tuple[np.ndarray, tuple[int, ...]],
    reach: np.ndarray,
    gain: np.ndarray,
    stage_cost: float,
) -> SettingsGrid:
    """The cascade ``parent`` followed by one more stage, for every threshold of the parent's last stage.

    ``index`` is ``extended_index(parent, grid)``; ``reach = cumulative_histogram(*index)`` counts
    the examples that go on to the new stage (it does not depend on the new stage, so callers
    share it between siblings); ``gain`` is ``correct_new - correct_parent`` per example.
    """
    flat, sizes = index
    delta = cumulative_histogram(flat, sizes, gain)
    correct = parent.correct[..., None] + delta
    total_cost = np.multiply(reach, stage_cost, dtype=np.float64)
    total_cost += parent.total_cost[..., None]
    return SettingsGrid(correct, total_cost, (*parent.grids, grid), flat, sizes)


def gain_of(correct_new: np.ndarray, correct_old: np.ndarray) -> np.ndarray:
    """+1 where the new stage fixes an example, -1 where it breaks one, as bincount weights."""
    return correct_new.astype(np.float64) - correct_old
