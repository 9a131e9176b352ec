"""Cascades for dense prediction (segmentation-style outputs of shape N x C x H x W).

Each pixel gets a confidence from the running average of the members' per-pixel outputs; the
confidences are averaged over the whole image (``grid=None``) or over the cells of a
``(rows, cols)`` grid, and a region exits after stage ``k`` when its mean confidence is
``>= t_k``. So a cascade can pass only the uncertain regions on to the next, costlier model.

Cost: a model that sees a fraction ``f`` of an image's regions costs ``f`` times its full-image
cost (a model run on crops of the uncertain cells). Average cost is per image; the worst case is
every region reaching every stage (up to a threshold of 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from archspace.committee.cascade import Cascade, exits, worst_case_cost
from archspace.committee.confidence import confidence_of_sum
from archspace.committee.inputs import as_logits, softmax
from archspace.errors import DataError, UsageError


@dataclass(frozen=True)
class DensePool:
    """Per-pixel outputs of M models: logits (M, N, C, H, W) float32, labels (N, H, W), costs (M,)."""

    names: tuple[str, ...]
    logits: np.ndarray
    labels: np.ndarray
    costs: np.ndarray
    ignore_index: int | None = None

    def index(self, member: str) -> int:
        if member not in self.names:
            raise UsageError(f"unknown model {member!r}; the pool has {', '.join(self.names)}")
        return self.names.index(member)


@dataclass(frozen=True)
class DenseCascadeResult:
    """Pixel accuracy, per-image average and worst-case cost, and the share of pixels exiting per stage."""

    cascade: Cascade
    pixel_accuracy: float
    average_cost: float
    worst_case_cost: float
    exit_ratio: np.ndarray
    predictions: np.ndarray = field(repr=False)
    exit_stage: np.ndarray = field(repr=False)


def dense_pool(
    outputs: Mapping[str, np.ndarray],
    labels: np.ndarray,
    costs: Mapping[str, float],
    kind: str = "auto",
    ignore_index: int | None = None,
) -> DensePool:
    """A validated dense pool from ``{name: (N, C, H, W) logits or probabilities}``."""
    if not outputs:
        raise UsageError("a pool needs at least one model")
    names = tuple(outputs)
    arrays = [as_logits(outputs[n], kind, n, class_axis=1) for n in names]  # type: ignore[arg-type]
    first = arrays[0]
    if first.ndim != 4:
        raise DataError(f"{names[0]}: dense predictions must be (N, C, H, W), got shape {first.shape}")
    for name, array in zip(names, arrays, strict=True):
        if array.shape != first.shape:
            raise DataError(f"{name}: predictions have shape {array.shape} but {names[0]} has {first.shape}")
    labels = np.asarray(labels)
    expected = (first.shape[0], *first.shape[2:])
    if labels.shape != expected or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"labels must be integers of shape {expected}, got {labels.dtype} {labels.shape}")
    valid = labels if ignore_index is None else labels[labels != ignore_index]
    if valid.size and (valid.min() < 0 or valid.max() >= first.shape[1]):
        raise DataError(f"labels must be class indices in 0..{first.shape[1] - 1} (or the ignore index)")
    missing = [n for n in names if n not in costs]
    if missing:
        raise UsageError(f"no cost given for {', '.join(missing)}")
    cost_values = np.array([float(costs[n]) for n in names])
    if np.any(~np.isfinite(cost_values)) or np.any(cost_values <= 0):
        raise UsageError(f"costs must be positive finite numbers, got {cost_values.tolist()}")
    return DensePool(names, np.stack(arrays), labels.astype(np.int64), cost_values, ignore_index)


def cell_means(maps: np.ndarray, grid: tuple[int, int] | None) -> np.ndarray:
    """Mean of (N, H, W) maps over each cell of a (rows, cols) grid -> (N, rows, cols)."""
    height, width = maps.shape[1:]
    rows, cols = (1, 1) if grid is None else grid
    if not (1 <= rows <= height and 1 <= cols <= width):
        raise UsageError(f"grid {grid} must have 1..{height} rows and 1..{width} columns")
    row_pick = _one_hot_cells(height, rows)
    col_pick = _one_hot_cells(width, cols)
    sums = row_pick @ maps @ col_pick.T
    return sums / np.outer(row_pick.sum(axis=1), col_pick.sum(axis=1))


def _one_hot_cells(size: int, cells: int) -> np.ndarray:
    """(cells, size) 0/1 matrix assigning each pixel row/column to a cell of near-equal extent."""
    owner = (np.arange(size) * cells) // size
    return (owner[None, :] == np.arange(cells)[:, None]).astype(np.float64)


def evaluate_dense_cascade(pool: DensePool, cascade: Cascade, grid: tuple[int, int] | None = None) -> DenseCascadeResult:
    """Run ``cascade`` region by region; see the module docstring for the cost model."""
    indices = [pool.index(m) for m in cascade.members]
    height, width = pool.labels.shape[1:]
    rows, cols = (1, 1) if grid is None else grid
    confidences, predictions = [], []
    total = None
    for count, index in enumerate(indices, start=1):
        term = pool.logits[index] if cascade.combine == "logits" else softmax(pool.logits[index], axis=1)
        total = term if total is None else total + term
        pixel_confidence = confidence_of_sum(total, count, cascade.combine, cascade.confidence, axis=1)
        confidences.append(cell_means(pixel_confidence, grid))
        predictions.append(total.argmax(axis=1))
    stage = exits(np.stack(confidences), cascade.thresholds)  # (N, rows, cols)
    pixel_stage = stage[:, (np.arange(height) * rows) // height][:, :, (np.arange(width) * cols) // width]
    chosen = np.take_along_axis(np.stack(predictions), pixel_stage[None], axis=0)[0]
    stage_costs = pool.costs[indices]
    area = np.outer(_one_hot_cells(height, rows).sum(axis=1), _one_hot_cells(width, cols).sum(axis=1))
    area /= area.sum()
    exit_share = np.stack([((stage == k) * area).sum(axis=(1, 2)) for k in range(len(indices))])  # (K, N)
    reach = exit_share[::-1].cumsum(axis=0)[::-1]  # share of each image that runs stage k
    return DenseCascadeResult(
        cascade=cascade,
        pixel_accuracy=_pixel_accuracy(chosen, pool.labels, pool.ignore_index),
        average_cost=float((stage_costs @ reach).mean()),
        worst_case_cost=worst_case_cost(stage_costs, cascade.thresholds),
        exit_ratio=exit_share.mean(axis=1),
        predictions=chosen,
        exit_stage=stage,
    )


def _pixel_accuracy(predictions: np.ndarray, labels: np.ndarray, ignore_index: int | None) -> float:
    valid = np.ones(labels.shape, dtype=bool) if ignore_index is None else labels != ignore_index
    if not valid.any():
        raise DataError("every pixel is labelled with the ignore index")
    return float((predictions == labels)[valid].mean())


def dense_ensemble_predictions(pool: DensePool, members: Sequence[str], combine: str = "logits") -> np.ndarray:
    """Per-pixel classes of the average of ``members`` (N, H, W)."""
    terms = [pool.logits[pool.index(m)] if combine == "logits" else softmax(pool.logits[pool.index(m)], axis=1)
             for m in members]
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total.argmax(axis=1)
