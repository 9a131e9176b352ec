"""In-memory datasets: normalized image tensors split into train / validation / test.

A ``Dataset`` holds three ``Split``s of float32 (N, C, H, W) images (or (N, C, T, H, W) video
clips) and int64 labels, already
normalized with the training split's per-channel mean and standard deviation, plus the
augmentation that suits it. Batches are index slices of these tensors; nothing is decoded per step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from archspace.data.augment import Augmentation
from archspace.errors import DataError, UsageError


@dataclass(frozen=True)
class Split:
    """Images (N, C, H, W) float32 and labels (N,) int64 on one device."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: torch.device | str) -> Split:
        return Split(self.images.to(device), self.labels.to(device))

    def take(self, index: torch.Tensor) -> Split:
        return Split(self.images[index], self.labels[index])


@dataclass(frozen=True)
class Dataset:
    """A classification dataset ready for training.

    name: e.g. ``fashion-mnist``. num_classes: labels lie in ``[0, num_classes)``.
    mean/std: per-channel statistics used for normalization (of the raw 0..1 pixel values).
    augmentation: applied to training batches by the trainer (when the recipe allows it).
    """

    name: str
    train: Split
    val: Split
    test: Split
    num_classes: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augmentation: Augmentation = Augmentation()

    @property
    def in_channels(self) -> int:
        return int(self.train.images.shape[1])

    @property
    def resolution(self) -> int:
        """Image side length (archspace datasets are square; clips are (C, T, H, W))."""
        return int(self.train.images.shape[-1])

    @property
    def image_shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.train.images.shape[1:])  # type: ignore[return-value]

    @property
    def device(self) -> torch.device:
        return self.train.images.device

    def to(self, device: torch.device | str) -> Dataset:
        """The same dataset with every split moved to ``device`` (a no-op when already there)."""
        device = torch.device(device)
        if self.device == device:
            return self
        return replace(self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device))

    def with_train_subset(self, size: int, seed: int) -> Dataset:
        """Keep ``size`` training examples drawn without replacement (seeded); val/test unchanged."""
        if size < 1:
            raise UsageError(f"subset must be >= 1, got {size}")
        if size >= len(self.train):
            return self
        generator = torch.Generator().manual_seed(seed)
        index = torch.randperm(len(self.train), generator=generator)[:size].sort().values
        return replace(self, train=self.train.take(index.to(self.device)))

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "train": len(self.train),
            "val": len(self.val),
            "test": len(self.test),
            "num_classes": self.num_classes,
            "image_shape": list(self.image_shape),
            "augmentation": {"crop_padding": self.augmentation.crop_padding, "flip": self.augmentation.flip},
        }


def dataset_from_arrays(
    name: str,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    *,
    num_classes: int | None = None,
    val_size: int = 0,
    seed: int = 0,
    augmentation: Augmentation | None = None,
    scale: float | None = None,
) -> Dataset:
    """Validate raw arrays, split a seeded validation set off the training set, and normalize.

    Images are (N, C, H, W) arrays (uint8 pixels are divided by 255, or by ``scale`` when given).
    Labels are integers in ``[0, num_classes)``; ``num_classes`` defaults to max label + 1.
    """
    train_x = _as_images(train_images, f"{name} training images")
    test_x = _as_images(test_images, f"{name} test images")
    train_y = _as_labels(train_labels, len(train_x), f"{name} training labels")
    test_y = _as_labels(test_labels, len(test_x), f"{name} test labels")
    if train_x.shape[1:] != test_x.shape[1:]:
        raise DataError(f"{name}: training images are {train_x.shape[1:]} but test images are {test_x.shape[1:]}")
    if num_classes is None:
        num_classes = int(max(train_y.max(initial=0), test_y.max(initial=0))) + 1
    for labels, what in ((train_y, "training"), (test_y, "test")):
        _check_label_range(labels, num_classes, f"{name} {what} labels")
    if not 0 <= val_size < len(train_x):
        raise UsageError(f"{name}: val_size must be in [0, {len(train_x) - 1}], got {val_size}")

    train_index, val_index = split_indices(len(train_x), val_size, seed)
    divisor = scale if scale is not None else (255.0 if train_images.dtype == np.uint8 else 1.0)
    train_float = torch.from_numpy(train_x[train_index].astype(np.float32)).div_(divisor)
    axes = (0, *range(2, train_float.ndim))  # every axis but the channels (clips add a time axis)
    mean = train_float.mean(dim=axes)
    std = train_float.std(dim=axes).clamp_min(1e-6)
    per_channel = (1, -1, *([1] * (train_float.ndim - 2)))

    def normalize(images: np.ndarray) -> torch.Tensor:
        tensor = torch.from_numpy(images.astype(np.float32)).div_(divisor)
        return tensor.sub_(mean.view(per_channel)).div_(std.view(per_channel))

    return Dataset(
        name=name,
        train=Split(train_float.sub_(mean.view(per_channel)).div_(std.view(per_channel)),
                    torch.from_numpy(train_y[train_index])),
        val=Split(normalize(train_x[val_index]), torch.from_numpy(train_y[val_index])),
        test=Split(normalize(test_x), torch.from_numpy(test_y)),
        num_classes=num_classes,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        augmentation=augmentation or Augmentation(),
    )


def split_indices(count: int, val_size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded disjoint (train, val) index arrays, each sorted, covering ``range(count)``."""
    permutation = np.random.default_rng(seed).permutation(count)
    return np.sort(permutation[val_size:]), np.sort(permutation[:val_size])


def _as_images(images: np.ndarray, what: str) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.ndim not in (4, 5):
        raise DataError(f"{what}: expected (N, H, W) or (N, C, H, W) images, or (N, C, T, H, W) clips, "
                        f"got shape {images.shape}")
    if images.shape[0] == 0:
        raise DataError(f"{what}: no images")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise DataError(f"{what}: expected numeric pixels, got dtype {images.dtype}")
    if np.issubdtype(images.dtype, np.floating) and not np.isfinite(images).all():
        raise DataError(f"{what}: contains NaN or infinite values")
    return images


def _as_labels(labels: np.ndarray, count: int, what: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != count:
        raise DataError(f"{what}: expected {count} labels (one per image), got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
            return labels.astype(np.int64)
        raise DataError(f"{what}: expected integer class labels, got dtype {labels.dtype}")
    return labels.astype(np.int64)


def _check_label_range(labels: np.ndarray, num_classes: int, what: str) -> None:
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        bad = labels[(labels < 0) | (labels >= num_classes)]
        raise DataError(
            f"{what}: {bad.size} label(s) out of range [0, {num_classes - 1}] (e.g. {int(bad[0])})"
        )
