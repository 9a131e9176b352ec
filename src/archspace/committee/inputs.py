"""Prediction pools: per-example outputs of several trained models on one labelled split.

A committee (ensemble or cascade) is built from models that were already trained; all it needs is
each model's per-example logits (or probabilities) on the same examples, the labels, and each
model's cost. ``PredictionPool`` holds exactly that, validated once, so that every later step can
trust the shapes.

Probabilities are stored as log-probabilities: a log-probability vector *is* a logit vector (the
softmax of ``log p`` is ``p`` again), so averaging logits of probability inputs averages their
log-probabilities (a normalized geometric mean), and averaging probabilities stays available.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from archspace.errors import DataError, UsageError

OutputKind = Literal["auto", "logits", "probs"]
_PROB_TOLERANCE = 1e-3
_TINY = float(np.finfo(np.float32).tiny)


@dataclass(frozen=True)
class PredictionPool:
    """Validated outputs of ``M`` models on ``N`` examples with ``C`` classes.

    ``logits`` has shape (M, N, C) (float32; log-probabilities for probability inputs), ``labels``
    shape (N,), ``costs`` shape (M,) (flops or measured latency, one unit for the whole pool).
    """

    names: tuple[str, ...]
    logits: np.ndarray
    labels: np.ndarray
    costs: np.ndarray

    def __post_init__(self) -> None:
        _validate_pool(self.names, self.logits, self.labels, self.costs)

    @property
    def num_models(self) -> int:
        return len(self.names)

    @property
    def num_examples(self) -> int:
        return int(self.labels.shape[0])

    @property
    def num_classes(self) -> int:
        return int(self.logits.shape[2])

    def index(self, member: int | str) -> int:
        """Position of a model given by name or index, with an error listing the valid names."""
        if isinstance(member, (int, np.integer)):
            if not 0 <= int(member) < self.num_models:
                raise UsageError(f"model index {member} out of range 0..{self.num_models - 1}")
            return int(member)
        if member not in self.names:
            raise UsageError(f"unknown model {member!r}; the pool has {', '.join(self.names)}")
        return self.names.index(member)

    def probabilities(self, member: int | str) -> np.ndarray:
        """Softmax of one model's logits, shape (N, C)."""
        return softmax(self.logits[self.index(member)])

    def accuracies(self) -> np.ndarray:
        """Top-1 accuracy of each model, shape (M,)."""
        return (self.logits.argmax(axis=2) == self.labels[None, :]).mean(axis=1)

    def take_examples(self, rows: np.ndarray) -> PredictionPool:
        """The same models restricted to the examples ``rows`` (indices or a boolean mask)."""
        rows = np.asarray(rows)
        return PredictionPool(self.names, self.logits[:, rows], self.labels[rows], self.costs)

    def take_models(self, members: Sequence[int | str]) -> PredictionPool:
        """A pool of the chosen models, in the given order."""
        index = [self.index(m) for m in members]
        return PredictionPool(tuple(self.names[i] for i in index), self.logits[index], self.labels, self.costs[index])

    def split(self, fraction: float = 0.5, seed: int = 0) -> tuple[PredictionPool, PredictionPool]:
        """A seeded random split into (held-out, test): choose on the first, report on the second."""
        if not 0.0 < fraction < 1.0:
            raise UsageError(f"split fraction must be in (0, 1), got {fraction}")
        count = int(round(fraction * self.num_examples))
        if count == 0 or count == self.num_examples:
            raise UsageError(f"a {fraction} split of {self.num_examples} examples leaves one side empty")
        order = np.random.default_rng(seed).permutation(self.num_examples)
        return self.take_examples(np.sort(order[:count])), self.take_examples(np.sort(order[count:]))


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=axis, keepdims=True)


def as_logits(outputs: np.ndarray, kind: OutputKind = "auto", name: str = "model", class_axis: int = -1) -> np.ndarray:
    """float32 logits from logits or probabilities (``auto`` tells them apart by their values).

    Probabilities must be non-negative and sum to 1 over ``class_axis`` (within 1e-3); they become
    log-probabilities (zeros clipped to the smallest float32 normal).
    """
    outputs = np.asarray(outputs)
    if not np.issubdtype(outputs.dtype, np.floating):
        raise DataError(f"{name}: predictions must be floating point, got dtype {outputs.dtype}")
    if not np.isfinite(outputs).all():
        raise DataError(f"{name}: predictions contain NaN or infinite values")
    if kind not in ("auto", "logits", "probs"):
        raise UsageError(f"output kind must be auto, logits or probs, got {kind!r}")
    looks_like_probs = _is_probability(outputs, class_axis)
    if kind == "probs" and not looks_like_probs:
        raise DataError(f"{name}: values are not probabilities (need >= 0 and rows summing to 1)")
    if kind == "probs" or (kind == "auto" and looks_like_probs):
        return np.log(np.maximum(outputs, _TINY)).astype(np.float32)
    return outputs.astype(np.float32, copy=False)


