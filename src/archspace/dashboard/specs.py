"""The statistics of a stored spec that the dashboard plots against error.

AnyNet / RegNet specs (anything with a ``stages`` list) get the paper's statistics of
``archspace.analysis.widths.model_statistics``: depth, stages, d_i, w_i, b_i, g_i, shared b and g,
w_last (no e_fit: the quantized-linear fit is too slow to run on every refresh). NAS-Bench-201
cells get the op on each edge (a category, ``edge 1<-0`` ...) and the count of each op. Any other
kind falls back to its numeric top-level fields and the elements of numeric lists, so a new
family shows something without code here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archspace.analysis.widths import stages_of
from archspace.errors import DataError

Statistic = float | str


def spec_statistics(arch_json: str) -> dict[str, Statistic]:
    """name -> value (a number, or a string for a category) of one stored spec."""
    try:
        spec = json.loads(arch_json)
    except json.JSONDecodeError:
        return {}
    if not isinstance(spec, Mapping):
        return {}
    if spec.get("stages"):
        try:
            return stage_statistics(spec)
        except (DataError, TypeError, ValueError):
            return {}
    ops = spec.get("ops")
    if isinstance(ops, list) and ops and all(isinstance(op, str) for op in ops):
        return _cell_statistics(spec.get("kind"), ops)
    return _numeric_fields(spec)


def stage_statistics(spec: Mapping[str, Any]) -> dict[str, Statistic]:
    """``analysis.widths.model_statistics(spec, with_fit=False)``, with plain sums instead of
    numpy reductions over four numbers (a 10,000-trial study is read in a fraction of the time;
    a test keeps the two equal)."""
    stages = stages_of(spec)
    stats: dict[str, Statistic] = {"depth": float(sum(s["depth"] for s in stages)), "stages": float(len(stages))}
    for index, stage in enumerate(stages, start=1):
        stats[f"d{index}"] = stage["depth"]
        stats[f"w{index}"] = stage["width"]
        stats[f"b{index}"] = stage["bottleneck_ratio"]
        stats[f"g{index}"] = stage["group_width"]
    stats["b"] = sum(s["bottleneck_ratio"] for s in stages) / len(stages)
    stats["g"] = sum(s["group_width"] for s in stages) / len(stages)
    stats["w_last"] = stages[-1]["width"]
    return stats


def _cell_statistics(kind: Any, ops: list[str]) -> dict[str, Statistic]:
    labels, known = [f"op {i}" for i in range(len(ops))], sorted(set(ops))
    if kind == "nb201":
        from archspace.families.nb201.table import EDGES, OPS

        if len(EDGES) == len(ops):
            labels, known = [f"edge {target}<-{source}" for target, source in EDGES], list(OPS)
    stats: dict[str, Statistic] = {label: op for label, op in zip(labels, ops, strict=True)}
    for op in known:  # every op of the family, so a cell without one counts 0
        stats[f"count {op}"] = float(ops.count(op))
    return stats


def _numeric_fields(spec: Mapping[str, Any]) -> dict[str, Statistic]:
    stats: dict[str, Statistic] = {}
    for key, value in spec.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            stats[str(key)] = float(value)
        elif isinstance(value, list) and value and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                       for v in value):
            stats.update({f"{key}[{i}]": float(v) for i, v in enumerate(value)})
    return stats
