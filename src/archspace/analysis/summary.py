"""Design-space summary table: dimension, size, models sampled, min / mean error per population.

Dimension and size come from each space's ``summary()`` (when the population is a design space);
sampled count and error statistics come from the trial table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from archspace.analysis.table import groups, require_columns

SUMMARY_COLUMNS = ("group", "dimension", "size", "models", "min_error", "median_error", "mean_error")


def design_space_summary(
    table: pd.DataFrame, space_summaries: Mapping[str, Mapping[str, Any]] | None = None
) -> pd.DataFrame:
    """One row per group of ``table``; ``space_summaries`` maps group -> ``Space.summary()``."""
    require_columns(table, ["error"], "a design-space summary")
    space_summaries = space_summaries or {}
    labels = table["group"].astype(str) if "group" in table.columns else pd.Series("all", index=table.index)
    rows = []
    for name in groups(table):
        errors = table.loc[labels == name, "error"].to_numpy(dtype=float)
        info = space_summaries.get(name, {})
        rows.append(
            {
                "group": name,
                "dimension": _maybe_number(info.get("dimension")),
                "size": _maybe_number(info.get("size")),
                "models": int(errors.size),
                "min_error": float(np.min(errors)),
                "median_error": float(np.median(errors)),
                "mean_error": float(np.mean(errors)),
            }
        )
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def format_size(size: float | None) -> str:
    """Space sizes span many orders of magnitude: print them as 10^x."""
    if size is None or not np.isfinite(size) or size <= 0:
        return "-"
    return f"10^{np.log10(size):.1f}" if size >= 1e5 else f"{size:,.0f}"


def _maybe_number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
