"""Ranking correlation between a cheap estimate (e.g. supernet accuracy) and ground truth.

All functions take two aligned 1-D arrays of accuracies, ``predicted`` and ``truth`` (higher is
better), one entry per architecture:

* ``correlations``: Kendall tau (tau-b, ties handled), Spearman rho and Pearson r (scipy.stats).
* ``top_n_correlations``: the same over the top-N architectures *by ground truth*, for N in
  ``TOP_NS`` (10, 25, 50, 150, 250, 500; sizes larger than the population are skipped) — how well
  the estimate orders the good architectures, the part a search cares about.
* ``random_sample_correlations``: over a seeded random sample of the population.
* ``mean_predicted_top_n`` and ``tau_a``: the sequence (N, mean predicted accuracy of the top-N by
  ground truth) and its Kendall tau. A perfect estimate makes the mean fall as N grows (worse
  architectures join), so tau_a = -1; tau_a near 0 or positive means the estimate does not favour
  the truly best architectures.
* ``op_usage``: how often each op appears in the top-N cells (by either ranking).
* ``aggregate_over_seeds``: mean and std of any of these numbers over supernet seeds.

Correlations over fewer than 3 items or over a constant array are NaN (undefined).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

from archspace.errors import UsageError

TOP_NS: tuple[int, ...] = (10, 25, 50, 150, 250, 500)
METRICS: tuple[str, ...] = ("kendall", "spearman", "pearson")


def _pair(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predicted, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if p.ndim != 1 or p.shape != t.shape:
        raise UsageError(f"predicted and truth must be 1-D arrays of equal length, got shapes {p.shape} and {t.shape}")
    if not (np.isfinite(p).all() and np.isfinite(t).all()):
        raise UsageError("predicted and truth must be finite (drop failed evaluations first)")
    return p, t


def correlations(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Kendall tau-b, Spearman rho and Pearson r (NaN when undefined)."""
    p, t = _pair(predicted, truth)
    if p.size < 3 or np.ptp(p) == 0 or np.ptp(t) == 0:
        return dict.fromkeys(METRICS, float("nan"))
    return {
        "kendall": float(stats.kendalltau(p, t).statistic),
        "spearman": float(stats.spearmanr(p, t).statistic),
        "pearson": float(stats.pearsonr(p, t).statistic),
    }


def top_order(truth: np.ndarray) -> np.ndarray:
    """Indices sorted by ground truth, best first (stable: ties keep their input order)."""
    return np.argsort(-np.asarray(truth, dtype=np.float64), kind="stable")


def usable_ns(count: int, ns: Sequence[int] = TOP_NS, include_all: bool = True) -> list[int]:
    """The N of ``ns`` that fit in ``count`` items (plus ``count`` itself when ``include_all``)."""
    if any(int(n) < 1 for n in ns):
        raise UsageError(f"top-N sizes must be >= 1, got {list(ns)}")
    out = sorted({int(n) for n in ns if int(n) <= count})
    if include_all and count >= 1 and (not out or out[-1] != count):
        out.append(count)
    return out


def top_n_correlations(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray,
                       ns: Sequence[int] = TOP_NS, include_all: bool = True) -> list[dict[str, float]]:
    """One row per N: {"n", "kendall", "spearman", "pearson"} over the top-N by ground truth."""
    p, t = _pair(predicted, truth)
    order = top_order(t)
    return [{"n": n, **correlations(p[order[:n]], t[order[:n]])} for n in usable_ns(p.size, ns, include_all)]


def random_sample_correlations(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray,
                               size: int, seed: int | np.random.Generator = 0) -> dict[str, float]:
    """Correlations over ``size`` items drawn without replacement (all items if fewer)."""
    p, t = _pair(predicted, truth)
    rng = np.random.default_rng(seed)
    pick = rng.choice(p.size, size=min(int(size), p.size), replace=False)
    return {"n": int(pick.size), **correlations(p[pick], t[pick])}


def mean_predicted_top_n(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray,
                         ns: Sequence[int]) -> np.ndarray:
    """Mean predicted accuracy of the top-N by ground truth, for each N (vectorized cumulative mean)."""
    p, t = _pair(predicted, truth)
    ns_array = np.asarray(list(ns), dtype=np.int64)
    if ns_array.size and (ns_array.min() < 1 or ns_array.max() > p.size):
        raise UsageError(f"top-N sizes must lie in [1, {p.size}], got {ns_array.tolist()}")
    cumulative = np.cumsum(p[top_order(t)])
    return cumulative[ns_array - 1] / ns_array


