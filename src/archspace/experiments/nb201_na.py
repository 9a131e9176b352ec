"""Neighborhood-aware search on NAS-Bench-201 as the thesis runs it (Table 3.5), on our signals.

The thesis compares NA-RS (T = 100 centers, n_nbr = 10 cells per neighborhood *including* the
center, edit distance 1, the median or mean of the neighborhood as the criterion) with random
search given the same number of evaluations, T x n_nbr, searching CIFAR-10 validation error at
epoch 90 of 200, and reports the test accuracy of the selected cell. Our table has no epoch-90
column, so the same protocol runs on the signals it has: ``valid_200`` (mean over seeds),
``sample`` (one seed per evaluation) and ``valid12`` (the 12-epoch fidelity).

The harness is general: for every inner strategy X it runs ``na-X`` (the wrapper of
``archspace.search.neighborhood``, ``n_nbr = n_nbr - 1`` neighbors besides the center) against X,
both with ``centers x n_nbr`` evaluations. The wrapper reuses a neighbor already evaluated, so it
completes a few more than ``centers`` neighborhoods in that budget; the number is reported.
Each (signal, criterion) pair is one resumable ``nb201_search`` comparison under ``out``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from archspace.bench.nb201 import NB201Table
from archspace.errors import UsageError
from archspace.experiments.nb201_search import (
    RUNS_FILE,
    BenchConfig,
    load_records,
    protocol_metric,
    run_comparisons,
    summarize,
    welch,
)
from archspace.search.neighborhood import check_criterion
from archspace.search.registry import NA_PREFIX, parse_strategy_names

NA_SUMMARY = "na_summary.json"
SIGNALS: dict[str, str] = {"valid_200": "mean", "sample": "sample", "valid12": "valid12"}  # signal -> protocol

# Thesis Table 3.5 (NA-RS vs RS on NAS-Bench-201, CIFAR-10 valid error at epoch 90): the thesis
# text is not under /work/shared, so its numbers could not be put here; see docs/nb201-search.
THESIS_TABLE_3_5: dict[str, Any] | None = None


@dataclass(frozen=True)
class NAConfig:
    inner: tuple[str, ...] = ("rs",)
    signals: tuple[str, ...] = tuple(SIGNALS)
    criteria: tuple[str, ...] = ("median", "mean")
    centers: int = 100
    n_nbr: int = 10
    distance: int = 1
    runs: int = 100
    seed: int = 0
    dataset: str = "cifar10"

    def checked(self) -> NAConfig:
        inner = tuple(parse_strategy_names(self.inner))
        if any(n.startswith(NA_PREFIX) for n in inner):
            raise UsageError(f"inner strategies are wrapped by the harness; give them without {NA_PREFIX!r}")
        for signal in self.signals:
            if signal not in SIGNALS:
                raise UsageError(f"unknown signal {signal!r}; known: {list(SIGNALS)}")
        for criterion in self.criteria:
            check_criterion(criterion)
        for name, value, low in (("centers", self.centers, 1), ("n_nbr", self.n_nbr, 1),
                                 ("distance", self.distance, 1), ("runs", self.runs, 1)):
            if not isinstance(value, int) or value < low:
                raise UsageError(f"{name} must be an integer >= {low}, got {value!r}")
        checked = NAConfig(inner, tuple(self.signals), tuple(self.criteria), self.centers, self.n_nbr,
                           self.distance, self.runs, self.seed, self.dataset)
        for signal in checked.signals:
            for criterion in checked.criteria:
                checked.bench(signal, criterion).checked()
        return checked

    @property
    def budget(self) -> int:
        return self.centers * self.n_nbr

    def bench(self, signal: str, criterion: str) -> BenchConfig:
        metric, seed_mode = protocol_metric(SIGNALS[signal], self.dataset)
        wrapped = [f"{NA_PREFIX}{n}" for n in self.inner]
        options = {w: {"n_nbr": self.n_nbr - 1, "distance": self.distance, "criterion": criterion} for w in wrapped}
        return BenchConfig(algorithms=(*wrapped, *self.inner), budget=self.budget, runs=self.runs,
                           search_metric=metric, seed=self.seed, seed_mode=seed_mode, options=options)


def run_na(config: NAConfig, workers: int = 1, out: Path | str | None = None, progress: bool = False,
           only_finished: bool = False) -> dict[str, Any]:
    """Every (signal, criterion) comparison; per inner strategy: na-X vs X, difference, Welch p.

    ``only_finished=True`` runs nothing and reports the runs already in ``out`` (comparisons with a
    side missing are left out)."""
    config = config.checked()
    if only_finished and out is None:
        raise UsageError("only_finished needs the harness's output folder")
    plan = [(signal, criterion, config.bench(signal, criterion),
             Path(out) / f"{signal}-{criterion}" if out is not None else None)
            for signal in config.signals for criterion in config.criteria]
    if not only_finished:  # every comparison's missing runs through one pool
        ran = run_comparisons([(bench, folder) for _, _, bench, folder in plan], workers=workers, progress=progress)
    rows = []
    for position, (signal, criterion, bench, folder) in enumerate(plan):
        if only_finished:
            keys = {a: bench.key(a) for a in bench.algorithms}
            records = [r for r in load_records(folder / RUNS_FILE) if keys.get(r.algorithm) == r.key]
            present = {r.algorithm for r in records}
            inner = [n for n in config.inner if n in present and f"{NA_PREFIX}{n}" in present]
            if not inner:
                continue
            bench = BenchConfig(**{**asdict(bench), "algorithms": (*(f"{NA_PREFIX}{n}" for n in inner), *inner),
                                   "options": {k: v for k, v in bench.options.items() if k.removeprefix(NA_PREFIX) in inner}})
            records = [r for r in records if r.algorithm in bench.algorithms]
        else:
            records = ran[position]
        summary = summarize(records, bench)
        headline = summary["headline_metric"]
        for inner in (n for n in config.inner if n in bench.algorithms):
            wrapped = f"{NA_PREFIX}{inner}"
            na = np.array([_final(r, headline) for r in records if r.algorithm == wrapped])
            plain = np.array([_final(r, headline) for r in records if r.algorithm == inner])
            rows.append({
                "signal": signal, "criterion": criterion, "inner": inner, "evaluations": config.budget,
                "na": summary["algorithms"][wrapped][headline], "plain": summary["algorithms"][inner][headline],
                "difference": float(na.mean() - plain.mean()) if len(na) and len(plain) else None,
                "p_value": welch(na, plain), "runs": [len(na), len(plain)],
            })
    result = {"config": asdict(config), "rows": rows, "thesis_table_3_5": THESIS_TABLE_3_5}
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / NA_SUMMARY).write_text(json.dumps(result, indent=2) + "\n")
    return result


def _final(record: Any, metric: str) -> float:
    return float(NB201Table.load().column(metric)[record.final])


__all__ = ["NA_SUMMARY", "SIGNALS", "THESIS_TABLE_3_5", "NAConfig", "run_na"]