def _is_probability(outputs: np.ndarray, class_axis: int) -> bool:
    if outputs.size == 0 or outputs.min() < 0.0 or outputs.max() > 1.0 + _PROB_TOLERANCE:
        return False
    sums = outputs.sum(axis=class_axis, dtype=np.float64)
    return bool(np.abs(sums - 1.0).max() <= _PROB_TOLERANCE)


def pool_from_arrays(
    outputs: Mapping[str, np.ndarray],
    labels: np.ndarray,
    costs: Mapping[str, float] | Sequence[float],
    kind: OutputKind = "auto",
) -> PredictionPool:
    """A pool from ``{name: (N, C) logits or probabilities}``, labels (N,) and costs per model."""
    if not outputs:
        raise UsageError("a pool needs at least one model")
    names = tuple(outputs)
    cost_values = _costs_in_order(names, costs)
    arrays = [as_logits(outputs[n], kind, n) for n in names]
    _check_same_shape(names, arrays)
    return PredictionPool(names, np.stack(arrays), _as_labels(labels, "labels"), cost_values)


def _costs_in_order(names: tuple[str, ...], costs: Mapping[str, float] | Sequence[float]) -> np.ndarray:
    if isinstance(costs, Mapping):
        missing = [n for n in names if n not in costs]
        if missing:
            raise UsageError(f"no cost given for {', '.join(missing)}")
        values = [costs[n] for n in names]
    else:
        values = list(costs)
        if len(values) != len(names):
            raise UsageError(f"{len(values)} costs for {len(names)} models")
    return np.asarray(values, dtype=np.float64)


