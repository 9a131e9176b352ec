"""Hand derived architectures to a Study for stand-alone training (resumable, one trial each).

``train_derived(specs, storage, name, evaluator, seed)`` records the distinct derived specs as
trials of study ``name`` (created, or resumed when it exists) evaluated by ``evaluator`` (e.g.
``TrainingEvaluator("fashion-mnist", recipe, space="darts_s3", space_options={...})``); an
interrupted hand-off resumes where it stopped.

From the files a search writes (``archspace oneshot search --out FILE``, or ``run_search``'s
dict saved as JSON): ``load_results(paths)`` reads them (a folder: every one-shot result in it),
``plan_handoff(results, channels, cells, dataset)`` checks that they can share one study (one
cell space; one network size and dataset unless overridden) and names the registered space and
options that train the derived cells stand-alone: ``nb201`` (``channels``, ``cells_per_stage``)
for NB201 searches, ``darts`` (``channels``, ``layers``) for the DARTS and S3 spaces. By default
the stand-alone network has the search network's size. ``archspace oneshot train-derived`` is
these three calls.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec
from archspace.errors import UsageError

# search space -> (space that trains the derived cells, its size options, default cells of the search)
TRAINING_SPACES = {"nb201": ("nb201", "cells_per_stage", 5), "darts": ("darts", "layers", 8),
                   "darts_s3": ("darts", "layers", 8)}


def train_derived(specs: Sequence[ArchSpec], storage: str | os.PathLike[str], name: str, evaluator: Any,
                  seed: int = 0, progress: bool = False) -> Any:
    """Train each distinct spec once in study ``name``; returns the study."""
    from archspace.search.fixed import FixedList
    from archspace.study import Study

    distinct = list(dict.fromkeys(specs))
    if not distinct:
        raise UsageError("no derived architectures to train")
    study = Study.create(name, storage, seed=seed, load_if_exists=True)
    _check_same_training(study, evaluator)
    study.optimize(FixedList(distinct), evaluator, len(distinct), progress=progress)
    return study


def _check_same_training(study: Any, evaluator: Any) -> None:
    """Refuse to resume a hand-off study with other training settings (its stored trials would
    be reported as if trained with the new ones)."""
    from archspace.study.evaluator_spec import describe_evaluator

    if study.stored_strategy() is None:
        return
    old, new = describe_evaluator(study.evaluator()), describe_evaluator(evaluator)
    differ = _differences(old, new)
    if differ:
        raise UsageError(f"study {study.name!r} trained its cells with other settings ({', '.join(differ)} not as "
                         "stored); give another study name")


def _differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ, comparing only the keys both dicts record (a study stored
    by an older version, with fewer settings, still resumes)."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) & set(new))
        return [d for k in keys for d in _differences(old[k], new[k], f"{prefix}{k}.")]
    return [] if old == new else [prefix.rstrip(".") or "evaluator"]


@dataclass(frozen=True)
class DerivedCell:
    """The architecture one search selected, with where it came from."""

    source: str
    label: str
    seed: int
    spec: ArchSpec
    text: str


@dataclass(frozen=True)
class HandoffPlan:
    """What one stand-alone training study of derived cells needs."""

    space: str
    space_options: dict[str, Any]
    dataset: str
    data_dir: str | None
    val_size: int
    cells: list[DerivedCell] = field(default_factory=list)

    @property
    def specs(self) -> list[ArchSpec]:
        return [c.spec for c in self.cells]


def load_results(paths: Sequence[str | os.PathLike[str]]) -> list[tuple[str, dict[str, Any]]]:
    """(path, result) for each one-shot search result file; a folder contributes every ``*.json``
    in it that is one (others are skipped). ``UsageError`` naming the path otherwise."""
    if not paths:
        raise UsageError("give at least one search result file (archspace oneshot search --out FILE)")
    found: list[tuple[str, dict[str, Any]]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            inside = [(str(p), r) for p in sorted(path.glob("*.json")) if (r := _read(p, strict=False)) is not None]
            if not inside:
                raise UsageError(f"{path}: no one-shot search result (*.json from oneshot search --out) in this folder")
            found.extend(inside)
        elif path.is_file():
            found.append((str(path), _read(path, strict=True)))
        else:
            raise UsageError(f"{path}: no such file or folder")
    return found


def _read(path: Path, strict: bool) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        if not strict:
            return None
        raise UsageError(f"{path}: not a readable JSON file ({type(exc).__name__})") from None
    ok = (isinstance(data, dict) and isinstance(data.get("config"), dict) and "derived" in data
          and data["config"].get("space") in TRAINING_SPACES)
    if not ok:
        if not strict:
            return None
        raise UsageError(f"{path}: not a one-shot search result (no config.space / derived; "
                         "write one with archspace oneshot search --out FILE)")
    return data


def plan_handoff(results: Sequence[tuple[str, dict[str, Any]]], channels: int | None = None,
                 cells: int | None = None, dataset: str | None = None) -> HandoffPlan:
    """The study plan for ``results`` (see the module docstring); every check before any work."""
    from archspace.arch import arch_from_dict

    if not results:
        raise UsageError("no search results to hand off")
    for name, value in (("channels", channels), ("cells", cells)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
    keys = set()
    found: list[DerivedCell] = []
    for source, result in results:
        config = result["config"]
        derived = result.get("derived")
        if not isinstance(derived, dict) or not isinstance(derived.get("spec"), dict):
            raise UsageError(f"{source}: the search has no derived architecture yet (no epoch finished); "
                             "resume it first")
        space, size_key, default_cells = TRAINING_SPACES[config["space"]]
        size = (channels or int(config.get("channels") or 16), cells or int(config.get("cells") or default_cells))
        keys.add((space, size, dataset or config.get("dataset"), None if dataset else config.get("data_dir"),
                  int(config.get("val_size") or 1000)))
        try:
            spec = arch_from_dict(derived["spec"])
        except Exception as exc:  # noqa: BLE001 - any malformed spec is the file's fault
            raise UsageError(f"{source}: derived.spec is not a valid architecture: {exc}") from None
        if spec.kind != space:
            raise UsageError(f"{source}: derived.spec is a {spec.kind!r} architecture, not one of the {space} space")
        found.append(DerivedCell(source, str(result.get("label", config.get("method"))), int(config.get("seed", 0)),
                                 spec, str(derived.get("text") or spec.to_dict())))
    if len(keys) > 1:
        shown = sorted(f"{k[0]} C={k[1][0]} cells={k[1][1]} on {k[2]}" for k in keys)
        raise UsageError(f"the results need different stand-alone studies ({'; '.join(shown)}): hand off one "
                         "space / size / dataset at a time, or give --channels, --cells and --dataset")
    ((space, (width, depth), data_name, data_dir, val_size),) = keys
    size_key = TRAINING_SPACES[results[0][1]["config"]["space"]][1]
    return HandoffPlan(space, {"channels": width, size_key: depth}, str(data_name or "fashion-mnist"), data_dir,
                       val_size, found)


def default_study_name(plan: HandoffPlan) -> str:
    opts = plan.space_options
    depth = opts.get("cells_per_stage", opts.get("layers"))
    data = Path(plan.dataset).stem if plan.dataset.endswith(".npz") else plan.dataset
    return f"oneshot-derived-{plan.space}-C{opts['channels']}-{depth}-{data}"


__all__ = ["TRAINING_SPACES", "DerivedCell", "HandoffPlan", "default_study_name", "load_results", "plan_handoff",
           "train_derived"]
