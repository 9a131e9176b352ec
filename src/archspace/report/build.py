"""Turn a trial table into every number and figure of a design-space report.

``analyze_table`` computes the numbers (EDFs, normalized EDFs, KS distances, bootstrap trends,
random-search efficiency, Pareto fronts, equal-cost comparison, summary table) as one
JSON-ready dict, and the matching matplotlib figures. ``archspace.report.html`` writes them out.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from archspace.analysis.bootstrap import bootstrap_best
from archspace.analysis.edf import error_edf, ks_distance, normalized_edfs
from archspace.analysis.pareto import compare_at_equal_cost, pareto_front_indices
from archspace.analysis.random_search import random_search_curve
from archspace.analysis.significance import bootstrap_interval, pairwise_ks
from archspace.analysis.summary import design_space_summary
from archspace.analysis.table import COST_COLUMNS, HIGHER_IS_BETTER, groups, require_columns
from archspace.analysis.widths import add_model_statistics, block_widths
from archspace.errors import DataError, UsageError
from archspace.report import figures

# Statistics whose best value is bootstrapped when present, in report order.
DEFAULT_STATISTICS: tuple[str, ...] = ("depth", "w_last", "b", "g", "e_fit", "flops", "params", "acts")
LOG_SCALE_STATISTICS = frozenset({"flops", "params", "acts", "time", "w_last"})


@dataclass(frozen=True)
class ReportConfig:
    """Knobs of a report; defaults follow the paper (10^4 bootstrap draws of 25% of the pairs)."""

    title: str = "archspace design-space report"
    statistics: Sequence[str] | None = None
    reps: int = 10_000
    fraction: float = 0.25
    seed: int = 0
    edf_bins: int = 10
    cost_bins: int = 5
    top_profiles: int = 20
    max_curve_points: int = 400
    space_summaries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    notes: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.reps < 1:
            raise UsageError(f"reps must be >= 1, got {self.reps}")
        if not 0 < self.fraction <= 1:
            raise UsageError(f"fraction must be in (0, 1], got {self.fraction}")
        if self.edf_bins < 1 or self.cost_bins < 1:
            raise UsageError("edf_bins and cost_bins must be >= 1")


@dataclass
class ReportContent:
    """The numbers (``summary``, JSON-ready) and the figures (name -> (Figure, caption))."""

    summary: dict[str, Any]
    figures: dict[str, tuple[Figure, str]]
    tables: dict[str, pd.DataFrame]


def analyze_table(table: pd.DataFrame, config: ReportConfig | None = None) -> ReportContent:
    """Every analysis of the report over ``table`` (a normalized trial table)."""
    config = config or ReportConfig()
    require_columns(table, ["error"], "a report")
    table = _with_statistics(table, config.statistics is None or "e_fit" in config.statistics)
    names = groups(table)
    by_group = {name: table[table["group"].astype(str) == name] for name in names}
    summary: dict[str, Any] = {"title": config.title, "groups": names, "models": int(len(table)), "notes": dict(config.notes)}
    figs: dict[str, tuple[Figure, str]] = {}
    tables: dict[str, pd.DataFrame] = {}

    space_table = design_space_summary(table, config.space_summaries)
    summary["design_space_summary"] = _records(space_table)
    tables["design_space_summary"] = space_table

    edfs = {name: error_edf(g["error"].to_numpy(dtype=float), _shared_grid(table)) for name, g in by_group.items()}
    summary["edf"] = {name: edf.to_dict() for name, edf in edfs.items()}
    figs["edf"] = (figures.edf_figure(edfs), "Error EDFs: fraction of models with error below e.")
    summary["ks_distance"] = _ks_matrix(by_group)
    _add_significance(by_group, config, summary)
    _add_normalized_edfs(table, by_group, config, summary, figs)
    _add_bootstrap(by_group, config, summary, figs)
    _add_random_search(by_group, config, summary, figs)
    _add_width_profiles(by_group, config, figs)
    _add_pareto(table, config, summary, figs, tables)
    return ReportContent(summary, figs, tables)


# --- pieces ----------------------------------------------------------------------------------


def _with_statistics(table: pd.DataFrame, need_fit: bool) -> pd.DataFrame:
    """Add depth/w/b/g (and e_fit when needed) when rows carry AnyNet specs in an ``arch`` column."""
    if "arch" not in table.columns or not _has_stages(table["arch"].iloc[0]):
        return table
    return add_model_statistics(table, "arch", with_fit=need_fit and _regnet_fit_available())


def _has_stages(arch: Any) -> bool:
    try:
        block_widths(arch)
    except (DataError, TypeError, ValueError):
        return False
    return True


def _regnet_fit_available() -> bool:
    try:
        from archspace.spaces.regnet import fit_regnet  # noqa: F401
    except ImportError:
        return False
    return True


def _shared_grid(table: pd.DataFrame, points: int = 256) -> np.ndarray:
    errors = table["error"].to_numpy(dtype=float)
    return np.linspace(errors.min(), errors.max() + 1e-9 * max(1.0, abs(errors.max())), points)


def _ks_matrix(by_group: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, float]]:
    matrix: dict[str, dict[str, float]] = {a: {} for a in by_group}
    for a, b in itertools.combinations_with_replacement(by_group, 2):
        value = ks_distance(by_group[a]["error"].to_numpy(dtype=float), by_group[b]["error"].to_numpy(dtype=float))
        matrix[a][b] = matrix[b][a] = value
    return matrix


def _add_significance(by_group: Mapping[str, pd.DataFrame], config: ReportConfig, summary: dict[str, Any]) -> None:
    """Pairwise KS tests of the error EDFs and bootstrap intervals of each group's mean and median."""
    errors = {name: g["error"].to_numpy(dtype=float) for name, g in by_group.items()}
    summary["ks_test"] = [test.to_dict() for test in pairwise_ks(errors)]
    summary["error_intervals"] = {
        name: {stat: bootstrap_interval(values, stat, config.reps, seed=config.seed).to_dict()
               for stat in ("mean", "median")}
        for name, values in errors.items()
    }