def _check_same_shape(names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
    first = arrays[0]
    if first.ndim != 2:
        raise DataError(f"{names[0]}: predictions must be (examples, classes), got shape {first.shape}")
    for name, array in zip(names, arrays, strict=True):
        if array.shape != first.shape:
            raise DataError(
                f"{name}: predictions have shape {array.shape} but {names[0]} has {first.shape}; "
                "every model must predict the same examples and classes"
            )


def _as_labels(labels: np.ndarray, name: str) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DataError(f"{name}: labels must be one-dimensional, got shape {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        if np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels)):
            labels = labels.astype(np.int64)
        else:
            raise DataError(f"{name}: labels must be integer class indices, got dtype {labels.dtype}")
    return labels.astype(np.int64, copy=False)


def _validate_pool(names: tuple[str, ...], logits: np.ndarray, labels: np.ndarray, costs: np.ndarray) -> None:
    if len(names) == 0:
        raise UsageError("a pool needs at least one model")
    if len(set(names)) != len(names):
        raise UsageError(f"model names must be unique, got {list(names)}")
    if logits.ndim != 3 or logits.shape[0] != len(names):
        raise DataError(f"logits must have shape (models={len(names)}, examples, classes), got {logits.shape}")
    if logits.shape[2] < 2:
        raise DataError(f"predictions need at least 2 classes, got {logits.shape[2]}")
    if labels.shape != (logits.shape[1],):
        raise DataError(f"{labels.shape[0] if labels.ndim else 0} labels for {logits.shape[1]} predicted examples")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[2]):
        raise DataError(
            f"labels must be class indices in 0..{logits.shape[2] - 1}, found {labels.min()}..{labels.max()}"
        )
    if costs.shape != (len(names),) or not np.all(np.isfinite(costs)) or np.any(costs <= 0):
        raise UsageError(f"costs must be one positive finite number per model, got {costs.tolist()}")


# --- .npz files ------------------------------------------------------------------------------

_OUTPUT_KEYS = {"predictions": "auto", "logits": "logits", "probabilities": "probs", "probs": "probs"}
_LABEL_KEYS = ("ground_truth", "labels")
_COST_KEYS = ("flops", "cost")
COSTS_FILE = "costs.json"


def read_npz(path: str | Path, kind: OutputKind = "auto") -> tuple[np.ndarray, np.ndarray, float | None]:
    """(logits, labels, cost or None) from one ``.npz`` file.

    Outputs come from ``predictions`` (logits or probabilities, told apart by value), ``logits`` or
    ``probabilities``; labels from ``ground_truth`` or ``labels``; an optional scalar ``flops`` or
    ``cost`` gives the model's cost.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable .npz file ({exc})") from None
    output_key = next((k for k in _OUTPUT_KEYS if k in contents), None)
    label_key = next((k for k in _LABEL_KEYS if k in contents), None)
    if output_key is None or label_key is None:
        raise DataError(
            f"{path}: need one of {'/'.join(_OUTPUT_KEYS)} and one of {'/'.join(_LABEL_KEYS)}; "
            f"found keys {sorted(contents)}"
        )
    chosen_kind = kind if kind != "auto" else _OUTPUT_KEYS[output_key]
    logits = as_logits(contents[output_key], chosen_kind, path.name)  # type: ignore[arg-type]
    cost_key = next((k for k in _COST_KEYS if k in contents), None)
    cost = float(np.asarray(contents[cost_key]).reshape(())) if cost_key else None
    return logits, _as_labels(contents[label_key], path.name), cost


def pool_from_npz(
    paths: Sequence[str | Path] | str | Path,
    costs: Mapping[str, float] | None = None,
    kind: OutputKind = "auto",
) -> PredictionPool:
    """A pool from ``.npz`` files (a list, or a directory of them), one model per file.

    Models are named after the file stem. A model's cost comes from ``costs`` (by name), else from
    a ``costs.json`` (``{name: cost}``) in the files' directory, else from a scalar ``flops``/``cost``
    in the file. Every file must hold the same labels in the same order.
    """
    files = _npz_files(paths)
    file_costs = _read_costs_file(files[0].parent)
    outputs: dict[str, np.ndarray] = {}
    chosen_costs: dict[str, float] = {}
    reference: tuple[Path, np.ndarray] | None = None
    for path in files:
        logits, labels, cost = read_npz(path, kind)
        reference = _check_labels_agree(reference, path, labels)
        name = path.stem
        outputs[name] = logits
        chosen = (costs or {}).get(name, file_costs.get(name, cost))
        if chosen is None:
            raise UsageError(
                f"no cost for {name}: put a scalar 'flops' in {path.name}, a {COSTS_FILE} "
                f"({{\"{name}\": FLOPS}}) in {path.parent}, or pass costs (CLI: --costs FILE)"
            )
        chosen_costs[name] = chosen
    assert reference is not None
    return pool_from_arrays(outputs, reference[1], chosen_costs, kind="logits")


def _npz_files(paths: Sequence[str | Path] | str | Path) -> list[Path]:
    if isinstance(paths, (str, Path)):
        directory = Path(paths)
        if not directory.is_dir():
            raise DataError(f"{directory}: not a directory of .npz prediction files")
        files = sorted(directory.glob("*.npz"))
        if not files:
            raise DataError(f"{directory}: contains no .npz prediction files")
        return files
    files = [Path(p) for p in paths]
    if not files:
        raise UsageError("no prediction files given")
    for path in files:
        if not path.is_file():
            raise DataError(f"{path}: no such file")
    return files


def _read_costs_file(directory: Path) -> dict[str, float]:
    path = directory / COSTS_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, (int, float)) for v in data.values()):
        raise DataError(f"{path}: must map model names to numbers")
    return {str(k): float(v) for k, v in data.items()}


def _check_labels_agree(
    reference: tuple[Path, np.ndarray] | None, path: Path, labels: np.ndarray
) -> tuple[Path, np.ndarray]:
    if reference is None:
        return path, labels
    ref_path, ref_labels = reference
    if labels.shape != ref_labels.shape:
        raise DataError(f"{path.name} has {labels.size} labels but {ref_path.name} has {ref_labels.size}")
    mismatched = int(np.count_nonzero(labels != ref_labels))
    if mismatched:
        raise DataError(
            f"{path.name} and {ref_path.name} disagree on {mismatched} of {labels.size} labels; "
            "the files must hold the same examples in the same order"
        )
    return reference


# --- archspace studies -----------------------------------------------------------------------

HELDOUT_KEYS = ("val_logits", "val_labels")
TEST_KEYS = ("test_logits", "test_labels")


def pools_from_study(name: str, storage: str | Path, cost_key: str = "flops") -> tuple[PredictionPool, PredictionPool]:
    """(held-out, test) pools from a study's complete trials: the trainer's validation logits are
    the held-out split the selection chooses on, its test logits the split it reports on.

    Each complete trial with stored predictions is one member, named ``trial<number>``; its cost
    is ``trial.cost[cost_key]`` (the trainer records analytic ``flops``).
    """
    from archspace.study import Study

    study = Study.load(name, storage)
    trials = [t for t in study.trials(("complete",)) if t.predictions_path]
    if not trials:
        raise DataError(f"study {name!r} has no complete trials with stored predictions")
    heldout: dict[str, np.ndarray] = {}
    test: dict[str, np.ndarray] = {}
    costs: dict[str, float] = {}
    labels: dict[str, np.ndarray] = {}
    for trial in trials:
        member = f"trial{trial.number}"
        arrays = study.load_predictions(trial.number)
        missing = [k for k in (*HELDOUT_KEYS, *TEST_KEYS) if k not in arrays]
        if missing:
            raise DataError(f"{member} of study {name!r} lacks {', '.join(missing)} in its predictions")
        if cost_key not in trial.cost:
            raise DataError(f"{member} of study {name!r} has no {cost_key!r} cost; it has {sorted(trial.cost)}")
        heldout[member] = arrays["val_logits"].astype(np.float32)
        test[member] = arrays["test_logits"].astype(np.float32)
        costs[member] = float(trial.cost[cost_key])
        for key in ("val_labels", "test_labels"):
            _check_study_labels(labels, key, arrays[key], member)
    return (
        pool_from_arrays(heldout, labels["val_labels"], costs, kind="logits"),
        pool_from_arrays(test, labels["test_labels"], costs, kind="logits"),
    )


def _check_study_labels(seen: dict[str, np.ndarray], key: str, labels: np.ndarray, member: str) -> None:
    labels = _as_labels(labels, f"{member} {key}")
    if key not in seen:
        seen[key] = labels
        return
    if labels.shape != seen[key].shape or np.any(labels != seen[key]):
        raise DataError(f"{member}: {key} differ from the other trials'; were they trained on other splits?")
