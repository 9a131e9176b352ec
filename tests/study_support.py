"""Evaluators and a driver script shared by the study tests.

The evaluators wrap the real NAS-Bench-201 table evaluator. ``PacedTable`` adds a fixed duration
per evaluation, standing in for the time a training job takes, so that kills and Ctrl-C land while
trials are running. ``TroubledTable`` raises for cells whose first edge is ``none`` and reports
``diverged`` for cells whose first edge is ``avg_pool_3x3``, and attaches per-example arrays.

Run as a script, it is the "same command" the kill/resume tests rerun:
    python tests/study_support.py DB NAME N STRATEGY EXECUTOR PACE_S
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass

import numpy as np

import archspace.study
from archspace.arch import ArchSpec
from archspace.errors import StorageError, UsageError
from archspace.evaluation import Result
from archspace.evaluators.nb201 import NB201Benchmark


@dataclass
class PacedTable:
    """NB201 table lookup that takes ``pace_s`` seconds, like a (very short) training job."""

    pace_s: float = 0.0
    metric: str = "cifar10_valid_200"

    def evaluate(self, arch: ArchSpec, seed: int) -> Result:
        if self.pace_s:
            time.sleep(self.pace_s)
        return _benchmark(self.metric).evaluate(arch, seed)


@functools.cache
def _benchmark(metric: str) -> NB201Benchmark:
    return NB201Benchmark(metric=metric, seed_mode="sample")


@dataclass
class TroubledTable:
    """NB201 lookups that fail or diverge for some cells, with per-example arrays attached."""

    def evaluate(self, arch: ArchSpec, seed: int) -> Result:
        first = arch.ops[0]  # type: ignore[attr-defined]
        if first == "none":
            raise ValueError(f"cell {arch.spec_hash()} has no input edge")
        result = _benchmark("cifar10_valid_200").evaluate(arch, seed)
        if first == "avg_pool_3x3":
            result.status = "diverged"
        rng = np.random.default_rng(seed)
        result.predictions = {"val_logits": rng.standard_normal((50, 10)).astype(np.float32),
                              "val_labels": rng.integers(0, 10, 50)}
        return result


def try_load(db, name: str = "s"):
    """The study, or None while the driver has not created its file or its row yet."""
    try:
        return archspace.study.Study.load(name, db)
    except UsageError:  # the file exists, the study row not yet
        return None
    except StorageError as exc:
        assert "no study database" in str(exc)  # never a partial or foreign file
        return None


def make_strategy(kind: str, n: int, seed: int = 0):
    from archspace.search.evolution import RegularizedEvolution
    from archspace.search.population import PopulationStrategy
    from archspace.spaces.nb201 import NB201Space

    if kind == "population":
        return PopulationStrategy(NB201Space(), n, seed=seed)
    return RegularizedEvolution(NB201Space(), seed=seed, population_size=10, sample_size=3)


def main(argv: list[str]) -> int:
    from archspace.study import InlineExecutor, LocalProcessExecutor, Study

    db, name, n, strategy, executor, pace = argv[0], argv[1], int(argv[2]), argv[3], argv[4], float(argv[5])
    study = Study.create(name, db, seed=0, load_if_exists=True)
    runner = LocalProcessExecutor(2) if executor == "local" else InlineExecutor()
    try:
        study.optimize(make_strategy(strategy, n), PacedTable(pace), n, executor=runner)
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