def _add_normalized_edfs(table, by_group, config, summary, figs) -> None:
    if "flops" not in table.columns or len(by_group) < 2:
        return
    populations = {
        name: (g["error"].to_numpy(dtype=float), g["flops"].to_numpy(dtype=float))
        for name, g in by_group.items()
        if np.all(np.isfinite(g["flops"].to_numpy(dtype=float)))
    }
    if len(populations) < 2:
        return
    try:
        edfs = normalized_edfs(populations, bins=config.edf_bins, grid=_shared_grid(table),
                               log=bool(table["flops"].min() > 0))
    except DataError as exc:
        summary["normalized_edf_skipped"] = str(exc)
        return
    summary["normalized_edf"] = {name: edf.to_dict() for name, edf in edfs.items()}
    figs["normalized_edf"] = (
        figures.edf_figure(edfs, title="flops-normalized error EDF"),
        f"Error EDFs reweighted so every population has the same flops distribution ({config.edf_bins} log-spaced bins).",
    )


def _statistics(by_group: Mapping[str, pd.DataFrame], config: ReportConfig) -> list[str]:
    frame = next(iter(by_group.values()))
    if config.statistics is not None:
        missing = [s for s in config.statistics if s not in frame.columns]
        if missing:
            raise DataError(f"statistic(s) {', '.join(missing)} not in the table; columns are {', '.join(map(str, frame.columns))}")
        return list(config.statistics)
    return [s for s in DEFAULT_STATISTICS if s in frame.columns and pd.api.types.is_numeric_dtype(frame[s])]


