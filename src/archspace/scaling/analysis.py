"""Error vs cost per scaling rule, and the best rule at each budget, from a trial table (pure pandas/numpy).

A scaling study's trials are joined to its plan by spec (``arch`` JSON): every (rule, multiplier)
variant gets the trials of its spec (one per seed; a spec chosen by several targets shares its
trials). ``rule_curves`` gives each variant's mean error over seeds with a bootstrap interval
over seeds and its achieved cost; ``best_rules`` names, at each budget, the rule with the lowest
mean error, with the probability (over the same bootstrap draws) that it is the best, and whether
the difference to the runner-up is within noise (their intervals overlap).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from archspace.errors import DataError


def _canonical(arch: Any) -> str:
    data = json.loads(arch) if isinstance(arch, str) else arch
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def variant_trials(table: pd.DataFrame, variants: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per (variant, trial): the variant's rule, multiplier, name and the trial's error and costs."""
    if "arch" not in table.columns or "error" not in table.columns:
        raise DataError("a scaling table needs 'arch' and 'error' columns")
    keys = table["arch"].map(_canonical)
    rows = []
    for variant in variants:
        key = _canonical(variant["arch"])
        matched = table[keys == key]
        for _, trial in matched.iterrows():
            rows.append({"variant": variant["name"], "rule": variant["rule"], "multiplier": variant["multiplier"],
                         "ratio": variant["ratio"], **{c: trial[c] for c in table.columns if c != "arch"}})
    if not rows:
        raise DataError("no stored trial matches a planned variant (was the study trained?)")
    return pd.DataFrame(rows)


def bootstrap_means(errors: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``reps`` means of ``errors`` resampled with replacement (one row of draws, vectorized)."""
    errors = np.asarray(errors, dtype=float)
    index = rng.integers(0, errors.size, size=(reps, errors.size))
    return errors[index].mean(axis=1)


def rule_curves(trials: pd.DataFrame, cost_columns: Sequence[str], reps: int = 2000, seed: int = 0,
                level: float = 0.95) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Per variant: seeds, mean / min / max error, bootstrap interval over seeds, mean achieved costs.

    Also returns the bootstrap draws of each variant's mean error (keyed by variant name), which
    ``best_rules`` reuses so that both see the same resamples.
    """
    rng = np.random.default_rng(seed)
    rows, draws = [], {}
    for name, group in trials.groupby("variant", sort=False):
        errors = group["error"].to_numpy(dtype=float)
        draws[name] = bootstrap_means(errors, reps, rng)
        low, high = np.quantile(draws[name], [(1 - level) / 2, 1 - (1 - level) / 2])
        first = group.iloc[0]
        row = {"variant": name, "rule": first["rule"], "multiplier": float(first["multiplier"]),
               "ratio": float(first["ratio"]), "seeds": int(errors.size), "mean_error": float(errors.mean()),
               "min_error": float(errors.min()), "max_error": float(errors.max()),
               "ci_low": float(low), "ci_high": float(high)}
        for column in cost_columns:
            if column in group.columns:
                values = pd.to_numeric(group[column], errors="coerce").to_numpy(dtype=float)
                row[column] = float(np.nanmedian(values)) if np.isfinite(values).any() else float("nan")
                if column == "latency_ms" and np.isfinite(values).sum() > 1:
                    row["latency_spread_ms"] = float(np.nanmax(values) - np.nanmin(values))
        rows.append(row)
    return pd.DataFrame(rows), draws


def front_variants(curves: pd.DataFrame, cost: str) -> list[str]:
    """Variants on the mean-error vs ``cost`` Pareto front, cheapest first."""
    from archspace.analysis.pareto import pareto_front_indices

    index = pareto_front_indices(curves[cost].to_numpy(dtype=float), curves["mean_error"].to_numpy(dtype=float))
    return [str(curves["variant"].iloc[i]) for i in index]


def best_rules(curves: pd.DataFrame, draws: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """At each multiplier: the rule with the lowest mean error, P(best), runner-up and the noise verdict."""
    out = []
    scaled = curves[curves["rule"] != "base"]
    for multiplier, group in scaled.groupby("multiplier", sort=True):
        group = group.sort_values("mean_error", kind="stable")
        names = group["variant"].tolist()
        matrix = np.stack([draws[n] for n in names])  # (rules, reps)
        wins = np.bincount(np.argmin(matrix, axis=0), minlength=len(names)) / matrix.shape[1]
        best = group.iloc[0]
        entry: dict[str, Any] = {"multiplier": float(multiplier), "best_rule": best["rule"],
                                 "seeds": int(group["seeds"].min()),
                                 "best_variant": best["variant"], "mean_error": best["mean_error"],
                                 "ci": [best["ci_low"], best["ci_high"]], "p_best": float(wins[0]),
                                 "ranking": [{"rule": r["rule"], "mean_error": r["mean_error"],
                                              "ci": [r["ci_low"], r["ci_high"]], "p_best": float(w),
                                              "ratio": r["ratio"]}
                                             for (_, r), w in zip(group.iterrows(), wins, strict=True)]}
        if len(group) > 1:
            second = group.iloc[1]
            entry["runner_up"] = second["rule"]
            entry["margin"] = float(second["mean_error"] - best["mean_error"])
            entry["within_noise"] = bool(second["ci_low"] <= best["ci_high"])
        else:
            entry["within_noise"] = False
        out.append(entry)
    return out


def verdict(best: Sequence[dict[str, Any]]) -> str:
    """One sentence per budget: which rule wins, or that the differences are within noise.

    With few seeds per variant the bootstrap interval is little more than the seeds' range, and the
    sentence says so.
    """
    parts = []
    for entry in best:
        head = f"at {entry['multiplier']:g}x: {entry['best_rule']} ({entry['mean_error']:.2f}% error"
        if entry.get("within_noise"):
            parts.append(f"{head}, P(best) {entry['p_best']:.2f}) but within noise of {entry['runner_up']} "
                         f"(margin {entry['margin']:.2f} points, intervals overlap)")
        elif "runner_up" in entry:
            parts.append(f"{head}, P(best) {entry['p_best']:.2f}) beats {entry['runner_up']} by "
                         f"{entry['margin']:.2f} points")
        else:
            parts.append(f"{head})")
    text = "; ".join(parts)
    seeds = min((entry.get("seeds", 0) for entry in best), default=0)
    if 0 < seeds < 5:
        text += (f" (only {seeds} seed(s) per variant: each interval is little more than the range of its "
                 "seeds, so a verdict of 'beats' is weak evidence)")
    return text
