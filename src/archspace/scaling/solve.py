"""Solve each (rule, multiplier) for the candidate whose cost ratio is closest to the multiplier.

``plan_scaling`` checks everything first (rules the family supports, multipliers below 1 where a
rule cannot shrink, an input resolution below the base's minimum, a cost a rule cannot change),
then costs every candidate of every rule analytically (flops / params / acts) and picks, per
target, the one with the smallest |log(achieved ratio / multiplier)|; ties go to the knob setting
nearest the base. For measured latency (``cost="latency_ms"``) a ``measure(arch) -> ms`` function
is called: candidates of a rule are ordered by analytic flops, and a bisection over that order
(latency grows with flops within one rule) finds the candidate nearest the target latency ratio
in O(log n) measurements per target, each cached by spec.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from archspace.arch import ArchSpec, arch_from_dict
from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture, UsageError
from archspace.scaling.rules import RuleOptions, candidates, check_resolution, check_supported
from archspace.scaling.variants import (
    Candidate,
    InputSpec,
    Variant,
    check_cost_kind,
    check_multipliers,
    parse_rules,
)

Measure = Callable[[ArchSpec], float]


@dataclass
class ScalingPlan:
    """The base, one variant per (rule, multiplier), and how they were solved."""

    base: Variant
    variants: list[Variant]
    rules: tuple[str, ...]
    multipliers: tuple[float, ...]
    cost_kind: str
    input_spec: InputSpec
    minimum_resolution: int
    candidates: dict[str, int]
    seconds: float
    measurements: int = 0
    notes: dict[str, Any] = field(default_factory=dict)

    def unique_archs(self) -> list[ArchSpec]:
        """The distinct specs to train: the base first, then variants in (rule, multiplier) order."""
        seen: dict[str, ArchSpec] = {}
        for variant in (self.base, *self.variants):
            seen.setdefault(variant.arch.to_json(), variant.arch)
        return list(seen.values())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScalingPlan:
        """The plan a ``to_dict`` document describes (a study stores it, so a resumed study trains the
        same variants even when measured latency would now pick others)."""
        def variant(v: dict[str, Any]) -> Variant:
            return Variant(v["rule"], float(v["multiplier"]), v["cost_kind"], arch_from_dict(v["arch"]),
                           dict(v["knobs"]), dict(v["cost"]), float(v["ratio"]), int(v.get("candidates", 0)),
                           dict(v.get("extra", {})))

        return cls(variant(data["base"]), [variant(v) for v in data["variants"]], tuple(data["rules"]),
                   tuple(float(m) for m in data["multipliers"]), data["cost_kind"], InputSpec(**data["input"]),
                   int(data["minimum_resolution"]), dict(data["candidates"]), float(data["seconds"]),
                   int(data.get("measurements", 0)), dict(data.get("notes", {})))

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "variants": [v.to_dict() for v in self.variants],
                "rules": list(self.rules), "multipliers": list(self.multipliers), "cost_kind": self.cost_kind,
                "input": vars(self.input_spec), "minimum_resolution": self.minimum_resolution,
                "candidates": dict(self.candidates), "seconds": self.seconds, "measurements": self.measurements,
                "notes": dict(self.notes)}


@dataclass
class _Costed:
    candidate: Candidate
    complexity: Complexity

    def value(self, kind: str) -> float:
        return float(getattr(self.complexity, "flops" if kind == "latency_ms" else kind))


def _cost_candidates(family: Any, found: Sequence[Candidate], input_spec: InputSpec) -> list[_Costed]:
    """Analytic cost of every candidate that is a valid network (others are dropped)."""
    same = [c for c in found if c.arch.kind == family.kind]
    try:  # the batched path: one call for every candidate of the base's own kind
        batch = family.complexity_many([c.arch for c in same], **input_spec.as_kwargs())
    except InvalidArchitecture:
        batch = None
    if batch is not None and len(same) == len(found):
        return [_Costed(c, cx) for c, cx in zip(same, batch, strict=True)]
    out = []
    for candidate in found:
        try:
            cx = family_of(family, candidate.arch).complexity(candidate.arch, **input_spec.as_kwargs())
        except InvalidArchitecture:
            continue
        out.append(_Costed(candidate, cx))
    return out


def family_of(family: Any, arch: ArchSpec) -> Any:
    """The base's family for its own kind, else the family of ``arch``'s kind (with its options)."""
    if arch.kind == family.kind:
        return family
    from archspace.families import family_for

    return family_for(arch, **family.options())


def plan_scaling(base: ArchSpec, rules: str | Sequence[str], multipliers: Sequence[float], input_spec: InputSpec,
                 cost: str = "flops", family_options: dict[str, Any] | None = None,
                 options: RuleOptions | None = None, measure: Measure | None = None) -> ScalingPlan:
    """Variants of ``base`` for every rule and multiplier (see the module docstring)."""
    from archspace.families import family_for

    started = time.perf_counter()
    rule_names = parse_rules(rules)
    targets = check_multipliers(multipliers)
    kind = check_cost_kind(cost, rule_names)
    if kind == "latency_ms" and measure is None:
        raise UsageError("scaling to a latency multiplier needs a measure(arch) -> ms function")
    options = options or RuleOptions()
    family = family_for(base, **(family_options or {}))
    family.validate(base)
    check_supported(base, rule_names)
    resized = sorted({"resolution", "compound"} & set(rule_names))
    if resized and len(family.input_shape(input_spec.resolution, input_spec.in_channels)) != 3:
        raise UsageError(f"rule(s) {', '.join(resized)} resize 2-D images; the {base.kind} family here takes "
                         f"inputs of shape {family.input_shape(input_spec.resolution, input_spec.in_channels)}")
    low = check_resolution(base, family, input_spec)
    base_cx = family.complexity(base, **input_spec.as_kwargs())
    costed = {rule: _cost_candidates(family, candidates(rule, base, input_spec, low, options), input_spec)
              for rule in rule_names}
    _check_reach(base, costed, targets, kind, base_cx)
    measured: dict[str, float] = {}

    def latency(arch: ArchSpec) -> float:
        key = arch.to_json()
        if key not in measured:
            measured[key] = float(measure(arch))  # type: ignore[misc]
        return measured[key]

    base_cost = _cost_dict(base_cx)
    if kind == "latency_ms":
        base_cost["latency_ms"] = latency(base)
    base_variant = Variant("base", 1.0, kind, base, {}, base_cost, 1.0, 1)
    variants = []
    for rule in rule_names:
        for target in targets:
            if kind == "latency_ms":
                variants.append(_solve_latency(rule, target, costed[rule], base_cost["latency_ms"], latency))
            else:
                variants.append(_solve_analytic(rule, target, kind, costed[rule], base_cost[kind]))
    return ScalingPlan(base_variant, variants, rule_names, targets, kind, input_spec, low,
                       {rule: len(c) for rule, c in costed.items()}, time.perf_counter() - started, len(measured))


def _cost_dict(cx: Complexity) -> dict[str, float]:
    return {"flops": float(cx.flops), "params": float(cx.params), "acts": float(cx.acts)}


def _check_reach(base: ArchSpec, costed: dict[str, list[_Costed]], targets: tuple[float, ...], kind: str,
                 base_cx: Complexity) -> None:
    """A UsageError for a multiplier below 1 that a rule cannot reach below the base's cost."""
    proxy = "flops" if kind == "latency_ms" else kind
    reference = float(getattr(base_cx, proxy))
    for rule, found in costed.items():
        lowest = min((c.value(kind) for c in found), default=reference)
        for target in targets:
            if target < 1 and lowest >= reference:
                raise UsageError(f"rule {rule} cannot shrink this {base.kind} model (multiplier {target:g} < 1): "
                                 f"none of its {len(found)} settings has less {proxy} than the base")