def _add_bootstrap(by_group, config, summary, figs) -> None:
    summary["bootstrap"] = {}
    for statistic in _statistics(by_group, config):
        panels = {}
        for name, group in by_group.items():
            x = group[statistic].to_numpy(dtype=float)
            error = group["error"].to_numpy(dtype=float)
            if not np.isfinite(x).any():
                continue
            panels[name] = (x, error, bootstrap_best(x, error, config.reps, config.fraction, seed=config.seed))
        if not panels:
            continue
        summary["bootstrap"][statistic] = {name: best.to_dict() for name, (_, _, best) in panels.items()}
        figs[f"bootstrap_{statistic}"] = (
            figures.statistic_figure(panels, statistic, log_x=statistic in LOG_SCALE_STATISTICS and _positive(panels)),
            f"Error vs {statistic}. Band: 95% bootstrap interval of the best {statistic} "
            f"({config.reps} draws of {int(100 * config.fraction)}% of the models); line: its median.",
        )


def _positive(panels: Mapping[str, tuple[np.ndarray, np.ndarray, Any]]) -> bool:
    return all(np.nanmin(x) > 0 for x, _, _ in panels.values())


def _add_random_search(by_group, config, summary, figs) -> None:
    curves = {}
    for name, group in by_group.items():
        n = len(group)
        ks = np.arange(1, n + 1)
        if n > config.max_curve_points:
            ks = np.unique(np.geomspace(1, n, config.max_curve_points).round().astype(int))
        curves[name] = random_search_curve(group["error"].to_numpy(dtype=float), ks)
    summary["random_search"] = {name: curve.to_dict() for name, curve in curves.items()}
    figs["random_search"] = (
        figures.random_search_figure(curves),
        "Expected error of the best of k models drawn at random (exact, from order statistics); band: interquartile range.",
    )


def _add_width_profiles(by_group, config, figs) -> None:
    for name, group in by_group.items():
        if "arch" not in group.columns or not _has_stages(group["arch"].iloc[0]):
            return
        profiles = [block_widths(a) for a in group["arch"]]
        figs[f"widths_{name}"] = (
            figures.width_profile_figure(profiles, group["error"].to_numpy(dtype=float), name, config.top_profiles),
            f"Per-block widths of the best {min(config.top_profiles, len(group))} models of {name} (darker = lower error).",
        )


def _add_pareto(table, config, summary, figs, tables) -> None:
    summary["pareto"] = {}
    summary["equal_cost"] = {}
    label_column = "name" if "name" in table.columns else None
    for cost in COST_COLUMNS:
        if cost not in table.columns or not np.isfinite(table[cost].to_numpy(dtype=float)).any():
            continue
        costs = table[cost].to_numpy(dtype=float)
        errors = table["error"].to_numpy(dtype=float)
        front = pareto_front_indices(-costs if cost in HIGHER_IS_BETTER else costs, errors)
        summary["pareto"][cost] = [
            {"group": str(table["group"].iloc[i]), cost: float(costs[i]), "error": float(errors[i]),
             **({"name": str(table[label_column].iloc[i])} if label_column else {})}
            for i in front
        ]
        populations = {
            name: (g[cost].to_numpy(dtype=float), g["error"].to_numpy(dtype=float))
            for name, g in table.groupby("group", sort=False)
        }
        positive = bool(np.nanmin(costs) > 0)
        figs[f"pareto_{cost}"] = (
            figures.pareto_figure(populations, (costs[front], errors[front]), cost, log_x=positive),
            f"Error vs {cost}; black: models no other model beats on both ({front.size} on the front).",
        )
        equal = compare_at_equal_cost(table, cost, bins=config.cost_bins, log=positive)
        summary["equal_cost"][cost] = _records(equal)
        tables[f"equal_cost_{cost}"] = equal


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = frame.to_dict(orient="records")
    return [{k: _plain(v) for k, v in row.items()} for row in records]


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if not np.isfinite(value) else float(value)
    return value
