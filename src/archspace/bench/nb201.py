"""NAS-Bench-201 as a tabular benchmark: the packaged table of every cell's recorded results.

``NB201Table.load()`` reads ``archspace/resources/nb201_table.npz`` (built from the public CSV by
``python -m archspace.bench.nb201_pack``) into read-only float64 numpy columns aligned to the
benchmark index, once per process. Metric names are ``<dataset>_<split>_<epochs>`` with dataset in
{cifar10, cifar100, imagenet16}, split in {valid, test} and epochs in {200, 12} (the short
schedule is the cheap, noisier fidelity); plus ``params_mb`` and ``<dataset>_train_seconds_200``.
CIFAR-10 "valid" is the benchmark's cifar10-valid split (train on half of the training set).

The evaluator over it is ``archspace.evaluators.nb201.NB201Benchmark``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from archspace.errors import DataError, InvalidArchitecture, UsageError
from archspace.families.nb201.index import benchmark_cell_at, table_path
from archspace.families.nb201.table import NUM_CELLS, NUM_EDGES

DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "imagenet16")
SPLITS: tuple[str, ...] = ("valid", "test")
EPOCHS: tuple[int, ...] = (200, 12)
DATASET_ALIASES: dict[str, str] = {
    "cifar10": "cifar10", "cifar10-valid": "cifar10", "cifar-10": "cifar10",
    "cifar100": "cifar100", "cifar-100": "cifar100",
    "imagenet16": "imagenet16", "imagenet16-120": "imagenet16", "imagenet16_120": "imagenet16",
}
NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "imagenet16": 120}
RESOLUTION: dict[str, int] = {"cifar10": 32, "cifar100": 32, "imagenet16": 16}
ACCURACY_METRICS: tuple[str, ...] = tuple(
    f"{d}_{s}_{e}" for e in EPOCHS for d in DATASETS for s in SPLITS
)
SEED_MODES: tuple[str, ...] = ("mean", "sample")


def canonical_dataset(name: str) -> str:
    """Dataset key from a name or alias (``ImageNet16-120`` -> ``imagenet16``)."""
    key = DATASET_ALIASES.get(str(name).strip().lower())
    if key is None:
        raise UsageError(f"unknown NAS-Bench-201 dataset {name!r}; known: {list(DATASETS)} (aliases {sorted(DATASET_ALIASES)})")
    return key


@dataclass(frozen=True)
class MetricName:
    """A parsed accuracy metric: dataset, split and schedule length."""

    dataset: str
    split: str
    epochs: int

    @property
    def column(self) -> str:
        return f"{self.dataset}_{self.split}_{self.epochs}"

    @classmethod
    def parse(cls, name: str) -> MetricName:
        """``cifar10_valid_200`` style names; dataset aliases accepted (``imagenet16-120_test_200``)."""
        parts = str(name).strip().rsplit("_", 2)
        if len(parts) != 3:
            raise UsageError(f"unknown NAS-Bench-201 metric {name!r}; known metrics: {list(ACCURACY_METRICS)}")
        dataset_text, split, epochs_text = parts
        dataset = canonical_dataset(dataset_text)
        if split not in SPLITS:
            raise UsageError(f"metric {name!r}: split must be one of {list(SPLITS)}, got {split!r}")
        if not epochs_text.isdigit() or int(epochs_text) not in EPOCHS:
            raise UsageError(f"metric {name!r}: epochs must be one of {list(EPOCHS)}, got {epochs_text!r}")
        return cls(dataset, split, int(epochs_text))


@dataclass(frozen=True, eq=False)
class NB201Table:
    """Every cell's recorded results; each column is a read-only array indexed by benchmark index."""

    columns: Mapping[str, np.ndarray]
    valid_seeds: Mapping[str, np.ndarray]  # dataset -> (15625, 3) per-seed valid_200, NaN if absent
    meta: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None) -> NB201Table:
        """The packaged table (cached per process), or the ``.npz`` at ``path`` (read each call)."""
        if path is None:
            return _packaged_table()
        return _read_table(Path(path))

    def __len__(self) -> int:
        return NUM_CELLS

    @property
    def metric_names(self) -> list[str]:
        return sorted(self.columns)

    def column(self, metric: str) -> np.ndarray:
        """A column by name (accuracy metrics accept dataset aliases)."""
        if metric in self.columns:
            return self.columns[metric]
        if metric.endswith("_seeds"):
            return self.valid_seeds[canonical_dataset(metric.removesuffix("_valid_200_seeds"))]
        try:
            return self.columns[MetricName.parse(metric).column]
        except UsageError:
            raise UsageError(f"unknown NAS-Bench-201 metric {metric!r}; known metrics: {self.metric_names}") from None

    def seeds(self, dataset: str, index: int) -> np.ndarray:
        """The per-seed 200-epoch validation accuracies of one cell (2 or 3 values)."""
        row = self.valid_seeds[canonical_dataset(dataset)][check_index(index)]
        return row[~np.isnan(row)]

    def row(self, index: int) -> dict[str, Any]:
        """All recorded values of one cell as plain Python numbers."""
        i = check_index(index)
        out: dict[str, Any] = {"index": i, "arch": benchmark_cell_at(i).to_string()}
        out.update({name: float(self.columns[name][i]) for name in self.metric_names})
        for dataset in DATASETS:
            out[f"{dataset}_valid_200_seeds"] = self.seeds(dataset, i).tolist()
        return out

    def best(self, metric: str) -> tuple[int, float]:
        """(benchmark index, value) of the highest value of ``metric``."""
        column = self.column(metric)
        i = int(np.argmax(column))
        return i, float(column[i])


