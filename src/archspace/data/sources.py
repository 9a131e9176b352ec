"""``load_dataset(name, ...)``: find, read, validate and split each supported dataset.

Names: ``fashion-mnist``, ``mnist`` (IDX files), ``cifar10``, ``cifar100`` (python pickles),
``digits`` (scikit-learn's 8x8 digits, shipped with scikit-learn), and a path to a ``.npz`` file
with arrays ``x``, ``y`` (optional ``x_test``, ``y_test``). Nothing is downloaded: each dataset is
read from a directory given as an argument, an environment variable, or a default location.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from archspace.data.augment import Augmentation
from archspace.data.cifar import (
    CIFAR10_TEST,
    CIFAR10_TRAIN,
    CIFAR100_TEST,
    CIFAR100_TRAIN,
    read_cifar_files,
)
from archspace.data.dataset import Dataset, dataset_from_arrays
from archspace.data.idx import find_idx_file, read_idx
from archspace.data.inputs import DATASET_INPUTS
from archspace.errors import DataError, UsageError

RawArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class DatasetInfo:
    """Where a named dataset lives and how it is used."""

    name: str
    num_classes: int
    val_size: int
    augmentation: Augmentation
    env_var: str | None
    default_dir: str | None
    how_to_get: str
    reader: Callable[[Path], RawArrays]


def read_mnist_like(directory: Path) -> RawArrays:
    """The four arrays of an MNIST-format directory (train/t10k images and labels)."""
    arrays = []
    for prefix in ("train", "t10k"):
        images_path = _require_idx(directory, f"{prefix}-images-idx3-ubyte")
        labels_path = _require_idx(directory, f"{prefix}-labels-idx1-ubyte")
        images = read_idx(images_path, expected_ndim=3)
        labels = read_idx(labels_path, expected_ndim=1)
        if len(images) != len(labels):
            raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
        arrays += [images[:, None], labels]
    return arrays[0], arrays[1], arrays[2], arrays[3]


def _require_idx(directory: Path, stem: str) -> Path:
    path = find_idx_file(directory, stem)
    if path is None:
        raise DataError(f"{directory}: missing {stem}.gz (or uncompressed {stem})")
    return path


def _cifar_reader(subdir: str, train: tuple[str, ...], test: tuple[str, ...], label_key: str) -> Callable[[Path], RawArrays]:
    def read(directory: Path) -> RawArrays:
        if not (directory / test[0]).is_file() and (directory / subdir / test[0]).is_file():
            directory = directory / subdir
        missing = [name for name in train + test if not (directory / name).is_file()]
        if missing:
            raise DataError(f"{directory}: missing CIFAR file(s) {missing}")
        train_x, train_y = read_cifar_files([directory / n for n in train], label_key)
        test_x, test_y = read_cifar_files([directory / n for n in test], label_key)
        return train_x, train_y, test_x, test_y

    return read


def _read_moving_fashion_mnist(directory: Path) -> RawArrays:
    from archspace.data.video import read_moving_fashion_mnist

    return read_moving_fashion_mnist(directory)


def _read_digits(_directory: Path) -> RawArrays:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images[:, None] * (255.0 / 16.0)).round().astype(np.uint8)
    labels = digits.target.astype(np.int64)
    train_index, test_index = _fixed_holdout(len(labels), fraction=0.2)
    return images[train_index], labels[train_index], images[test_index], labels[test_index]


def _fixed_holdout(count: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """A test split that never depends on the experiment seed (seed 0, kept apart forever)."""
    permutation = np.random.default_rng(0).permutation(count)
    size = max(1, int(round(count * fraction)))
    return np.sort(permutation[size:]), np.sort(permutation[:size])


_IDX_HELP = "download the four *-ubyte.gz files of {} into it"
DATASETS: dict[str, DatasetInfo] = {
    "fashion-mnist": DatasetInfo(
        "fashion-mnist", DATASET_INPUTS["fashion-mnist"].classes, 5000, Augmentation(crop_padding=2, flip=True), "ARCHSPACE_FASHION_MNIST",
        "/usr/share/datasets/fashion-mnist",
        "install the Debian package dataset-fashion-mnist, or put the four *-ubyte.gz files of "
        "github.com/zalandoresearch/fashion-mnist in a directory and pass it (--data-dir or ARCHSPACE_FASHION_MNIST)",
        read_mnist_like,
    ),
    "mnist": DatasetInfo(
        "mnist", DATASET_INPUTS["mnist"].classes, 5000, Augmentation(crop_padding=2, flip=False), "ARCHSPACE_MNIST",
        "/usr/share/datasets/mnist",
        "put the four *-ubyte.gz files of MNIST (yann.lecun.com/exdb/mnist) in a directory and pass it "
        "(--data-dir or ARCHSPACE_MNIST)",
        read_mnist_like,
    ),
    "cifar10": DatasetInfo(
        "cifar10", DATASET_INPUTS["cifar10"].classes, 5000, Augmentation(crop_padding=4, flip=True), "ARCHSPACE_CIFAR10",
        str(Path.home() / "data" / "cifar-10-batches-py"),
        "extract cifar-10-python.tar.gz from www.cs.toronto.edu/~kriz/cifar.html and pass the "
        "cifar-10-batches-py directory (--data-dir or ARCHSPACE_CIFAR10)",
        _cifar_reader("cifar-10-batches-py", CIFAR10_TRAIN, CIFAR10_TEST, "labels"),
    ),
    "cifar100": DatasetInfo(
        "cifar100", DATASET_INPUTS["cifar100"].classes, 5000, Augmentation(crop_padding=4, flip=True), "ARCHSPACE_CIFAR100",
        str(Path.home() / "data" / "cifar-100-python"),
        "extract cifar-100-python.tar.gz from www.cs.toronto.edu/~kriz/cifar.html and pass the "
        "cifar-100-python directory (--data-dir or ARCHSPACE_CIFAR100)",
        _cifar_reader("cifar-100-python", CIFAR100_TRAIN, CIFAR100_TEST, "fine_labels"),
    ),
    "moving-fashion-mnist": DatasetInfo(
        "moving-fashion-mnist", DATASET_INPUTS["moving-fashion-mnist"].classes, 1000, Augmentation(),
        "ARCHSPACE_FASHION_MNIST", "/usr/share/datasets/fashion-mnist",
        "built from Fashion-MNIST (archspace.data.video): install the Debian package dataset-fashion-mnist, "
        "or pass a directory with its four *-ubyte.gz files (--data-dir or ARCHSPACE_FASHION_MNIST)",
        _read_moving_fashion_mnist,
    ),
    "digits": DatasetInfo(
        "digits", DATASET_INPUTS["digits"].classes, 287, Augmentation(crop_padding=1, flip=False), None, None,
        "ships with scikit-learn", _read_digits,
    ),
}
ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "cifar-10": "cifar10", "cifar-100": "cifar100"}


def dataset_names() -> list[str]:
    """Names ``load_dataset`` accepts (besides a path to a .npz file)."""
    return sorted(DATASETS)


def load_dataset(
    name: str,
    data_dir: str | Path | None = None,
    seed: int = 0,
    val_size: int | None = None,
    subset: int | None = None,
    augment: bool = True,
) -> Dataset:
    """Load a dataset by name (or a ``.npz`` path) as normalized in-memory tensors on the CPU.

    data_dir: where the files are; default: the dataset's environment variable, then its default
        directory (``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST).
    seed: seeds the train/validation split (and the ``subset`` draw); the test split is fixed.
    val_size: validation examples held out of the training set (default 5000; 287 for digits).
    subset: keep only this many training examples (drawn with ``seed``); val/test stay whole.
    augment: False drops the dataset's augmentation (crop/flip) for deterministic batches.
    """
    key = ALIASES.get(name.lower(), name.lower())
    if key.endswith(".npz") or (key not in DATASETS and Path(name).suffix == ".npz"):
        dataset = load_npz(Path(name), seed=seed, val_size=val_size)
    else:
        if key not in DATASETS:
            raise UsageError(f"unknown dataset {name!r}; choose one of {dataset_names()} or a path to a .npz file")
        info = DATASETS[key]
        directory = resolve_data_dir(info, data_dir)
        train_x, train_y, test_x, test_y = info.reader(directory)
        dataset = dataset_from_arrays(
            info.name, train_x, train_y, test_x, test_y, num_classes=info.num_classes,
            val_size=info.val_size if val_size is None else val_size, seed=seed,
            augmentation=info.augmentation,
        )
    if not augment:
        dataset = _without_augmentation(dataset)
    if subset is not None:
        dataset = dataset.with_train_subset(subset, seed)
    return dataset


def resolve_data_dir(info: DatasetInfo, data_dir: str | Path | None) -> Path:
    """The directory to read: argument, then environment variable, then default; must exist."""
    if info.default_dir is None and info.env_var is None:
        return Path(".")
    source = "argument"
    if data_dir is None and info.env_var and os.environ.get(info.env_var):
        data_dir, source = os.environ[info.env_var], f"${info.env_var}"
    if data_dir is None:
        data_dir, source = info.default_dir, "default location"
    directory = Path(str(data_dir)).expanduser()
    if not directory.is_dir():
        raise DataError(f"{info.name} not found: {directory} ({source}) is not a directory; {info.how_to_get}")
    return directory


def load_npz(path: Path, seed: int = 0, val_size: int | None = None) -> Dataset:
    """User arrays: ``x`` (N, [C,] H, W) and integer ``y``; optional ``x_test``/``y_test``, ``num_classes``.

    Without a test split, a fixed 20% of ``x`` is held out as test. No augmentation by default.
    """
    if not path.is_file():
        raise DataError(f"{path}: no such .npz file (expected arrays x, y and optionally x_test, y_test)")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            contents = {key: arrays[key] for key in arrays.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    missing = [key for key in ("x", "y") if key not in contents]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; found {sorted(contents)}")
    if ("x_test" in contents) != ("y_test" in contents):
        raise DataError(f"{path}: x_test and y_test must be given together")
    x, y = contents["x"], contents["y"]
    if "x_test" in contents:
        test_x, test_y = contents["x_test"], contents["y_test"]
    else:
        if np.asarray(y).shape[:1] != np.asarray(x).shape[:1]:
            raise DataError(f"{path}: x has {len(x)} images but y has {len(y)} labels")
        train_index, test_index = _fixed_holdout(len(x), fraction=0.2)
        x, y, test_x, test_y = x[train_index], y[train_index], x[test_index], y[test_index]
    default_val = max(1, len(x) // 10)
    return dataset_from_arrays(
        path.stem, x, y, test_x, test_y, num_classes=_npz_classes(path, contents, y),
        val_size=default_val if val_size is None else val_size, seed=seed,
    )


def _npz_classes(path: Path, contents: dict[str, np.ndarray], labels: np.ndarray) -> int | None:
    """``num_classes`` from the file, else max label + 1 when the labels use every class below it.

    Labels 0 and 109 alone would otherwise make a silent 110-class problem: a gap is refused.
    """
    if "num_classes" in contents:
        value = np.asarray(contents["num_classes"])
        if value.shape != () or not np.issubdtype(value.dtype, np.integer) or int(value) < 1:
            raise DataError(f"{path}: num_classes must be one integer >= 1, got {value.tolist()!r}")
        return int(value)
    y = np.asarray(labels)
    if y.size == 0 or not np.issubdtype(y.dtype, np.number):
        return None
    used = np.unique(y)
    if used.min() >= 0 and float(used.max()) == int(used.max()) and len(used) < int(used.max()) + 1:
        missing = sorted(set(range(int(used.max()) + 1)) - {int(v) for v in used})
        raise DataError(f"{path}: training labels skip class(es) {missing[:5]}{' ...' if len(missing) > 5 else ''} "
                        f"below the largest label {int(used.max())}; relabel 0..K-1 or store num_classes in the file")
    return None


def _without_augmentation(dataset: Dataset) -> Dataset:
    from dataclasses import replace

    return replace(dataset, augmentation=Augmentation())
