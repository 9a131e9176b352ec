"""Per-block width profiles, model statistics of AnyNet specs, and the quantized-linear fit.

*Designing Network Design Spaces* looks at good models through their per-block widths w_j
(Fig. 6/8) and through how well a quantized linear function u_j = w_0 + w_a * j explains them:
e_fit, the mean log-ratio error of the fit (computed by ``archspace.spaces.regnet.fit_regnet``).
This module turns specs (objects or their JSON dicts) into the statistics the paper plots
against error: depth, per-stage d_i / w_i, b, g, w_4 and e_fit.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from archspace.analysis.bootstrap import BootstrapBest, bootstrap_best
from archspace.analysis.table import require_columns
from archspace.errors import DataError

STAGE_FIELDS = ("depth", "width", "stride", "bottleneck_ratio", "group_width")


def stages_of(arch: Any) -> list[dict[str, float]]:
    """Per-stage dicts of an AnyNet spec given as an object, a dict or its JSON text."""
    if isinstance(arch, str):
        try:
            arch = json.loads(arch)
        except json.JSONDecodeError as exc:
            raise DataError(f"architecture is not valid JSON: {exc}") from None
    raw = arch.get("stages") if isinstance(arch, Mapping) else getattr(arch, "stages", None)
    raw = raw or _nss_stages(arch)
    if not raw:
        raise DataError("width profiles need AnyNet-style specs with a non-empty 'stages' list")
    stages = []
    for stage in raw:
        if isinstance(stage, Mapping):
            stages.append({f: float(stage.get(f, _DEFAULTS[f])) for f in STAGE_FIELDS})
        else:
            stages.append({f: float(getattr(stage, f, _DEFAULTS[f])) for f in STAGE_FIELDS})
    return stages


_DEFAULTS = {"depth": 1, "width": 1, "stride": 2, "bottleneck_ratio": 1.0, "group_width": 1}


def _nss_stages(arch: Any) -> list[dict[str, float]] | None:
    """Stages of an NSS spec (``kind`` "nss": per-stage ``depths`` / ``widths`` lists): the same
    network as AnyNet stages of basic residual blocks, b = 1, g = 1 (``families.nss.cost.to_anynet``),
    so NSS populations get depth / w_i / w_last / e_fit next to AnyNet ones in a report."""
    get = arch.get if isinstance(arch, Mapping) else lambda key: getattr(arch, key, None)
    depths, widths = get("depths"), get("widths")
    if get("kind") != "nss" or not depths or not widths or len(depths) != len(widths):
        return None
    return [{"depth": d, "width": w, "stride": 1 if i == 0 else 2} for i, (d, w) in enumerate(zip(depths, widths, strict=True))]


def block_widths(arch: Any) -> np.ndarray:
    """Output width of every block, in order (stage widths repeated by stage depths)."""
    stages = stages_of(arch)
    return np.repeat([s["width"] for s in stages], [int(s["depth"]) for s in stages]).astype(float)


def fit_error(widths: np.ndarray) -> float:
    """e_fit of one per-block width profile, from the RegNet quantized-linear fit."""
    from archspace.spaces.regnet import fit_regnet

    fit = fit_regnet([int(w) for w in widths])
    value = fit["e_fit"] if isinstance(fit, Mapping) else fit.e_fit
    return float(value)


def model_statistics(arch: Any, with_fit: bool = True) -> dict[str, float]:
    """depth, d_i, w_i, b_i, g_i (i = 1..stages), shared-or-mean b and g, w_last, e_fit."""
    stages = stages_of(arch)
    stats: dict[str, float] = {"depth": float(sum(s["depth"] for s in stages)), "stages": float(len(stages))}
    for index, stage in enumerate(stages, start=1):
        stats[f"d{index}"] = stage["depth"]
        stats[f"w{index}"] = stage["width"]
        stats[f"b{index}"] = stage["bottleneck_ratio"]
        stats[f"g{index}"] = stage["group_width"]
    stats["b"] = float(np.mean([s["bottleneck_ratio"] for s in stages]))
    stats["g"] = float(np.mean([s["group_width"] for s in stages]))
    stats["w_last"] = stages[-1]["width"]
    if with_fit:
        stats["e_fit"] = fit_error(block_widths(arch))
    return stats


def add_model_statistics(table: pd.DataFrame, arch_column: str = "arch", with_fit: bool = True) -> pd.DataFrame:
    """``table`` with the ``model_statistics`` of each row's spec as new columns.

    Rows whose spec is not AnyNet-like are an error; existing columns are left untouched.
    """
    require_columns(table, [arch_column], "model statistics")
    rows = [model_statistics(a, with_fit=False) for a in table[arch_column]]
    stats = pd.DataFrame(rows, index=table.index)
    if with_fit and "e_fit" not in table.columns:
        # The fit is the expensive part: run it once per distinct width profile.
        profiles = [tuple(block_widths(a).astype(int)) for a in table[arch_column]]
        fits = {p: fit_error(np.asarray(p)) for p in dict.fromkeys(profiles)}
        stats["e_fit"] = [fits[p] for p in profiles]
    fresh = [c for c in stats.columns if c not in table.columns]
    return pd.concat([table, stats[fresh]], axis=1)


def width_profiles(archs: Iterable[Any]) -> list[np.ndarray]:
    """Per-block width profile of every spec."""
    return [block_widths(a) for a in archs]


def efit_vs_error(
    table: pd.DataFrame, reps: int = 10_000, fraction: float = 0.25, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, BootstrapBest]:
    """(e_fit, error, bootstrap of the best e_fit) for a table with an ``e_fit`` column."""
    require_columns(table, ["e_fit", "error"], "e_fit vs error")
    efit = table["e_fit"].to_numpy(dtype=float)
    error = table["error"].to_numpy(dtype=float)
    return efit, error, bootstrap_best(efit, error, reps, fraction, seed=seed)
