"""scikit-learn digits, user .npz arrays, and the batched augmentation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from archspace.data import Augmentation, load_dataset
from archspace.data.augment import random_crop, random_flip
from archspace.errors import DataError, UsageError


def test_digits_fixed_test_split_and_seeded_val() -> None:
    a = load_dataset("digits", seed=0)
    b = load_dataset("digits", seed=1)
    assert (len(a.train), len(a.val), len(a.test)) == (1151, 287, 359)
    assert (a.num_classes, a.in_channels, a.resolution) == (10, 1, 8)
    assert torch.equal(a.test.labels, b.test.labels)  # the test split never depends on the seed
    assert not torch.equal(a.val.labels, b.val.labels)
    assert not a.augmentation.flip


def test_npz_with_and_without_test_arrays(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 5, 5)).astype(np.float32), np.arange(50) % 3
    np.savez(tmp_path / "plain.npz", x=x, y=y)
    ds = load_dataset(str(tmp_path / "plain.npz"))
    assert (len(ds.train) + len(ds.val), len(ds.test), ds.num_classes) == (40, 10, 3)
    assert not ds.augmentation.enabled
    np.savez(tmp_path / "split.npz", x=x[:, None], y=y, x_test=x[:7, None], y_test=y[:7])
    ds = load_dataset(str(tmp_path / "split.npz"), val_size=5)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (45, 5, 7)


def test_npz_errors(tmp_path: Path) -> None:
    np.savez(tmp_path / "nolabels.npz", x=np.zeros((4, 3, 3)))
    with pytest.raises(DataError, match=r"missing array\(s\) \['y'\]"):
        load_dataset(str(tmp_path / "nolabels.npz"))
    np.savez(tmp_path / "negative.npz", x=np.zeros((20, 3, 3)), y=np.full(20, -1))
    with pytest.raises(DataError, match="out of range"):
        load_dataset(str(tmp_path / "negative.npz"))
    np.savez(tmp_path / "flat.npz", x=np.zeros((20, 9)), y=np.zeros(20, int))
    with pytest.raises(DataError, match=r"expected \(N, H, W\) or \(N, C, H, W\)"):
        load_dataset(str(tmp_path / "flat.npz"))
    with pytest.raises(DataError, match="no such .npz file"):
        load_dataset(str(tmp_path / "absent.npz"))
    with pytest.raises(UsageError, match="unknown dataset 'imagenet'"):
        load_dataset("imagenet")


def reference_crop(images: torch.Tensor, padding: int, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    h, w = images.shape[2:]
    return torch.stack([padded[i, :, r:r + h, c:c + w] for i, (r, c) in enumerate(zip(rows, cols, strict=True))])


def test_random_crop_matches_per_example_reference() -> None:
    images = torch.randn(16, 3, 7, 7)
    crop = random_crop(images, 2, torch.Generator().manual_seed(5))
    offsets = torch.randint(0, 5, (2, 16), generator=torch.Generator().manual_seed(5))
    assert torch.equal(crop, reference_crop(images, 2, offsets[0], offsets[1]))
    assert torch.equal(crop, random_crop(images, 2, torch.Generator().manual_seed(5)))


def test_random_flip_mirrors_about_half() -> None:
    images = torch.randn(400, 1, 4, 4)
    flipped = random_flip(images, torch.Generator().manual_seed(0))
    mirrored = (flipped == images.flip(3)).flatten(1).all(1)
    kept = (flipped == images).flatten(1).all(1)
    assert bool((mirrored | kept).all())
    assert 150 < int(mirrored.sum()) < 250


def test_augmentation_keeps_shape_and_is_seeded() -> None:
    images = torch.randn(8, 1, 6, 6)
    augment = Augmentation(crop_padding=1, flip=True)
    a = augment(images, torch.Generator().manual_seed(1))
    b = augment(images, torch.Generator().manual_seed(1))
    assert a.shape == images.shape and torch.equal(a, b)
    assert not Augmentation().enabled
