"""The numbers behind the dashboard's charts, computed with ``archspace.analysis``.

``study_charts`` turns one cached study into its error EDF (``analysis.edf.error_edf``), the
flops-normalized EDF (``normalized_edfs``: uniform mass over log-spaced flops bins), the Pareto
front of error against every cost the study records (``analysis.pareto.pareto_front_indices``),
the best-so-far history in finishing order, and a box summary of error per value (or per
quantile bin) of every spec statistic. ``compare_charts`` overlays several studies the way the
design study compares design spaces: EDFs on one grid, normalized EDFs on shared bins, fronts.
Everything is plain JSON (lists and floats).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.analysis.edf import error_edf, normalized_edfs
from archspace.analysis.pareto import pareto_front_indices
from archspace.dashboard.cache import CachedStudy
from archspace.errors import DataError

EDF_POINTS = 200
NORMALIZE_BY = "flops"
NORMALIZE_BINS = 10
MIN_RECOMPUTE_S = 1.0
MAX_BOXES = 12  # a numeric statistic with more distinct values is cut into this many quantile bins


def cost_names(names: Sequence[str]) -> list[str]:
    """The cost names in display order: flops / params / acts first, then the rest by name."""
    preferred = [c for c in ("flops", "params", "acts") if c in names]
    return preferred + sorted(c for c in names if c not in preferred)


@dataclass(frozen=True)
class Population:
    """The complete trials of one cached study as arrays (positions = rows of the cache)."""

    index: np.ndarray  # positions of the complete trials among the study's finished rows
    errors: np.ndarray
    numbers: np.ndarray
    costs: dict[str, np.ndarray]

    @classmethod
    def of(cls, study: CachedStudy) -> Population:
        objective = np.array(study.column("objective"), dtype=float)
        state = np.array(study.column("state"), dtype=object)
        index = np.flatnonzero((state == "complete") & np.isfinite(objective))
        costs = {}
        for name in cost_names(study.names("cost:")):
            values = _float_array(study.column(f"cost:{name}"))[index]
            if np.isfinite(values).any():
                costs[name] = values
        numbers = np.array(study.column("number"), dtype=np.int64)[index]
        return cls(index, objective[index], numbers, costs)


def study_charts(study: CachedStudy, now: float | None = None) -> dict[str, Any]:
    """The study page's derived charts, memoized on the cache.

    Recomputed when trials arrived since, but at most once per ``max(MIN_RECOMPUTE_S, 5 x the
    last computation's time)``: a large study that finishes trials every second would otherwise
    keep the (single-threaded) server busy redrawing its statistics. The answer's ``cursor`` says
    what it covers, so a page asks again when it holds newer trials.
    """
    now = time.monotonic() if now is None else now
    held = study.derived.get("charts")
    if held is not None and held["version"] == study.version:
        held["cursor"] = study.cursor  # log events without new finished trials change nothing drawn
        return held
    if held is not None and now - study.derived["charts_at"] < max(MIN_RECOMPUTE_S, 5 * study.derived["charts_s"]):
        return held
    start = time.perf_counter()
    charts = _compute(study)
    study.derived.update(charts=charts, charts_at=now, charts_s=time.perf_counter() - start)
    return charts


def _compute(study: CachedStudy) -> dict[str, Any]:
    population = Population.of(study)
    errors = population.errors
    charts: dict[str, Any] = {"version": study.version, "cursor": study.cursor, "complete": int(errors.size),
                              "costs": list(population.costs), "best_so_far": best_so_far(study)}
    if not errors.size:
        return charts
    charts["edf"] = error_edf(errors, points=EDF_POINTS).to_dict()
    if NORMALIZE_BY in population.costs:
        charts["edf_normalized"] = _normalized({"study": (errors, population.costs[NORMALIZE_BY])}).get("study")
    charts["fronts"] = {c: front(population.numbers, values, errors) for c, values in population.costs.items()}
    charts["statistics"] = statistic_boxes(study, population)
    return charts


def best_so_far(study: CachedStudy) -> dict[str, list[Any]]:
    """The best complete objective after each finished trial, at the points where it improves
    (x = how many trials had finished, 1-based) and at the last trial."""
    objective = np.array(study.column("objective"), dtype=float)
    state = np.array(study.column("state"), dtype=object)
    values = np.where((state == "complete") & np.isfinite(objective), objective, np.inf)
    if not values.size or not np.isfinite(values).any():
        return {"x": [], "y": [], "number": []}
    running = np.minimum.accumulate(values)
    improved = np.flatnonzero(np.isfinite(running) & (running < np.concatenate([[np.inf], running[:-1]])))
    numbers = np.array(study.column("number"), dtype=np.int64)
    x, y, number = (improved + 1).tolist(), running[improved].tolist(), numbers[improved].tolist()
    if x[-1] != values.size:
        x.append(int(values.size))
        y.append(y[-1])
        number.append(number[-1])
    return {"x": x, "y": y, "number": number}


def front(numbers: np.ndarray, cost: np.ndarray, errors: np.ndarray) -> dict[str, list[Any]]:
    """The error-vs-cost Pareto front, cheapest first, with the trial number of each point."""
    index = pareto_front_indices(cost, errors)
    return {"x": cost[index].tolist(), "y": errors[index].tolist(), "number": numbers[index].tolist()}


def statistic_boxes(study: CachedStudy, population: Population) -> list[dict[str, Any]]:
    """Per spec statistic that varies among the complete trials: error per value or quantile bin.

    A statistic equal to one already shown in every trial is left out and named in the shown
    one's ``same`` list (RegNet's per-stage b_i and g_i are its shared b and g), which also
    keeps the page's grid of plots short.
    """
    out: list[dict[str, Any]] = []
    shown: list[tuple[np.ndarray, dict[str, Any]]] = []  # numeric statistics drawn so far
    for name in sorted(study.names("stat:"), key=_statistic_order):
        column = study.column(f"stat:{name}")
        first = next((v for v in column if v is not None), None)
        numeric = None
        if isinstance(first, str):
            values = [column[i] for i in population.index]
            present = [i for i, v in enumerate(values) if isinstance(v, str)]
            summary = _categorical(name, [values[i] for i in present], population.errors[present]) \
                if len(present) >= 2 else None
        else:
            numeric = _float_array(column)[population.index]
            twin = next((s for array, s in shown if np.array_equal(array, numeric, equal_nan=True)), None)
            if twin is not None:
                twin["same"].append(name)
                continue
            keep = np.isfinite(numeric)
            summary = _numeric(name, numeric[keep], population.errors[keep]) if keep.sum() >= 2 else None
        if summary is None:
            continue
        summary["same"] = []
        out.append(summary)
        if numeric is not None:
            shown.append((numeric, summary))
    return out


def _float_array(column: list[Any]) -> np.ndarray:
    """A column as floats, None (and anything not a number) as NaN."""
    try:
        return np.array(column, dtype=float)
    except (TypeError, ValueError):
        return np.array([_finite(v) for v in column], dtype=float)


def _statistic_order(name: str) -> tuple[int, str, int, str]:
    """Whole-model statistics first (depth, b, g, w_last), then per-stage ones by letter and stage."""
    stem = name.rstrip("0123456789")
    if stem != name and stem.isalpha():
        return (1, stem, int(name[len(stem):]), name)
    return (0, "", 0, name)


def _categorical(name: str, values: list[str], errors: np.ndarray) -> dict[str, Any] | None:
    labels = sorted(set(values))
    if len(labels) < 2:
        return None
    array = np.array(values)
    boxes = [_box(label, errors[array == label]) for label in labels]
    return {"name": name, "kind": "category", "boxes": boxes}


def _numeric(name: str, values: np.ndarray, errors: np.ndarray) -> dict[str, Any] | None:
    distinct = np.unique(values)
    if distinct.size < 2:
        return None
    if distinct.size <= MAX_BOXES:
        boxes = [_box(_format(v), errors[values == v]) for v in distinct]
    else:
        edges = np.unique(np.quantile(values, np.linspace(0, 1, MAX_BOXES + 1)))
        index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
        boxes = [_box(f"{_format(edges[b])}-{_format(edges[b + 1])}", errors[index == b])
                 for b in range(len(edges) - 1) if np.any(index == b)]
    return {"name": name, "kind": "number", "boxes": boxes, "spearman": _spearman(values, errors)}


def _box(label: str, errors: np.ndarray) -> dict[str, Any]:
    q1, median, q3 = np.percentile(errors, [25, 50, 75])
    return {"label": label, "n": int(errors.size), "q1": float(q1), "median": float(median), "q3": float(q3),
            "min": float(errors.min()), "max": float(errors.max()), "mean": float(errors.mean())}


def _spearman(values: np.ndarray, errors: np.ndarray) -> float | None:
    """Spearman's rank correlation (ties get their average rank), None when either is constant."""
    if np.ptp(values) == 0 or np.ptp(errors) == 0:
        return None
    rho = np.corrcoef(_ranks(values), _ranks(errors))[0, 1]
    return float(rho) if np.isfinite(rho) else None


