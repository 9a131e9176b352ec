"""``NB201Benchmark``: the Evaluator that looks NAS-Bench-201 cells up in the packaged table.

It reports ``objective = 100 - accuracy`` on the search metric, every accuracy of the cell as
metrics, and the benchmark's own training time as simulated cost, the way the benchmark's
simulated training charges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.bench.nb201 import (
    ACCURACY_METRICS,
    SEED_MODES,
    MetricName,
    NB201Table,
    check_index,
    seed_hash,
    seed_hash_array,
)
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluation import Result
from archspace.evaluators.registry import EVALUATORS
from archspace.families.nb201.index import benchmark_index_of
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import OPS
from archspace.spaces.nb201 import NB201Space


@EVALUATORS.register("nb201", trains=False, kinds=("nb201",))
@dataclass
class NB201Benchmark:
    """Evaluator that looks NB201 cells up in the table.

    metric: the search metric, an accuracy column such as ``cifar10_valid_200`` or the 12-epoch
      fidelity ``cifar10_valid_12``; objective = 100 - its value.
    seed_mode: ``mean`` (the column, a mean over seeds) or ``sample`` (one seed's 200-epoch
      validation accuracy drawn with the trial's seed, as the benchmark's simulated training does;
      only for ``*_valid_200`` metrics, the ones with per-seed records; see ``accuracy``).
    space: the space whose op mask the evaluated cells must respect (default: all ops).
    Cost: ``params`` (from the table), ``simulated_seconds`` = the benchmark's recorded training
    time on the metric's dataset (x 12/200 for the 12-epoch schedule, whose time is not recorded).
    """

    metric: str = "cifar10_valid_200"
    seed_mode: str = "mean"
    space: NB201Space | None = None
    table: NB201Table | None = None

    def __post_init__(self) -> None:
        parsed = MetricName.parse(self.metric)
        if self.seed_mode not in SEED_MODES:
            raise UsageError(f"seed_mode must be one of {list(SEED_MODES)}, got {self.seed_mode!r}")
        if self.seed_mode == "sample" and (parsed.split, parsed.epochs) != ("valid", 200):
            raise UsageError(
                f"seed_mode='sample' needs a *_valid_200 metric (per-seed records exist only there), got {self.metric!r}"
            )
        self.metric = parsed.column
        self.dataset = parsed.dataset
        self.epochs = parsed.epochs
        self.table = self.table or NB201Table.load()
        self.space = self.space or NB201Space()
        self._search_column = self.table.columns[self.metric]
        self._seeds = self.table.valid_seeds[self.dataset]
        self._seed_counts = (~np.isnan(self._seeds)).sum(axis=1)
        self._seconds = self.table.columns[f"{self.dataset}_train_seconds_200"] * (self.epochs / 200)
        self._params = self.table.columns["params_mb"]
        self._report = {name: self.table.columns[name] for name in ACCURACY_METRICS}

    def accuracy(self, index: int, seed: int | np.random.Generator | None = None) -> tuple[float, int | None]:
        """(search-metric accuracy, seed slot drawn or None) for one benchmark index.

        In sample mode the slot is ``seed_slot(seed, index) % n_seeds``: a fixed hash of the trial
        seed and the cell, so a seed always replays the same simulated training run and different
        cells draw independently (a Generator may be passed instead, and is then consumed).
        """
        if self.seed_mode == "mean":
            return float(self._search_column[index]), None
        count = int(self._seed_counts[index])
        if isinstance(seed, np.random.Generator):
            slot = int(seed.integers(count))
        elif seed is None or isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise UsageError(f"seed_mode='sample' needs an integer seed per evaluation, got {seed!r}")
        else:
            slot = seed_hash(int(seed), index) % count
        return float(self._seeds[index, slot]), slot

    def sample_accuracies(self, indices: np.ndarray, seeds: np.ndarray) -> np.ndarray:
        """Vectorized ``accuracy`` over arrays of benchmark indices and integer trial seeds."""
        idx = np.asarray(indices, dtype=np.int64)
        if self.seed_mode == "mean":
            return self._search_column[idx]
        slots = seed_hash_array(np.asarray(seeds, dtype=np.int64), idx) % self._seed_counts[idx].astype(np.uint64)
        return self._seeds[idx, slots.astype(np.int64)]

    def evaluate(self, arch: ArchSpec, seed: int | None = None) -> Result:
        """Look ``arch`` up (validated against ``space``) and report it as a ``Result``."""
        if not isinstance(arch, NB201Cell):
            raise InvalidArchitecture("kind", f"NB201Benchmark evaluates nb201 cells, got {type(arch).__name__}")
        self.space.validate(arch)
        return self.evaluate_index(benchmark_index_of(arch), seed)

    def evaluate_index(self, index: int, seed: int | None = None) -> Result:
        """``evaluate`` by benchmark index (no op-mask check): the fast path for vectorized search."""
        i = check_index(index)
        acc, slot = self.accuracy(i, seed)
        metrics = {name: float(column[i]) for name, column in self._report.items()}
        metrics["accuracy"] = acc
        params_mb = float(self._params[i])
        seconds = float(self._seconds[i])
        info: dict[str, Any] = {"index": i, "metric": self.metric, "seed_mode": self.seed_mode}
        if slot is not None:
            info["seed_slot"] = slot
        return Result(
            objective=100.0 - acc,
            metrics=metrics,
            cost={"params": round(params_mb * 1e6), "params_mb": params_mb, "simulated_seconds": seconds},
            info=info,
        )

    def to_config(self) -> dict[str, Any]:
        """Plain-JSON description (a study stores it); the table is always the packaged one and
        space constraints are not recorded (only the op mask and network size)."""
        return {
            "metric": self.metric,
            "seed_mode": self.seed_mode,
            "ops": list(self.space.ops),
            "cells_per_stage": self.space.cells_per_stage,
            "channels": self.space.channels,
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> NB201Benchmark:
        space = NB201Space(
            ops=config.get("ops", OPS),
            cells_per_stage=config.get("cells_per_stage", 5),
            channels=config.get("channels", 16),
        )
        return cls(metric=config.get("metric", "cifar10_valid_200"), seed_mode=config.get("seed_mode", "mean"), space=space)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as the config (tiny; worker processes reload the cached table) when possible."""
        if self.table is NB201Table.load() and not self.space.constraints:
            return (type(self).from_config, (self.to_config(),))
        return object.__reduce__(self)

    def objectives(self) -> np.ndarray:
        """100 - the search metric for every cell (mean over seeds), in benchmark index order."""
        return 100.0 - self._search_column

    def best_index(self, report_metric: str | None = None) -> int:
        """Benchmark index of the best cell on ``report_metric`` (default: the search metric)."""
        return self.table.best(report_metric or self.metric)[0]
