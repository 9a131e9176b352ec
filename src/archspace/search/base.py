"""The ask/tell strategy contract.

A strategy proposes architectures (``ask``) and learns from results (``tell``); it never trains
anything itself. Contract that makes studies resumable: a strategy constructed with the same
arguments and seed, fed the same sequence of ask/tell calls, proposes the same architectures.
A Study rebuilds a strategy after a restart by replaying its stored ask/tell event log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Container
from typing import Any, ClassVar

from archspace.arch import ArchSpec
from archspace.configs import init_config
from archspace.errors import UsageError
from archspace.evaluation import Result


def draw_unseen(draw: Callable[[Any], ArchSpec], rng: Any, seen: Container[ArchSpec], retries: int) -> ArchSpec:
    """``draw(rng)``, drawn again up to ``retries`` times while the result is in ``seen`` (the last
    draw is returned even if seen: a strategy that must propose never gets stuck)."""
    arch = draw(rng)
    for _ in range(retries):
        if arch not in seen:
            break
        arch = draw(rng)
    return arch


class SearchExhausted(Exception):
    """Raised by ``ask`` when the strategy has nothing more to propose."""


class Strategy(ABC):
    """Base class for ask/tell search strategies.

    ``needs``: the optional space capabilities the strategy calls (``mutate``, ``neighbors``,
    ``encode``); ``require(space)`` refuses a space that lacks one, at construction time.
    ``config()``: the constructor arguments (besides space and seed) read back from attributes of
    the same names, so a study stores all of them.
    """

    name: str = ""
    needs: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def require(cls, space: Any, needs: tuple[str, ...] | None = None) -> None:
        """UsageError naming the first capability of ``needs`` (default ``cls.needs``) ``space`` lacks."""
        have = getattr(space, "capabilities", frozenset())
        for capability in cls.needs if needs is None else needs:
            if capability not in have:
                label = cls.name or cls.__name__
                raise UsageError(f"search algorithm {label!r} needs a space with {capability}; space "
                                 f"{getattr(space, 'name', space)!r} has {sorted(have) or 'no optional capabilities'}")

    def config(self) -> dict[str, Any]:
        """JSON-ready constructor arguments (besides space and seed), stored by a Study."""
        return {"name": self.name, **init_config(self, exclude=("space", "seed"))}

    @abstractmethod
    def ask(self) -> ArchSpec:
        """Next architecture to evaluate (raise ``SearchExhausted`` when done)."""

    @abstractmethod
    def tell(self, arch: ArchSpec, result: Result) -> None:
        """Record the result of an architecture previously returned by ``ask``."""