def _ranks(values: np.ndarray) -> np.ndarray:
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    upper = np.cumsum(counts)
    return (upper - (counts - 1) / 2.0)[inverse]


def _format(value: float) -> str:
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}"


def _finite(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan


def _normalized(populations: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """Flops-normalized EDFs of the populations whose flops are all finite and positive."""
    usable = {name: (e, c) for name, (e, c) in populations.items() if c.size and np.all(np.isfinite(c)) and np.all(c > 0)}
    if not usable:
        return {}
    try:
        edfs = normalized_edfs(usable, bins=NORMALIZE_BINS, points=EDF_POINTS)
    except DataError:
        return {}
    return {name: {**edf.to_dict(), "by": NORMALIZE_BY, "bins": NORMALIZE_BINS} for name, edf in edfs.items()}


def compare_charts(studies: Mapping[str, CachedStudy]) -> dict[str, Any]:
    """EDFs on one grid, flops-normalized EDFs on shared bins, and fronts, per study."""
    populations = {name: Population.of(study) for name, study in studies.items()}
    populations = {name: p for name, p in populations.items() if p.errors.size}
    out: dict[str, Any] = {"studies": list(studies), "with_trials": list(populations), "edf": {},
                           "edf_normalized": {}, "costs": [], "fronts": {}}
    if not populations:
        return out
    every = np.concatenate([p.errors for p in populations.values()])
    grid = np.linspace(every.min(), every.max() + 1e-9 * max(1.0, abs(every.max())), EDF_POINTS)
    out["edf"] = {name: error_edf(p.errors, grid).to_dict() for name, p in populations.items()}
    out["edf_normalized"] = _normalized({name: (p.errors, p.costs[NORMALIZE_BY]) for name, p in populations.items()
                                         if NORMALIZE_BY in p.costs})
    shared = set.intersection(*(set(p.costs) for p in populations.values()))
    out["costs"] = cost_names(sorted(shared))
    out["fronts"] = {cost: {name: front(p.numbers, p.costs[cost], p.errors) for name, p in populations.items()}
                     for cost in out["costs"]}
    return out
