"""IDX (Fashion-MNIST / MNIST) loading: tiny fixture files, splits, normalization, corrupt files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from archspace.data import load_dataset
from archspace.data.idx import read_idx
from archspace.errors import DataError


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool = True) -> Path:
    data = idx_bytes(array)
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def make_idx_dir(root: Path, n_train: int = 60, n_test: int = 20, compress: bool = True, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for prefix, count in (("train", n_train), ("t10k", n_test)):
        write_idx(root / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (count, 6, 6)), compress)
        write_idx(root / f"{prefix}-labels-idx1-ubyte", np.arange(count) % 10, compress)
    return root


@pytest.mark.parametrize("compress", [True, False])
def test_loads_idx_directory_with_split_and_normalization(tmp_path: Path, compress: bool) -> None:
    directory = make_idx_dir(tmp_path / "fm", compress=compress)
    ds = load_dataset("fashion-mnist", data_dir=directory, seed=3, val_size=10)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (50, 10, 20)
    assert (ds.num_classes, ds.in_channels, ds.resolution) == (10, 1, 6)
    assert ds.train.images.dtype == torch.float32 and ds.train.labels.dtype == torch.int64
    # normalized with the training split's statistics: mean 0, std 1 there
    assert abs(ds.train.images.mean().item()) < 1e-5
    assert ds.train.images.std().item() == pytest.approx(1.0, abs=1e-4)
    # the test split keeps file order
    assert ds.test.labels.tolist() == [i % 10 for i in range(20)]
    assert ds.augmentation.flip and ds.augmentation.crop_padding == 2


def test_split_is_seeded_disjoint_and_complete(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    raw = read_idx(directory / "train-images-idx3-ubyte.gz", 3).astype(np.float32)

    def row_keys(ds) -> set[bytes]:  # identify examples by their de-normalized pixels
        return {(split.images * ds.std[0] + ds.mean[0]).mul(255).round().to(torch.uint8).numpy()[i].tobytes()
                for split in (ds.train, ds.val) for i in range(len(split))}

    a = load_dataset("fashion-mnist", data_dir=directory, seed=1, val_size=10)
    b = load_dataset("fashion-mnist", data_dir=directory, seed=1, val_size=10)
    c = load_dataset("fashion-mnist", data_dir=directory, seed=2, val_size=10)
    assert torch.equal(a.val.images, b.val.images)
    assert not torch.equal(a.val.labels, c.val.labels) or not torch.equal(a.val.images, c.val.images)
    assert len(row_keys(a)) == len(raw) == 60


def test_mnist_has_no_flip_and_subset_keeps_val(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "mnist")
    ds = load_dataset("mnist", data_dir=directory, val_size=10, subset=7)
    assert not ds.augmentation.flip and ds.augmentation.crop_padding == 2
    assert (len(ds.train), len(ds.val)) == (7, 10)
    assert not load_dataset("mnist", data_dir=directory, val_size=10, augment=False).augmentation.enabled


def test_environment_variable_names_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = make_idx_dir(tmp_path / "via-env")
    monkeypatch.setenv("ARCHSPACE_FASHION_MNIST", str(directory))
    assert len(load_dataset("fashion-mnist", val_size=5).test) == 20
    monkeypatch.setenv("ARCHSPACE_FASHION_MNIST", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match=r"nowhere.*ARCHSPACE_FASHION_MNIST.*dataset-fashion-mnist"):
        load_dataset("fashion-mnist")


def test_missing_file_is_named(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    (directory / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"missing t10k-labels-idx1-ubyte"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_wrong_magic_is_rejected(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    bad = bytearray(idx_bytes(np.zeros((60, 6, 6))))
    bad[2] = 0x0D  # float data type code
    (directory / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(bad)))
    with pytest.raises(DataError, match=r"wrong IDX magic number 0x00000d03; expected 0x00000803"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_labels_file_with_image_magic_is_rejected(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    write_idx(directory / "train-labels-idx1-ubyte", np.zeros((60, 1, 1)))
    with pytest.raises(DataError, match="expected 0x00000801"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_truncated_data_is_rejected(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    data = idx_bytes(np.zeros((60, 6, 6)))[:-7]
    (directory / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(data))
    with pytest.raises(DataError, match=r"truncated IDX data.*\(60, 6, 6\)"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_truncated_gzip_stream_is_rejected(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    path = directory / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match="corrupt or truncated gzip"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_count_mismatch_and_label_range(tmp_path: Path) -> None:
    directory = make_idx_dir(tmp_path / "fm")
    write_idx(directory / "train-labels-idx1-ubyte", np.zeros(59))
    with pytest.raises(DataError, match="60 images but .* 59 labels"):
        load_dataset("fashion-mnist", data_dir=directory)
    write_idx(directory / "train-labels-idx1-ubyte", np.full(60, 10))
    with pytest.raises(DataError, match=r"60 label\(s\) out of range \[0, 9\]"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_real_fashion_mnist_shapes(fashion_mnist_dir: Path) -> None:
    ds = load_dataset("fashion-mnist", data_dir=fashion_mnist_dir)
    assert (len(ds.train), len(ds.val), len(ds.test)) == (55000, 5000, 10000)
    assert ds.image_shape == (1, 28, 28)
    # every class appears 1000 times in the test set
    assert torch.bincount(ds.test.labels).tolist() == [1000] * 10
    assert ds.mean[0] == pytest.approx(0.286, abs=0.002)
