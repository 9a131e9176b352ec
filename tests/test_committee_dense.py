"""Dense (per-pixel) cascades: the 0/1 identities, image vs grid regions, region-level costs."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.committee.cascade import Cascade
from archspace.committee.dense import (
    cell_means,
    dense_ensemble_predictions,
    dense_pool,
    evaluate_dense_cascade,
)
from archspace.errors import DataError, UsageError


def _pool(seed: int = 0, ignore_index: int | None = None):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=(6, 8, 10))
    outputs = {}
    for index in range(3):
        logits = rng.normal(size=(6, 4, 8, 10))
        np.put_along_axis(logits, labels[:, None], np.take_along_axis(logits, labels[:, None], 1) + index, axis=1)
        outputs[f"m{index}"] = logits.astype(np.float32)
    return dense_pool(outputs, labels, {"m0": 1.0, "m1": 3.0, "m2": 9.0}, ignore_index=ignore_index)


@pytest.mark.parametrize("grid", [None, (2, 5), (8, 10)])
def test_thresholds_one_and_zero(grid):
    pool = _pool()
    members = ("m0", "m1", "m2")
    never = evaluate_dense_cascade(pool, Cascade(members, (1.0, 1.0)), grid)
    assert np.array_equal(never.predictions, dense_ensemble_predictions(pool, members))
    assert never.average_cost == pytest.approx(13.0)
    assert never.worst_case_cost == 13.0
    always = evaluate_dense_cascade(pool, Cascade(members, (0.0, 0.5), "margin"), grid)
    assert np.array_equal(always.predictions, pool.logits[0].argmax(axis=1))
    assert always.average_cost == pytest.approx(1.0)
    assert always.worst_case_cost == 1.0


def test_whole_image_equals_a_one_cell_grid():
    pool = _pool(1)
    cascade = Cascade(("m0", "m2"), (0.45,))
    image = evaluate_dense_cascade(pool, cascade, None)
    one_cell = evaluate_dense_cascade(pool, cascade, (1, 1))
    assert np.array_equal(image.predictions, one_cell.predictions)
    assert image.average_cost == one_cell.average_cost


def test_only_uncertain_cells_go_on_and_pay():
    labels = np.zeros((1, 2, 4), dtype=np.int64)
    sure = np.zeros((1, 2, 2, 4), dtype=np.float32)
    sure[:, 0, :, :2] = 10.0  # left half: confident in class 0
    sure[:, 1, :, 2:] = 0.1  # right half: unsure, leaning to class 1
    big = np.zeros_like(sure)
    big[:, 0] = 5.0  # the second model gets everything right
    pool = dense_pool({"small": sure, "big": big}, labels, {"small": 1.0, "big": 10.0}, kind="logits")
    result = evaluate_dense_cascade(pool, Cascade(("small", "big"), (0.9,)), grid=(1, 2))
    assert result.exit_ratio.tolist() == [0.5, 0.5]
    assert result.average_cost == pytest.approx(1.0 + 0.5 * 10.0)
    assert result.worst_case_cost == 11.0
    assert result.pixel_accuracy == 1.0
    assert evaluate_dense_cascade(pool, Cascade(("small", "big"), (0.9,)), grid=None).average_cost == 11.0


def test_cell_means_and_ignore_index():
    maps = np.arange(2 * 4 * 6, dtype=float).reshape(2, 4, 6)
    assert np.allclose(cell_means(maps, (2, 3)), maps.reshape(2, 2, 2, 3, 2).mean(axis=(2, 4)))
    pool = _pool(2, ignore_index=255)
    labels = pool.labels.copy()
    labels[:, :4] = 255
    masked = dense_pool({n: pool.logits[i] for i, n in enumerate(pool.names)}, labels,
                        {"m0": 1, "m1": 1, "m2": 1}, kind="logits", ignore_index=255)
    result = evaluate_dense_cascade(masked, Cascade(("m2",), ()))
    expected = (masked.logits[2].argmax(axis=1) == labels)[:, 4:].mean()
    assert result.pixel_accuracy == pytest.approx(expected)


def test_bad_dense_inputs():
    logits = np.zeros((2, 3, 4, 4), dtype=np.float32)
    with pytest.raises(DataError, match="integers of shape \\(2, 4, 4\\)"):
        dense_pool({"a": logits}, np.zeros((2, 4), dtype=int), {"a": 1})
    with pytest.raises(DataError, match="must be \\(N, C, H, W\\)"):
        dense_pool({"a": logits[0]}, np.zeros((3, 4), dtype=int), {"a": 1})
    with pytest.raises(DataError, match="class indices in 0..2"):
        dense_pool({"a": logits}, np.full((2, 4, 4), 7), {"a": 1})
    pool = dense_pool({"a": logits}, np.zeros((2, 4, 4), dtype=int), {"a": 1})
    with pytest.raises(UsageError, match="grid \\(9, 1\\)"):
        evaluate_dense_cascade(pool, Cascade(("a",), ()), grid=(9, 1))