def tau_a(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray,
          ns: Sequence[int] | None = None) -> float:
    """Kendall tau of (N, mean predicted accuracy of the top-N); default N = 1..len (every prefix)."""
    p, _ = _pair(predicted, truth)
    ns = list(range(1, p.size + 1)) if ns is None else list(ns)
    means = mean_predicted_top_n(predicted, truth, ns)
    if len(ns) < 2 or np.ptp(means) == 0:
        return float("nan")
    return float(stats.kendalltau(np.asarray(ns, dtype=np.float64), means).statistic)


def op_usage(ops: np.ndarray, score: Sequence[float] | np.ndarray, ns: Sequence[int],
             num_ops: int = 5) -> np.ndarray:
    """(len(ns), num_ops) counts of each op over all edges of the top-N cells by ``score``.

    ops: (n_cells, n_edges) op indices (into ``archspace.spaces.nb201.OPS`` for NB201 cells).
    """
    ops = np.asarray(ops, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    if ops.ndim != 2 or ops.shape[0] != score.size:
        raise UsageError(f"ops must be (n_cells, n_edges) aligned with score; got {ops.shape} and {score.shape}")
    order = top_order(score)
    out = np.zeros((len(ns), num_ops), dtype=np.int64)
    for row, n in enumerate(ns):
        out[row] = np.bincount(ops[order[: int(n)]].ravel(), minlength=num_ops)[:num_ops]
    return out


def ranking_summary(predicted: Sequence[float] | np.ndarray, truth: Sequence[float] | np.ndarray,
                    ns: Sequence[int] = TOP_NS, sample_size: int = 100, sample_seed: int = 0) -> dict[str, Any]:
    """Everything for one (estimate, ground truth) pair: all-items, top-N, random sample, tau_a."""
    p, t = _pair(predicted, truth)
    top = top_n_correlations(p, t, ns)
    used = [row["n"] for row in top]
    return {
        "count": int(p.size),
        "all": correlations(p, t),
        "top_n": top,
        "random_sample": random_sample_correlations(p, t, sample_size, sample_seed),
        "mean_predicted_top_n": {"n": used, "mean": mean_predicted_top_n(p, t, used).tolist()},
        "tau_a": tau_a(p, t),
    }


def aggregate_over_seeds(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Mean and sample std (ddof=1; 0 for one value) over seeds, ignoring NaN; NaN if none."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "std": float("nan"), "count": 0}
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if v.size > 1 else 0.0, "count": int(v.size)}


def aggregate_summaries(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean/std over seeds of the numbers in several ``ranking_summary`` results (same population)."""
    if not summaries:
        raise UsageError("no summaries to aggregate")
    first = summaries[0]
    out: dict[str, Any] = {"seeds": len(summaries), "count": first["count"]}
    out["all"] = {m: aggregate_over_seeds([s["all"][m] for s in summaries]) for m in METRICS}
    out["random_sample"] = {m: aggregate_over_seeds([s["random_sample"][m] for s in summaries]) for m in METRICS}
    out["top_n"] = [
        {"n": row["n"], **{m: aggregate_over_seeds([s["top_n"][i][m] for s in summaries]) for m in METRICS}}
        for i, row in enumerate(first["top_n"])
    ]
    out["tau_a"] = aggregate_over_seeds([s["tau_a"] for s in summaries])
    means = np.array([s["mean_predicted_top_n"]["mean"] for s in summaries])
    out["mean_predicted_top_n"] = {"n": first["mean_predicted_top_n"]["n"], "mean": means.mean(axis=0).tolist(),
                                   "std": (means.std(axis=0, ddof=1) if len(summaries) > 1 else 0 * means[0]).tolist()}
    return out


__all__ = [
    "METRICS",
    "TOP_NS",
    "aggregate_over_seeds",
    "aggregate_summaries",
    "correlations",
    "mean_predicted_top_n",
    "op_usage",
    "random_sample_correlations",
    "ranking_summary",
    "tau_a",
    "top_n_correlations",
    "top_order",
    "usable_ns",
]
