"""Train a committee pool as a study: a fixed list of architectures, each with several seeds.

Committees need models that were trained separately (two seeds of one architecture are two
members). ``MemberList`` is the ask/tell strategy that hands out each architecture ``repeats``
times in a fixed order; the study gives every trial its own seed, persists the trainer's
validation/test logits, and resumes after an interruption like any other study. Read the trained
pool back with ``archspace.committee.inputs.pools_from_study``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Evaluator, Result
from archspace.search.base import SearchExhausted, Strategy


class MemberList(Strategy):
    """Propose ``archs[0]`` x repeats, ``archs[1]`` x repeats, ... then stop (deterministic)."""

    name = "member-list"

    def __init__(self, archs: Sequence[ArchSpec], repeats: int = 1, seed: int = 0) -> None:
        if not archs:
            raise UsageError("a committee pool needs at least one architecture")
        if repeats < 1:
            raise UsageError(f"repeats must be >= 1, got {repeats}")
        self.archs = list(archs)
        self.repeats = repeats
        self.seed = seed
        self._order = [arch for arch in self.archs for _ in range(repeats)]
        self._next = 0

    def ask(self) -> ArchSpec:
        if self._next >= len(self._order):
            raise SearchExhausted(f"all {len(self._order)} pool members have been proposed")
        arch = self._order[self._next]
        self._next += 1
        return arch

    def tell(self, arch: ArchSpec, result: Result) -> None:
        """Nothing to learn: the pool is fixed."""

    def config(self) -> dict[str, Any]:
        return {"archs": [a.to_dict() for a in self.archs], "repeats": self.repeats, "seed": self.seed}

    @property
    def size(self) -> int:
        return len(self._order)


def train_pool(
    name: str,
    storage: str | Path,
    archs: Sequence[ArchSpec],
    evaluator: Evaluator,
    repeats: int = 2,
    executor: Any = None,
    progress: bool = False,
) -> Any:
    """Create or resume study ``name`` training every arch ``repeats`` times; returns the study."""
    from archspace.study import Study

    study = Study.create(name, storage, seed=0, load_if_exists=True)
    strategy = MemberList(archs, repeats)
    study.optimize(strategy, evaluator, strategy.size, executor=executor, progress=progress)
    return study
