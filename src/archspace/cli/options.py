"""Validation of every parsed option before a command does any work (issue: validate first).

``check_options(args)`` runs in ``run_handler`` before the handler: each integer option whose
destination is in ``INT_LIMITS`` must lie in its named range, every float option must be finite
(and in ``FLOAT_LIMITS`` when listed), every ``device`` must name a device this machine has. The
table is keyed by the option's destination, so one name means one limit in every command.

The path helpers check output files and folders and input files the same way everywhere;
``make_output_dir`` is the one way a missing output folder is created (with its parents, never
the file-system root), and it is called only after every check passed.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from pathlib import Path
from typing import Any

from archspace.errors import UsageError

MAX_SEED = 2**32 - 1            # numpy's SeedSequence accepts more; torch.manual_seed wants < 2**64
MAX_TRIALS = 1_000_000          # models / trials / samples / cells in one command
MAX_EPOCHS = 10_000
MAX_BATCH = 65_536
MAX_IMAGES = 100_000_000        # training / validation / evaluation images
MAX_WORKERS = 1_024
MAX_REPS = 1_000_000            # bootstrap / sampling repetitions
MAX_WIDTH = 65_536              # channels, stem width, classes, input resolution
NB201_CELLS = 15_625            # every NAS-Bench-201 cell

# destination -> (lowest, highest) for integer options; None values (option left out) are skipped.
INT_LIMITS: dict[str, tuple[int, int]] = {
    **{name: (0, MAX_SEED) for name in ("seed", "split_seed", "sample_seed", "gt_seed", "bn_seed")},
    **{name: (1, MAX_TRIALS) for name in ("n", "budget", "runs", "max_models", "random", "n_nbr")},
    **{name: (1, NB201_CELLS) for name in ("cells", "gt_cells")},
    **{name: (1, MAX_EPOCHS) for name in ("epochs", "gt_epochs")},
    **{name: (1, MAX_BATCH) for name in ("batch_size", "gt_batch_size", "bn_batch_size")},
    **{name: (1, MAX_IMAGES) for name in ("subset", "train_subset", "val_size", "eval_images")},
    **{name: (1, MAX_WORKERS) for name in ("workers", "threads")},
    **{name: (1, MAX_WIDTH) for name in ("stem_width", "channels", "classes", "in_channels", "resolution")},
    "cells_per_stage": (1, 64),
    "reps": (1, MAX_REPS),
    "bins": (1, 10_000),
    "cost_bins": (1, 1_000),
    "bn_batches": (0, 100_000),
    "top": (0, MAX_TRIALS),
    "kernels": (1, 1_000),
    "centers": (1, MAX_TRIALS),
    "distance": (1, 6),
}
# destination -> (lowest, highest, lowest allowed itself) for float options.
FLOAT_LIMITS: dict[str, tuple[float, float, bool]] = {
    "lr": (0.0, 1e3, False),
    "gt_lr": (0.0, 1e3, False),
    "fraction": (0.0, 1.0, False),
    "heldout_fraction": (0.0, 1.0, False),
    "label_smoothing": (0.0, 1.0, True),
    "warmup_epochs": (0.0, MAX_EPOCHS, True),
    "grad_clip": (0.0, 1e12, False),
}
_DEVICE = re.compile(r"^(cpu|auto|cuda(:\d{1,4})?)$")


def option_name(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_options(args: argparse.Namespace) -> None:
    """Every parsed option against the tables above; ``UsageError`` naming the first bad one.

    A command whose option means something else may widen a limit with
    ``parser.set_defaults(option_limits={"workers": (0, 1024)})``; a command names its path
    options with ``set_defaults(path_options={"out": "dir", "checkpoint": "file"})`` (``"file:.npz"``
    also checks the suffix), checked by ``check_output_dir`` / ``check_output_file``; a
    ``"new-file"`` (a result the command writes) must not exist unless ``--overwrite`` is given.
    """
    limits = {**INT_LIMITS, **(getattr(args, "option_limits", None) or {})}
    for dest, kind in (getattr(args, "path_options", None) or {}).items():
        value = getattr(args, dest, None)
        if value is None or value == "-":
            continue
        if kind == "dir":
            check_output_dir(value, option_name(dest))
            continue
        base, _, suffix = kind.partition(":")
        file = check_output_file(value, option_name(dest), suffix=suffix or None)
        if base == "new-file" and file.exists() and not getattr(args, "overwrite", False):
            raise UsageError(f"{option_name(dest)} {value} exists; pass --overwrite to replace it")
    for dest, value in sorted(vars(args).items()):
        if value is None or isinstance(value, bool) or callable(value) or dest in ("option_limits", "path_options"):
            continue
        if isinstance(value, int) and dest in limits:
            check_int(value, option_name(dest), *limits[dest])
        elif isinstance(value, float):
            check_float(value, option_name(dest), *FLOAT_LIMITS.get(dest, (-math.inf, math.inf, True)))
        elif dest == "device" and isinstance(value, str):
            check_device(value)


def check_int(value: int, option: str, low: int, high: int) -> int:
    if not low <= value <= high:
        raise UsageError(f"{option} must be an integer >= {low} and <= {high:,}, got {value}")
    return value


def check_float(value: float, option: str, low: float, high: float, low_included: bool = True) -> float:
    if not math.isfinite(value):
        raise UsageError(f"{option} must be a finite number, got {value}")
    if value < low or (value == low and not low_included) or value > high:
        bracket = "[" if low_included else "("
        raise UsageError(f"{option} must be in {bracket}{low:g}, {high:g}], got {value:g}")
    return value


def check_device(device: str, option: str = "--device") -> str:
    """``cpu``, ``auto``, ``cuda`` or ``cuda:N`` that this machine has (torch only for cuda)."""
    if not _DEVICE.match(device):
        raise UsageError(f"{option}: unknown device {device!r}; use cpu, cuda, cuda:N or auto")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise UsageError(f"{option} {device}: CUDA is not available on this machine (use --device cpu)")
        index = int(device.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UsageError(f"{option} {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def check_seeds(seeds: list[int] | tuple[int, ...], option: str = "--seeds") -> tuple[int, ...]:
    """Distinct seeds, each in 0..MAX_SEED."""
    for seed in seeds:
        check_int(seed, option, 0, MAX_SEED)
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"{option} repeats a seed: {','.join(map(str, seeds))}")
    return tuple(seeds)


# --- paths ---------------------------------------------------------------------------------------
def check_output_file(path: str | os.PathLike[str], option: str, suffix: str | None = None) -> Path:
    """A file to write: not a directory, in an existing writable directory (nothing is created)."""
    file = Path(path).expanduser()
    if suffix is not None and file.suffix != suffix:
        raise UsageError(f"{option} must name a {suffix} file, got {str(path)!r}")
    if file.is_dir():
        raise UsageError(f"{option} {path} is a directory; give a file name")
    parent = file.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"{option}: directory of {path} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{option}: directory {parent} is not writable")
    if file.exists() and not os.access(file, os.W_OK):
        raise UsageError(f"{option} {path} exists and is not writable")
    return file


def check_output_dir(path: str | os.PathLike[str], option: str) -> Path:
    """A folder to write into: an existing writable folder, or one ``make_output_dir`` can create."""
    folder = Path(path).expanduser()
    if str(path).strip() == "":
        raise UsageError(f"{option} is empty; give a folder")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {path} exists and is not a folder")
    resolved = folder.resolve()
    if resolved == Path(resolved.anchor):
        raise UsageError(f"{option} {path} is the root of the file system; give a folder below it")
    ancestor = resolved
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{option} {path}: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK):
        raise UsageError(f"{option} {path}: {ancestor} is not writable")
    return folder


def make_output_dir(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Create the (checked) output folder and its missing parents; returns it."""
    folder = check_output_dir(path, option)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_text_file(path: str | os.PathLike[str], option: str, allow_empty: bool = False) -> str:
    """The UTF-8 text of an existing file, else a ``UsageError`` naming ``option``."""
    file = Path(path).expanduser()
    if not file.exists():
        raise UsageError(f"{option}: no such file {path}")
    if not file.is_file():
        raise UsageError(f"{option} {path} is not a file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{option} {path} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{option} {path} cannot be read: {exc.strerror}") from None
    if not allow_empty and not text.strip():
        raise UsageError(f"{option} {path} is empty")
    return text


def read_json_file(path: str | os.PathLike[str], option: str) -> Any:
    """The strict JSON (no NaN/Infinity) in a UTF-8 file, else a ``UsageError``."""
    text = read_text_file(path, option)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{option} {path} is not valid JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}") from None


def _no_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)
