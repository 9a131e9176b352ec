"""Worked example: a search strategy (recipe (b) of CONTRIBUTING.md).

``SimulatedAnnealing`` walks a space with ``space.mutate`` and accepts a worse architecture with
the Metropolis probability exp(-(f_new - f_current) / T), where the temperature T = t0 * cooling^k
falls with the number k of annealing steps told so far. Early on it wanders across plateaus;
later it behaves like a hill-climber. It shows the parts every strategy needs:

- ``needs = ("mutate",)`` and ``self.require(space)`` in the constructor, so a space without
  ``mutate`` (e.g. ``regnetx``) is refused at once with a ``UsageError`` naming the capability;
- every constructor argument stored under its own name, so the default ``Strategy.config()``
  (read back from the constructor signature) records all of them with a study;
- all randomness from one ``numpy.random.Generator`` seeded in the constructor, and state that
  changes only in ``ask`` and ``tell``: the same seed and the same told results give the same
  proposals, which is how a ``Study`` rebuilds the strategy by replaying its log after a restart;
- ``tell`` accepts results in any order and of any proposal, so it also works when an executor
  asks several architectures before the first result arrives.

Run it: ``.venv/bin/python examples/custom_strategy.py`` (a few seconds on CPU).
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np

from archspace.arch import ArchSpec
from archspace.checks import check_strategy
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.search.base import Strategy, draw_unseen
from archspace.search.history import History
from archspace.search.registry import STRATEGIES, make_strategy
from archspace.spaces.base import Space, as_generator
from archspace.spaces.registry import get_space
from archspace.study import Study

STRATEGY_NAME = "example_sa"  # "example_" keeps it clear of every built-in name


@STRATEGIES.register(STRATEGY_NAME, description="simulated annealing over space.mutate (example)",
                     model_based=False, uses_torch=False)
class SimulatedAnnealing(Strategy):
    """Metropolis acceptance over ``space.mutate`` with a geometric cooling schedule.

    n_init: random samples before annealing starts (the best of them is the first current
        architecture). t0: initial temperature, in objective units (NB201: error percentage
        points). cooling: factor in (0, 1) applied to the temperature after each annealing step.
    distinct / max_retries: redraw a mutation (up to ``max_retries`` times) when it was already
        proposed, so a tabular benchmark does not spend its budget on repeats.
    """

    name = STRATEGY_NAME
    needs = ("mutate",)

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None, n_init: int = 5,
                 t0: float = 1.0, cooling: float = 0.9, distinct: bool = True, max_retries: int = 20) -> None:
        self.require(space)  # UsageError naming "mutate" before any work
        if isinstance(n_init, bool) or not isinstance(n_init, int) or n_init < 1:
            raise UsageError(f"n_init must be an integer >= 1, got {n_init!r}")
        if not (t0 > 0 and math.isfinite(t0)):
            raise UsageError(f"t0 must be a positive finite temperature, got {t0!r}")
        if not 0 < cooling < 1:
            raise UsageError(f"cooling must be in (0, 1), got {cooling!r}")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise UsageError(f"max_retries must be an integer >= 0, got {max_retries!r}")
        self.space = space
        self.rng = as_generator(seed)
        # Stored under the constructor's names: Strategy.config() reads them back.
        self.n_init = n_init
        self.t0 = float(t0)
        self.cooling = float(cooling)
        self.distinct = distinct
        self.max_retries = max_retries
        self.history = History()
        self.current: tuple[ArchSpec, float] | None = None
        self.steps = 0  # annealing steps told so far (sets the temperature)
        self._proposed: set[ArchSpec] = set()

    @property
    def temperature(self) -> float:
        return self.t0 * self.cooling**self.steps

    def ask(self) -> ArchSpec:
        """A random sample until ``n_init`` results are in, then a mutation of the current one."""
        if self.current is None or len(self.history) < self.n_init:
            arch = self._fresh(self.space.sample)
        else:
            parent = self.current[0]
            arch = self._fresh(lambda rng: self.space.mutate(parent, rng))
        self._proposed.add(arch)
        return arch

    def _fresh(self, draw) -> ArchSpec:  # noqa: ANN001 - draw(rng) -> ArchSpec
        return draw_unseen(draw, self.rng, self._proposed, self.max_retries if self.distinct else 0)

    def tell(self, arch: ArchSpec, result: Result) -> None:
        """Record the result; after warm-up, move to ``arch`` with the Metropolis probability."""
        value = self.history.add(arch, result)  # failed results count as +inf: never accepted
        self._proposed.add(arch)
        if self.current is None or len(self.history) <= self.n_init:
            if self.current is None or value < self.current[1]:
                self.current = (arch, value)
            return
        delta = value - self.current[1]
        # Downhill moves are always taken; an uphill move draws from the strategy's own generator,
        # so the same told results give the same decisions on every replay.
        if delta <= 0 or self.rng.random() < math.exp(-delta / self.temperature):
            self.current = (arch, value)
        self.steps += 1

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far (not necessarily the current one)."""
        return self.history.best_arch


def main() -> None:
    """Check the strategy's contract, then run a 20-trial study in two halves (a resume)."""
    space = get_space("nb201")
    report = check_strategy(lambda s, seed: make_strategy(STRATEGY_NAME, s, seed), space, steps=15)
    print(f"check_strategy passed: {report}")

    evaluator = NB201Benchmark(metric="cifar10_valid_200")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "study.db"
        study = Study.create("annealing", path, seed=0)
        study.optimize(make_strategy(STRATEGY_NAME, space, seed=0), evaluator, n_trials=10)
        # A later run (or a crash and a rerun) passes a *fresh* strategy with the same arguments;
        # the study replays its ask/tell log into it and continues the very same sequence.
        resumed = Study.load("annealing", path)
        summary = resumed.optimize(make_strategy(STRATEGY_NAME, space, seed=0), evaluator, n_trials=20)
        best = resumed.best_trial()
        print(f"{summary.finished} trials finished; stored config {resumed.stored_strategy()['config']}")
        print(f"best trial #{best.number}: objective {best.objective:.2f} "
              f"(cifar10 valid accuracy {best.metrics['accuracy']:.2f}%), cell {best.arch.to_string()}")
        study.storage.close()
        resumed.storage.close()


if __name__ == "__main__":
    main()