def _solve_analytic(rule: str, target: float, kind: str, found: list[_Costed], reference: float) -> Variant:
    ratios = np.array([c.value(kind) / reference for c in found])
    gaps = np.abs(np.log(ratios / target))
    best = int(np.argmin(gaps))  # first minimum: the candidate nearest the base knob wins ties
    chosen = found[best]
    return Variant(rule, target, kind, chosen.candidate.arch, chosen.candidate.knobs,
                   _cost_dict(chosen.complexity), float(ratios[best]), len(found))


def _solve_latency(rule: str, target: float, found: list[_Costed], reference: float,
                   latency: Callable[[ArchSpec], float]) -> Variant:
    order = sorted(range(len(found)), key=lambda i: (found[i].value("flops"), i))
    lo, hi = 0, len(order) - 1
    tried: dict[int, float] = {}
    while lo <= hi:
        mid = (lo + hi) // 2
        tried[mid] = latency(found[order[mid]].candidate.arch) / reference
        if tried[mid] < target:
            lo = mid + 1
        elif tried[mid] > target:
            hi = mid - 1
        else:
            break
    best = min(tried, key=lambda i: (abs(math.log(tried[i] / target)), i))
    chosen = found[order[best]]
    cost = _cost_dict(chosen.complexity)
    cost["latency_ms"] = tried[best] * reference
    return Variant(rule, target, "latency_ms", chosen.candidate.arch, chosen.candidate.knobs, cost,
                   float(tried[best]), len(found), {"latency_measurements": len(tried)})
