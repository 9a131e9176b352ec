"""Pareto fronts of error against a cost, and comparison of populations at equal cost.

A model is on the front when no other model is at most as costly and at most as wrong, with one
of the two strictly better. Comparing design spaces only makes sense at equal cost, so
``compare_at_equal_cost`` groups models into shared cost bins and reports each group per bin.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from archspace.analysis.edf import complexity_bin_edges
from archspace.analysis.table import require_columns
from archspace.errors import DataError, UsageError


def nondominated(cost: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Indices of the points no other point beats (cost <=, gain >=, one strictly), cheapest first.

    The kernel behind every front here (committees call it in their exhaustive search, so it
    takes finite 1-d arrays as they are); among exact duplicates only the first is kept.
    """
    order = np.lexsort((-gain, cost))
    running = np.maximum.accumulate(gain[order])
    previous = np.concatenate([[-np.inf], running[:-1]])
    return order[gain[order] > previous]


def pareto_front_indices(cost: np.ndarray, error: np.ndarray) -> np.ndarray:
    """Indices of the non-dominated models, ordered by increasing cost (and decreasing error).

    Models with a non-finite cost or error are left out; among exact duplicates only the first is kept.
    """
    cost = np.asarray(cost, dtype=float).ravel()
    error = np.asarray(error, dtype=float).ravel()
    if cost.shape != error.shape:
        raise UsageError(f"{cost.size} costs for {error.size} errors")
    valid = np.flatnonzero(np.isfinite(cost) & np.isfinite(error))
    return valid[nondominated(cost[valid], -error[valid])]


def pareto_front(table: pd.DataFrame, cost: str, error: str = "error") -> pd.DataFrame:
    """Rows of ``table`` on the error-vs-``cost`` front, cheapest first."""
    require_columns(table, [cost, error], f"a Pareto front of {error} vs {cost}")
    index = pareto_front_indices(table[cost].to_numpy(dtype=float), table[error].to_numpy(dtype=float))
    return table.iloc[index].reset_index(drop=True)


def compare_at_equal_cost(
    table: pd.DataFrame, cost: str, bins: int = 5, group: str = "group", log: bool = True
) -> pd.DataFrame:
    """One row per (cost bin, group): model count, min / median / mean error in that bin.

    Bins are shared by every group (log-spaced over the cost range by default) so that rows with
    the same bin compare groups at equal cost.
    """
    require_columns(table, [cost, "error"], f"comparing at equal {cost}")
    data = table[np.isfinite(table[cost].to_numpy(dtype=float))]
    if data.empty:
        raise DataError(f"no model has a finite {cost}")
    if log and (data[cost] <= 0).any():
        log = False
    edges = complexity_bin_edges([data[cost].to_numpy(dtype=float)], bins, log)
    index = np.clip(np.searchsorted(edges, data[cost].to_numpy(dtype=float), side="right") - 1, 0, bins - 1)
    labels = data[group].astype(str) if group in data.columns else pd.Series("all", index=data.index)
    frame = pd.DataFrame({"bin": index, "group": labels.to_numpy(), "error": data["error"].to_numpy(dtype=float)})
    stats = frame.groupby(["bin", "group"], sort=True)["error"].agg(["count", "min", "median", "mean"]).reset_index()
    stats.insert(1, f"{cost}_low", edges[stats["bin"].to_numpy()])
    stats.insert(2, f"{cost}_high", edges[stats["bin"].to_numpy() + 1])
    return stats.rename(columns={"count": "n", "min": "min_error", "median": "median_error", "mean": "mean_error"})
