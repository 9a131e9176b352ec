"""Moving Fashion-MNIST: a small, real-data video task built deterministically from Fashion-MNIST.

Each clip is ``FRAMES`` frames of a 28x28 canvas on which one Fashion-MNIST item, shrunk to
14x14 (2x2 mean pooling), slides horizontally by one pixel per frame, left or right, from a
start position and height drawn with a fixed seed. The label is ``2 * class + direction``
(direction 0 = left, 1 = right): 20 classes, so a model must read the item's appearance *and*
its motion across frames -- a single frame cannot tell the direction. The clips of the training
split come from the first ``TRAIN_ITEMS`` Fashion-MNIST training images, those of the test split
from the first ``TEST_ITEMS`` test images; everything is the same on every machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FRAMES = 8
CANVAS = 28
ITEM = 14
TRAIN_ITEMS = 6000
TEST_ITEMS = 2000
CLIP_SEED = 20201


def shrink(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) uint8 -> (N, 14, 14) uint8 by 2x2 mean pooling."""
    n = images.shape[0]
    return images.reshape(n, ITEM, 2, ITEM, 2).mean(axis=(2, 4)).round().astype(np.uint8)


def make_clips(images: np.ndarray, labels: np.ndarray, seed: int, frames: int = FRAMES) -> tuple[np.ndarray, np.ndarray]:
    """(N, 1, frames, 28, 28) uint8 clips and their 20-way labels (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = images.shape[0]
    items = shrink(images.reshape(n, CANVAS, CANVAS))
    direction = rng.integers(0, 2, size=n)
    travel = frames - 1
    start = rng.integers(0, CANVAS - ITEM - travel + 1, size=n)
    top = rng.integers(0, CANVAS - ITEM + 1, size=n)
    clips = np.zeros((n, 1, frames, CANVAS, CANVAS), dtype=np.uint8)
    rows = top[:, None] + np.arange(ITEM)[None, :]                      # (n, ITEM)
    for t in range(frames):
        left = np.where(direction == 1, start + t, start + travel - t)  # moving right or left
        cols = left[:, None] + np.arange(ITEM)[None, :]
        clips[np.arange(n)[:, None, None], 0, t, rows[:, :, None], cols[:, None, :]] = items
    return clips, (2 * labels.astype(np.int64) + direction).astype(np.int64)


def read_moving_fashion_mnist(directory: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four arrays of the dataset, built from the Fashion-MNIST files in ``directory``."""
    from archspace.data.sources import read_mnist_like

    train_x, train_y, test_x, test_y = read_mnist_like(directory)
    train = make_clips(train_x[:TRAIN_ITEMS, 0], train_y[:TRAIN_ITEMS], CLIP_SEED)
    test = make_clips(test_x[:TEST_ITEMS, 0], test_y[:TEST_ITEMS], CLIP_SEED + 1)
    return train[0], train[1], test[0], test[1]