def check_index(index: int) -> int:
    i = int(index)
    if not 0 <= i < NUM_CELLS:
        raise InvalidArchitecture("index", f"benchmark index must be in [0, {NUM_CELLS - 1}], got {index}")
    return i


def _read_table(path: Path | Any) -> NB201Table:
    try:
        with path.open("rb") as handle, np.load(handle) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise DataError(f"NAS-Bench-201 table not found: {path}; build it with `python -m archspace.bench.nb201_pack`") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read NAS-Bench-201 table {path}: {exc}") from None
    if "meta" not in arrays or "ops" not in arrays:
        raise DataError(f"{path} is not an archspace NAS-Bench-201 table (no meta/ops arrays)")
    meta = json.loads(arrays.pop("meta").tobytes().decode())
    arrays.pop("ops")
    if arrays and any(a.shape[0] != NUM_CELLS for a in arrays.values()):
        raise DataError(f"{path}: every column must have {NUM_CELLS} rows")
    columns: dict[str, np.ndarray] = {}
    seeds: dict[str, np.ndarray] = {}
    for name, ints in arrays.items():
        values = ints / 10.0 ** meta["decimals"][name]
        if name.endswith("_valid_200_seeds"):
            values[ints == meta["seed_missing"]] = np.nan
            seeds[name.removesuffix("_valid_200_seeds")] = values
        else:
            columns[name] = values
        values.setflags(write=False)
    return NB201Table(columns=columns, valid_seeds=seeds, meta=meta)


@cache
def _packaged_table() -> NB201Table:
    return _read_table(table_path())


_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def seed_hash(seed: int, index: int) -> int:
    """A 64-bit hash of (trial seed, benchmark index): SplitMix64 applied twice."""
    return _splitmix64(_splitmix64(seed & _MASK64) ^ int(index))


def _splitmix64_array(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def seed_hash_array(seeds: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``seed_hash`` over arrays (uint64 arithmetic wraps modulo 2**64, as the scalar form masks)."""
    with np.errstate(over="ignore"):
        mixed = _splitmix64_array(np.asarray(seeds, dtype=np.int64).astype(np.uint64))
        return _splitmix64_array(mixed ^ np.asarray(indices, dtype=np.int64).astype(np.uint64))


__all__ = [
    "ACCURACY_METRICS",
    "DATASETS",
    "MetricName",
    "NB201Table",
    "NUM_CLASSES",
    "NUM_EDGES",
    "RESOLUTION",
    "canonical_dataset",
]
