"""The ask/tell strategy contract.

A strategy proposes architectures (``ask``) and learns from results (``tell``); it never trains
anything itself. Contract that makes studies resumable: a strategy constructed with the same
arguments and seed, fed the same sequence of ask/tell calls, proposes the same architectures.
A Study rebuilds a strategy after a restart by replaying its stored ask/tell event log.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from archspace.arch import ArchSpec
from archspace.evaluation import Result


class SearchExhausted(Exception):
    """Raised by ``ask`` when the strategy has nothing more to propose."""


class Strategy(ABC):
    """Base class for ask/tell search strategies."""

    name: str = ""

    @abstractmethod
    def ask(self) -> ArchSpec:
        """Next architecture to evaluate (raise ``SearchExhausted`` when done)."""

    @abstractmethod
    def tell(self, arch: ArchSpec, result: Result) -> None:
        """Record the result of an architecture previously returned by ``ask``."""
