"""Flatness of the NAS-Bench-201 landscape (thesis, ch. 3, Tables 3.1 and 3.3 on this table).

A cell's neighborhood N(a) is the cell itself and the cells one edit away (24 with all 5 ops).

* ``flat_vs_sharp``: among the top cells by the search metric, the spread (std) of the search
  metric over each cell's neighborhood; the top cells split at the median spread into *flat* and
  *sharp* halves, and the test accuracy of each half on CIFAR-10, CIFAR-100 and ImageNet16-120
  shows whether flat cells transfer better (Table 3.1).
* ``criterion_correlations``: for random cells, Kendall tau between test accuracy and either
  f(a) (the search metric) or a neighborhood criterion g(f(N(a))) (mean, median, max/min,
  f(a) - lambda * std in accuracy terms) -- does judging a cell by its neighborhood rank cells
  better (Table 3.3)?

Everything is vectorized over the table: neighbors are computed arithmetically on the base-5
cell codes, not by building cell objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from archspace.bench.nb201 import DATASETS, MetricName, NB201Table
from archspace.errors import UsageError
from archspace.families.nb201.index import benchmark_ops_matrix
from archspace.families.nb201.table import NUM_EDGES, NUM_OPS
from archspace.search.neighborhood import CRITERIA, check_criterion, neighborhood_criterion
from archspace.spaces.base import as_generator

TEST_METRICS: tuple[str, ...] = tuple(f"{d}_test_200" for d in DATASETS)
_PLACE = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)


def neighbor_indices(indices: np.ndarray | None = None) -> np.ndarray:
    """(n, 24) benchmark indices of the distance-1 neighbors of each given index (all if None)."""
    ops = benchmark_ops_matrix()
    codes = ops @ _PLACE
    code_to_index = np.empty(codes.size, dtype=np.int64)
    code_to_index[codes] = np.arange(codes.size)
    idx = np.arange(codes.size) if indices is None else np.asarray(indices, dtype=np.int64)
    digits = ops[idx]  # (n, 6)
    shifts = np.arange(1, NUM_OPS)  # new op = (old + shift) % 5
    new_digits = (digits[:, :, None] + shifts[None, None, :]) % NUM_OPS  # (n, 6, 4)
    delta = (new_digits - digits[:, :, None]) * _PLACE[None, :, None]
    neighbor_codes = codes[idx][:, None, None] + delta
    return code_to_index[neighbor_codes.reshape(len(idx), -1)]


def neighborhood_values(column: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(n, 25) values of ``column``: the cell itself in column 0, then its 24 neighbors."""
    indices = np.asarray(indices, dtype=np.int64)
    return np.concatenate([column[indices][:, None], column[neighbor_indices(indices)]], axis=1)


@dataclass(frozen=True)
class FlatnessConfig:
    """Which table column is searched, how many top cells, which criterion settings."""

    metric: str = "cifar10_valid_200"
    top: int = 200
    n_random: int = 1000
    n_nbr: int | None = None  # None: all 24 neighbors; k: k sampled neighbors per cell
    lam: float = 1.0
    seed: int = 0

    def checked(self, table: NB201Table) -> FlatnessConfig:
        metric = MetricName.parse(self.metric).column  # unknown metric -> UsageError
        for name in ("top", "n_random"):
            value = getattr(self, name)
            if not 2 <= value <= len(table):
                raise UsageError(f"{name} must be in [2, {len(table)}], got {value}")
        if self.n_nbr is not None and not 1 <= self.n_nbr <= NUM_EDGES * (NUM_OPS - 1):
            raise UsageError(f"n_nbr must be in [1, {NUM_EDGES * (NUM_OPS - 1)}], got {self.n_nbr}")
        return FlatnessConfig(metric, self.top, self.n_random, self.n_nbr, self.lam, self.seed)


def flat_vs_sharp(table: NB201Table, config: FlatnessConfig) -> dict[str, Any]:
    """Neighborhood spread of the top cells and the transfer accuracy of flat vs sharp halves."""
    config = config.checked(table)
    search = table.column(config.metric)
    top = np.argsort(-search, kind="stable")[: config.top]
    spread = neighborhood_values(search, top).std(axis=1)
    flat = spread <= np.median(spread)
    groups = {}
    for name, mask in (("flat", flat), ("sharp", ~flat)):
        groups[name] = {
            "cells": int(mask.sum()),
            "neighborhood_std": float(spread[mask].mean()),
            config.metric: float(search[top][mask].mean()),
            **{m: float(table.column(m)[top][mask].mean()) for m in TEST_METRICS},
        }
    correlation = {
        m: float(stats.spearmanr(-spread, table.column(m)[top]).statistic) for m in TEST_METRICS
    }
    return {
        "metric": config.metric,
        "top": config.top,
        "neighborhood_std": {"mean": float(spread.mean()), "median": float(np.median(spread)),
                             "min": float(spread.min()), "max": float(spread.max())},
        "groups": groups,
        "spearman_flatness_vs_test": correlation,
    }


def criterion_correlations(table: NB201Table, config: FlatnessConfig) -> dict[str, Any]:
    """Kendall tau of f(a) and of each g(f(N(a))) against test accuracy, on random cells."""
    config = config.checked(table)
    rng = as_generator(config.seed)
    cells = rng.choice(len(table), size=config.n_random, replace=False)
    errors = 100.0 - neighborhood_values(table.column(config.metric), cells)
    if config.n_nbr is not None:  # keep f(a) plus n_nbr sampled neighbors per cell
        keys = rng.random((len(cells), errors.shape[1] - 1))
        keep = np.argsort(keys, axis=1)[:, : config.n_nbr] + 1
        errors = np.concatenate([errors[:, :1], np.take_along_axis(errors, keep, axis=1)], axis=1)
    scores = {"f(a)": errors[:, 0]}
    for criterion in CRITERIA:
        scores[_label(criterion, config.lam)] = neighborhood_criterion(errors, check_criterion(criterion), config.lam)
    taus = {
        label: {m: float(stats.kendalltau(-score, table.column(m)[cells]).statistic) for m in TEST_METRICS}
        for label, score in scores.items()
    }
    return {"metric": config.metric, "cells": config.n_random,
            "neighbors": config.n_nbr or NUM_EDGES * (NUM_OPS - 1), "lam": config.lam, "kendall_tau": taus}


def _label(criterion: str, lam: float) -> str:
    return {"mean": "mean g", "median": "median g", "max": "worst neighbor g",
            "std": f"f(a) + {lam:g} std"}[criterion]


def flatness_report(table: NB201Table | None = None, config: FlatnessConfig | None = None) -> dict[str, Any]:
    """Both analyses as one plain-data report."""
    table = table or NB201Table.load()
    config = config or FlatnessConfig()
    return {"flat_vs_sharp": flat_vs_sharp(table, config),
            "criterion_correlations": criterion_correlations(table, config)}
