"""Reader for CIFAR-10 / CIFAR-100 in the official "python version" pickle format.

CIFAR-10 (``cifar-10-batches-py``): ``data_batch_1`` .. ``data_batch_5`` and ``test_batch``, each a
pickled dict with ``data`` (N x 3072 uint8, channel-major 32x32 planes) and ``labels``.
CIFAR-100 (``cifar-100-python``): ``train`` and ``test`` with ``data`` and ``fine_labels``.
The files are pickles written by the dataset's authors; only load directories you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from archspace.errors import DataError

CIFAR10_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST = ("test_batch",)
CIFAR100_TRAIN = ("train",)
CIFAR100_TEST = ("test",)
IMAGE_BYTES = 3 * 32 * 32


def read_cifar_files(paths: list[Path], label_key: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the batches in ``paths`` into (N, 3, 32, 32) uint8 images and int64 labels."""
    images, labels = [], []
    for path in paths:
        batch_images, batch_labels = _read_batch(path, label_key)
        images.append(batch_images)
        labels.append(batch_labels)
    return np.concatenate(images), np.concatenate(labels)


def _read_batch(path: Path, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    entries = _load_pickle(path)
    data = _get(entries, "data", path)
    labels = _get(entries, label_key, path)
    data = np.asarray(data)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != IMAGE_BYTES:
        raise DataError(
            f"{path}: 'data' must be an N x {IMAGE_BYTES} uint8 array, "
            f"got shape {data.shape} dtype {data.dtype}"
        )
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.shape[0] != data.shape[0]:
        raise DataError(f"{path}: {labels.shape[0] if labels.ndim else 0} labels for {data.shape[0]} images")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f"{path}: '{label_key}' must be integers, got {labels.dtype}")
    return data.reshape(-1, 3, 32, 32), labels.astype(np.int64)


def _load_pickle(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            entries = pickle.load(handle, encoding="bytes")
    except (pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DataError(f"{path}: not a readable CIFAR pickle ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not isinstance(entries, dict):
        raise DataError(f"{path}: expected a pickled dict, got {type(entries).__name__}")
    return entries


def _get(entries: dict, key: str, path: Path) -> object:
    """Look a key up as bytes (official files) or str (re-pickled files)."""
    for candidate in (key.encode(), key):
        if candidate in entries:
            return entries[candidate]
    present = sorted(k.decode() if isinstance(k, bytes) else str(k) for k in entries)
    raise DataError(f"{path}: CIFAR pickle has no '{key}' entry (keys present: {present})")
