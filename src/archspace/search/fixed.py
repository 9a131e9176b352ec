"""``FixedList``: propose a given list of architectures in order, each ``repeats`` times.

The strategy behind studies whose architectures are chosen up front: the cells a ranking study
scores with a supernet, the members of a committee pool (two seeds of one architecture are two
members). It learns nothing; the study gives every trial its own seed and resumes as usual.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspace.arch import ArchSpec, arch_from_dict
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import SearchExhausted, Strategy


class FixedList(Strategy):
    """Propose ``archs[0]`` x repeats, ``archs[1]`` x repeats, ... then stop (deterministic)."""

    name = "fixed"

    def __init__(self, archs: Sequence[ArchSpec], repeats: int = 1) -> None:
        if not archs:
            raise UsageError("a fixed list needs at least one architecture")
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise UsageError(f"repeats must be an integer >= 1, got {repeats!r}")
        self.archs = list(archs)
        self.repeats = repeats
        self._order = [arch for arch in self.archs for _ in range(repeats)]
        self._next = 0

    def ask(self) -> ArchSpec:
        if self._next >= len(self._order):
            raise SearchExhausted(f"all {len(self._order)} listed architectures have been proposed")
        arch = self._order[self._next]
        self._next += 1
        return arch

    def tell(self, arch: ArchSpec, result: Result) -> None:
        """Nothing to learn: the list is fixed."""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> FixedList:
        return cls([arch_from_dict(a) for a in config["archs"]], config.get("repeats", 1))

    @property
    def size(self) -> int:
        return len(self._order)
