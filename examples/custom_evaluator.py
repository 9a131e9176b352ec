"""Worked example: an evaluator (recipe (c) of CONTRIBUTING.md).

``ParamsPenalizedNB201`` looks a NAS-Bench-201 cell up in the packaged table (through the
built-in ``NB201Benchmark``) and adds a size penalty to the objective:

    objective = (100 - accuracy) + params_weight * params_in_millions

so a search minimizing it trades error percentage points against model size: with the default
``params_weight = 2.0`` one million parameters must buy at least two points of accuracy. The
plain error and the penalty are kept as metrics, so the trial table shows both sides.

It shows the parts every evaluator needs:

- ``evaluate(arch, seed) -> Result``, deterministic per seed (the table lookup uses the seed only
  in ``seed_mode="sample"``, through a fixed hash of seed and cell);
- a configuration derived from the constructor: the dataclass fields are plain JSON values kept
  under their own names, so a study stores them and rebuilds an equal evaluator from them
  (``archspace.study.evaluator_spec``; ``to_config``/``from_config`` would be the alternative);
- picklable and small: the loaded benchmark is a cache that ``__getstate__`` drops, so worker
  processes receive only the configuration and load the table themselves.

Run it: ``.venv/bin/python examples/custom_evaluator.py`` (a few seconds on CPU).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec
from archspace.checks import check_evaluator
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.evaluators.registry import EVALUATORS
from archspace.search.registry import make_strategy
from archspace.spaces.registry import get_space
from archspace.study import Study

EVALUATOR_NAME = "example_nb201_params_penalty"  # "example_" keeps it clear of every built-in name


@EVALUATORS.register(EVALUATOR_NAME, trains=False, kinds=("nb201",))
@dataclass
class ParamsPenalizedNB201:
    """NB201 table error plus ``params_weight`` x the cell's parameters in millions.

    metric / seed_mode: passed to ``NB201Benchmark`` (search metric and how seeds are used).
    params_weight: objective points per million parameters (>= 0; 0 gives the plain table error).
    """

    metric: str = "cifar10_valid_200"
    seed_mode: str = "mean"
    params_weight: float = 2.0
    _bench: NB201Benchmark | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.params_weight, bool) or not isinstance(self.params_weight, (int, float)) \
                or not math.isfinite(self.params_weight) or self.params_weight < 0:
            raise UsageError(f"params_weight must be a finite number >= 0, got {self.params_weight!r}")
        self.params_weight = float(self.params_weight)
        self._bench = NB201Benchmark(metric=self.metric, seed_mode=self.seed_mode)  # checks both now
        self.metric = self._bench.metric  # the canonical column name, so the stored config is stable

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the configuration only; the table is reloaded (once per process) on first use."""
        return {**self.__dict__, "_bench": None}

    def evaluate(self, arch: ArchSpec, seed: int = 0) -> Result:
        """The table's result for ``arch`` with the size penalty added to its objective."""
        if self._bench is None:
            self._bench = NB201Benchmark(metric=self.metric, seed_mode=self.seed_mode)
        base = self._bench.evaluate(arch, seed)
        penalty = self.params_weight * base.cost["params"] / 1e6
        metrics = {**base.metrics, "error": base.objective, "params_penalty": penalty}
        return Result(objective=base.objective + penalty, metrics=metrics, cost=dict(base.cost),
                      info={**base.info, "params_weight": self.params_weight})


def main() -> None:
    """Check the evaluator's contract, then run a 20-trial evolution study with it."""
    space = get_space("nb201")
    evaluator = ParamsPenalizedNB201(params_weight=2.0)
    report = check_evaluator(evaluator, space.sample_batch(0, 3), seed=0)
    print(f"check_evaluator passed: {report}")

    with tempfile.TemporaryDirectory() as folder:
        study = Study.create("small-and-accurate", Path(folder) / "study.db", seed=0)
        summary = study.optimize(make_strategy("re", space, seed=0), evaluator, n_trials=20)
        best = study.best_trial()
        print(f"{summary.finished} trials finished; stored evaluator rebuilt as {study.evaluator()!r}")
        print(f"best trial #{best.number}: objective {best.objective:.2f} = error "
              f"{best.metrics['error']:.2f} + penalty {best.metrics['params_penalty']:.2f} "
              f"({best.cost['params'] / 1e6:.2f}M params), cell {best.arch.to_string()}")
        study.storage.close()


if __name__ == "__main__":
    main()
