"""Hand derived architectures to a Study for stand-alone training (resumable, one trial each).

``train_derived(specs, storage, name, evaluator, seed)`` records the distinct derived specs as
trials of study ``name`` (created, or resumed when it exists) evaluated by ``evaluator`` (e.g.
``TrainingEvaluator("fashion-mnist", recipe, space="darts_s3", space_options={...})``); an
interrupted hand-off resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from archspace.arch import ArchSpec
from archspace.errors import UsageError


def train_derived(specs: Sequence[ArchSpec], storage: str | os.PathLike[str], name: str, evaluator: Any,
                  seed: int = 0, progress: bool = False) -> Any:
    """Train each distinct spec once in study ``name``; returns the study."""
    from archspace.search.fixed import FixedList
    from archspace.study import Study

    distinct = list(dict.fromkeys(specs))
    if not distinct:
        raise UsageError("no derived architectures to train")
    study = Study.create(name, storage, seed=seed, load_if_exists=True)
    study.optimize(FixedList(distinct), evaluator, len(distinct), progress=progress)
    return study


__all__ = ["train_derived"]
