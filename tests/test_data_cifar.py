"""CIFAR-10/100 python-pickle loading from tiny files written in the official format."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from archspace.data import load_dataset
from archspace.errors import DataError


def write_batch(path: Path, count: int, label_key: str, num_classes: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    entries = {
        b"batch_label": b"fixture",
        b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
        label_key.encode(): [int(v) for v in rng.integers(0, num_classes, count)],
        b"filenames": [f"img{i}.png".encode() for i in range(count)],
    }
    with path.open("wb") as handle:
        pickle.dump(entries, handle, protocol=2)


def make_cifar10(root: Path, per_batch: int = 6, test: int = 8) -> Path:
    directory = root / "cifar-10-batches-py"
    directory.mkdir(parents=True)
    for i in range(1, 6):
        write_batch(directory / f"data_batch_{i}", per_batch, "labels", 10, seed=i)
    write_batch(directory / "test_batch", test, "labels", 10, seed=9)
    return directory


def make_cifar100(root: Path) -> Path:
    directory = root / "cifar-100-python"
    directory.mkdir(parents=True)
    write_batch(directory / "train", 30, "fine_labels", 100, seed=1)
    write_batch(directory / "test", 10, "fine_labels", 100, seed=2)
    return directory


def test_cifar10_loads_all_batches(tmp_path: Path) -> None:
    directory = make_cifar10(tmp_path)
    ds = load_dataset("cifar10", data_dir=directory, val_size=5)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (25, 5, 8)
    assert (ds.num_classes, ds.in_channels, ds.resolution) == (10, 3, 32)
    assert ds.augmentation.crop_padding == 4 and ds.augmentation.flip
    # channel-major rows: pixel (c, 0, 0) of test image 0 is byte c * 1024 of its row
    with (directory / "test_batch").open("rb") as handle:
        row = pickle.load(handle, encoding="bytes")[b"data"][0]
    restored = ds.test.images[0, :, 0, 0].numpy() * np.array(ds.std) + np.array(ds.mean)
    assert np.allclose(restored * 255, row[[0, 1024, 2048]], atol=1e-3)


def test_cifar_parent_directory_is_accepted(tmp_path: Path) -> None:
    make_cifar10(tmp_path)
    assert len(load_dataset("cifar-10", data_dir=tmp_path, val_size=5).test) == 8


def test_cifar100_uses_fine_labels(tmp_path: Path) -> None:
    directory = make_cifar100(tmp_path)
    ds = load_dataset("cifar100", data_dir=directory, val_size=4)
    assert ds.num_classes == 100 and len(ds.train) == 26


def test_cifar_missing_key_is_rejected(tmp_path: Path) -> None:
    directory = make_cifar100(tmp_path)
    write_batch(directory / "train", 30, "coarse_labels", 20, seed=1)  # no fine_labels
    with pytest.raises(DataError, match=r"no 'fine_labels' entry \(keys present: .*coarse_labels"):
        load_dataset("cifar100", data_dir=directory)


def test_cifar_label_out_of_range_is_rejected(tmp_path: Path) -> None:
    directory = make_cifar10(tmp_path)
    write_batch(directory / "test_batch", 8, "labels", 11, seed=3)  # labels up to 10
    with pytest.raises(DataError, match=r"out of range \[0, 9\]"):
        load_dataset("cifar10", data_dir=directory)


def test_cifar_missing_files_and_bad_pickles(tmp_path: Path) -> None:
    directory = make_cifar10(tmp_path)
    (directory / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"missing CIFAR file\(s\) \['data_batch_3'\]"):
        load_dataset("cifar10", data_dir=directory)
    (directory / "data_batch_3").write_bytes(b"not a pickle")
    with pytest.raises(DataError, match="data_batch_3: not a readable CIFAR pickle"):
        load_dataset("cifar10", data_dir=directory)


def test_cifar_wrong_row_size_is_rejected(tmp_path: Path) -> None:
    directory = make_cifar10(tmp_path)
    with (directory / "test_batch").open("wb") as handle:
        pickle.dump({b"data": np.zeros((8, 100), np.uint8), b"labels": [0] * 8}, handle)
    with pytest.raises(DataError, match="N x 3072 uint8"):
        load_dataset("cifar10", data_dir=directory)


def test_missing_cifar_directory_explains_how_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"cifar10 not found: .*absent.*cifar-10-python.tar.gz"):
        load_dataset("cifar10", data_dir=tmp_path / "absent")
