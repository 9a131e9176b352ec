"""The settings that decide a trial's numbers, fixed per trial whatever executor runs it.

On CPU the result of a training run depends on more than its seed: the number of torch intra-op
threads changes how reductions (convolution backward, matrix products) are split and so the
rounding, and deterministic-algorithm mode switches kernels. A study evaluated inline (the
driver's torch thread count, often all cores) and on workers (one thread each) would otherwise
get different objectives for the same trial. Every executor therefore evaluates a trial inside
``NumericSettings.applied()`` and stores ``NumericSettings.record(seed)`` with it
(``trial.info["numerics"]``).

An evaluator chooses its settings with optional attributes ``threads`` (torch intra-op threads,
default ``DEFAULT_THREADS``) and ``deterministic`` (``torch.use_deterministic_algorithms``, default
off); they are part of its stored config, so a resumed study uses the same ones.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from archspace.errors import UsageError

DEFAULT_THREADS = 1  # fastest on shared machines too (see BENCHMARKS.md, LocalProcessExecutor)
MAX_THREADS = 1024


@dataclass(frozen=True)
class NumericSettings:
    """torch intra-op threads and deterministic-algorithm mode for one evaluation."""

    threads: int = DEFAULT_THREADS
    deterministic: bool = False

    def __post_init__(self) -> None:
        check_threads(self.threads, "threads")

    @contextlib.contextmanager
    def applied(self, needs_torch: bool = True) -> Iterator[None]:
        """Set the settings for the duration of one evaluation, then restore the previous ones.

        torch is imported when ``needs_torch`` (an evaluator that declared settings) or when it is
        already loaded; an evaluator that never touches torch costs nothing.
        """
        torch = _torch(needs_torch)
        if torch is None:
            yield
            return
        threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
        torch.set_num_threads(self.threads)
        if self.deterministic != deterministic:
            torch.use_deterministic_algorithms(self.deterministic, warn_only=True)
        try:
            yield
        finally:
            torch.set_num_threads(threads)
            if self.deterministic != deterministic:
                torch.use_deterministic_algorithms(deterministic)

    def record(self, seed: int) -> dict[str, Any]:
        """What is stored with the trial: the settings, its seed, and the torch version."""
        torch = sys.modules.get("torch")
        return {"threads": self.threads, "deterministic": self.deterministic, "seed": int(seed),
                "torch": None if torch is None else str(torch.__version__)}


def numeric_settings(evaluator: Any) -> NumericSettings:
    """The evaluator's declared settings (``threads``, ``deterministic``), else the defaults."""
    threads = getattr(evaluator, "threads", None)
    return NumericSettings(DEFAULT_THREADS if threads is None else threads,
                           bool(getattr(evaluator, "deterministic", False)))


def declares_settings(evaluator: Any) -> bool:
    return getattr(evaluator, "threads", None) is not None or bool(getattr(evaluator, "deterministic", False))


def check_threads(value: Any, option: str) -> int:
    """``value`` as a thread count in 1..MAX_THREADS, else a ``UsageError`` naming ``option``."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_THREADS:
        raise UsageError(f"{option} must be an integer in 1..{MAX_THREADS}, got {value!r}")
    return value


def _torch(needed: bool) -> Any:
    if "torch" in sys.modules:
        return sys.modules["torch"]
    if not needed:
        return None
    import torch

    return torch
