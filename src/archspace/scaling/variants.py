"""What a scaling study asks for and what it gets back: targets, candidates and solved variants.

A *rule* (depth, width, resolution, pre-head resolution, compound) turns a base model into a
family of candidates, one per setting of its discrete knob(s). A *target* is a cost kind and a
multiplier of the base model's cost; the solver picks, for each (rule, multiplier), the candidate
whose achieved cost ratio is closest to the multiplier in log space, and reports what it achieved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from archspace.arch import ArchSpec
from archspace.errors import UsageError

RULE_NAMES: tuple[str, ...] = ("depth", "width", "resolution", "prehead", "compound")
COST_KINDS: tuple[str, ...] = ("flops", "params", "latency_ms")
# Rules that never change a cost kind: asking them to scale it is an error before any work.
INVARIANT: dict[str, frozenset[str]] = {"params": frozenset({"resolution", "prehead"})}


@dataclass(frozen=True)
class InputSpec:
    """The input a model is costed and trained on: resolution (pixels), channels, classes."""

    resolution: int
    in_channels: int
    num_classes: int

    def as_kwargs(self, resolution: int | None = None) -> dict[str, int]:
        return {"resolution": resolution or self.resolution, "in_channels": self.in_channels,
                "num_classes": self.num_classes}


@dataclass(frozen=True)
class Candidate:
    """One setting of a rule's knob(s): the spec it gives and the knob values (JSON-ready)."""

    arch: ArchSpec
    knobs: dict[str, Any]


@dataclass(frozen=True)
class Variant:
    """The candidate chosen for (rule, multiplier): its spec, knobs, and achieved cost.

    cost: analytic flops / params / acts (and latency_ms when measured) of the variant;
    ratio: achieved cost / base cost in the target's cost kind; gap: |log(ratio / multiplier)|.
    """

    rule: str
    multiplier: float
    cost_kind: str
    arch: ArchSpec
    knobs: dict[str, Any]
    cost: dict[str, float]
    ratio: float
    candidates: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def gap(self) -> float:
        return abs(math.log(self.ratio / self.multiplier)) if self.ratio > 0 else math.inf

    @property
    def name(self) -> str:
        return "base" if self.rule == "base" else f"{self.rule}@{self.multiplier:g}x"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rule": self.rule, "multiplier": self.multiplier, "cost_kind": self.cost_kind,
                "arch": self.arch.to_dict(), "spec_hash": self.arch.spec_hash(), "knobs": dict(self.knobs),
                "cost": dict(self.cost), "ratio": self.ratio, "gap": self.gap, "candidates": self.candidates,
                **({"extra": dict(self.extra)} if self.extra else {})}


def parse_rules(rules: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Rule names from ``depth,width`` or a list; unknown or repeated names are a UsageError."""
    names = [r.strip().lower() for r in (rules.split(",") if isinstance(rules, str) else rules) if r.strip()]
    if not names:
        raise UsageError(f"name at least one scaling rule: {', '.join(RULE_NAMES)}")
    unknown = [r for r in names if r not in RULE_NAMES]
    if unknown:
        raise UsageError(f"unknown scaling rule(s) {', '.join(unknown)}; known: {', '.join(RULE_NAMES)}")
    if len(set(names)) != len(names):
        raise UsageError(f"scaling rules repeated in {','.join(names)}")
    return tuple(names)


def check_multipliers(multipliers: Any) -> tuple[float, ...]:
    """Positive, finite, distinct multipliers (sorted); anything else is a UsageError."""
    values = []
    for value in multipliers:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise UsageError(f"cost multipliers must be positive numbers, got {value!r}")
        values.append(float(value))
    if not values:
        raise UsageError("give at least one cost multiplier (e.g. 2,4,8)")
    if len(set(values)) != len(values):
        raise UsageError(f"cost multipliers repeated: {values}")
    return tuple(sorted(values))


def check_cost_kind(cost: str, rules: tuple[str, ...]) -> str:
    """``cost`` if known and every rule can change it (``flops``, ``params``, ``latency_ms``)."""
    aliases = {"latency": "latency_ms", "flops": "flops", "params": "params", "latency_ms": "latency_ms"}
    kind = aliases.get(str(cost).lower())
    if kind is None:
        raise UsageError(f"unknown cost {cost!r}; use flops, params or latency")
    frozen = sorted(set(rules) & INVARIANT.get(kind, frozenset()))
    if frozen:
        raise UsageError(f"rule(s) {', '.join(frozen)} do not change {kind}: they cannot hit a {kind} multiplier")
    return kind
