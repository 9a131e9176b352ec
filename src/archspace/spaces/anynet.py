"""The AnyNetX design spaces A..E of *Designing Network Design Spaces* as composable constraints.

AnyNetX_A samples every stage independently; B shares the bottleneck ratio, C also the group
width, D requires non-decreasing widths, E also non-decreasing depths. Each rule is a
``Constraint`` with a check and a projection (share the first stage's value; sort), so a
constrained space samples as fast as the free one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from archspace.errors import InvalidArchitecture
from archspace.families.anynet.family import AnyNetFamily
from archspace.families.anynet.spec import (
    AnyNetArch,
    StageSpec,
    adjust_compatibility,
)
from archspace.spaces.base import Constraint, Space, as_generator, first_violation
from archspace.spaces.registry import SPACES


@dataclass(frozen=True)
class AnyNetRanges:
    """Per-stage sampling ranges (the paper's: d <= 16, w <= 1024 step 8, b in {1,2,4}, g in {1..32})."""

    num_stages: int = 4
    max_depth: int = 16
    max_width: int = 1024
    width_quantum: int = 8
    bottleneck_ratios: tuple[float, ...] = (1.0, 2.0, 4.0)
    group_widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    stride: int = 2

    @property
    def width_choices(self) -> int:
        return self.max_width // self.width_quantum


def _shared(field: str) -> Constraint:
    def check(arch: AnyNetArch) -> bool:
        return len({getattr(s, field) for s in arch.stages}) == 1

    def project(draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        values = draws[field]
        return {**draws, field: np.repeat(values[:, :1], values.shape[1], axis=1)}

    return Constraint(f"shared_{field}", check, f"every stage has the same {field}", project)


def _non_decreasing(field: str) -> Constraint:
    def check(arch: AnyNetArch) -> bool:
        values = [getattr(s, field) for s in arch.stages]
        return all(a <= b for a, b in zip(values, values[1:]))

    def project(draws: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {**draws, field: np.sort(draws[field], axis=1)}

    return Constraint(f"increasing_{field}", check, f"{field}_(i+1) >= {field}_i", project)


SHARED_BOTTLENECK = _shared("bottleneck_ratio")
SHARED_GROUP_WIDTH = _shared("group_width")
INCREASING_WIDTHS = _non_decreasing("width")
INCREASING_DEPTHS = _non_decreasing("depth")

DESIGN_SPACE_CONSTRAINTS: dict[str, tuple[Constraint, ...]] = {
    "a": (),
    "b": (SHARED_BOTTLENECK,),
    "c": (SHARED_BOTTLENECK, SHARED_GROUP_WIDTH),
    "d": (SHARED_BOTTLENECK, SHARED_GROUP_WIDTH, INCREASING_WIDTHS),
    "e": (SHARED_BOTTLENECK, SHARED_GROUP_WIDTH, INCREASING_WIDTHS, INCREASING_DEPTHS),
}


def _discrete_log_uniform_array(gen: np.random.Generator, high: int, shape: tuple[int, ...]) -> np.ndarray:
    """Integers in [1, high] with P(k) proportional to log((k + 1/2) / (k - 1/2))."""
    draws = np.exp(gen.uniform(math.log(0.5), math.log(high + 0.5), size=shape))
    return np.clip(np.round(draws), 1, high).astype(int)


class AnyNetSpaceBase(Space[AnyNetArch]):
    """What every space of AnyNet specs shares: the family, and one sample = a batch of one.

    Subclasses implement ``sample_batch`` (vectorized).
    """

    arch_class = AnyNetArch
    family = AnyNetFamily()

    def sample(self, rng: int | np.random.Generator | None = None) -> AnyNetArch:
        return self.sample_batch(rng, 1)[0]


class AnyNetSpace(AnyNetSpaceBase):
    """AnyNet with one block type (X by default), the simple ImageNet stem, and constraints."""

    capabilities = frozenset({"neighbors", "mutate", "encode"})

    def __init__(self, name: str = "anynetx_a", block: str = "X", constraints: tuple[Constraint, ...] = (),
                 ranges: AnyNetRanges | None = None, stem: str = "simple_stem_in", stem_width: int = 32) -> None:
        super().__init__(constraints)
        self.name = name
        self.block = block
        self.ranges = ranges or AnyNetRanges()
        self.stem = stem
        self.stem_width = stem_width

    def options(self) -> dict[str, Any]:
        return {"stem": self.stem, "stem_width": self.stem_width}

    # --- sampling -------------------------------------------------------------------------------
    def sample_batch(self, rng: int | np.random.Generator | None, n: int) -> list[AnyNetArch]:
        """``n`` models: per-stage draws for the whole batch, projected and adjusted as arrays."""
        gen = as_generator(rng)
        out: list[AnyNetArch] = []
        while len(out) < n:
            draws = self._raw_draws(gen, n - len(out))
            for constraint in self.constraints:
                if constraint.project is not None:
                    draws = constraint.project(draws)
            if self.block in ("X", "Y"):
                draws["width"], draws["group_width"] = adjust_compatibility(
                    draws["width"], draws["bottleneck_ratio"], draws["group_width"])
            rows = zip(*(draws[f].tolist() for f in ("depth", "width", "bottleneck_ratio", "group_width")))
            archs = (self._assemble(*row) for row in rows)
            out.extend(a for a in archs if self.satisfies(a))
        return out

    def _raw_draws(self, gen: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Independent per-stage draws, each field an array of shape (n, stages)."""
        r = self.ranges
        shape = (n, r.num_stages)
        return {
            "depth": _discrete_log_uniform_array(gen, r.max_depth, shape),
            "width": _discrete_log_uniform_array(gen, r.width_choices, shape) * r.width_quantum,
            "bottleneck_ratio": np.asarray(r.bottleneck_ratios, float)[gen.integers(len(r.bottleneck_ratios), size=shape)],
            "group_width": np.asarray(r.group_widths)[gen.integers(len(r.group_widths), size=shape)],
        }

    def _assemble(self, depths: list, widths: list, ratios: list, groups: list) -> AnyNetArch:
        stride = self.ranges.stride
        stages = tuple(StageSpec(d, w, stride, b, g) for d, w, b, g in zip(depths, widths, ratios, groups))
        return AnyNetArch(stages=stages, block=self.block, stem=self.stem, stem_width=self.stem_width)

    # --- contract ---------------------------------------------------------------------------------
    def validate(self, arch: AnyNetArch) -> AnyNetArch:
        self.family.validate(arch)
        broken = first_violation(self.constraints, arch)
        if broken is not None:
            raise InvalidArchitecture("stages", f"{self.name} requires {broken.description} ({broken.name})")
        return arch

    def neighbors(self, arch: AnyNetArch, distance: int = 1) -> list[AnyNetArch]:
        """Models that differ in one stage's depth (+-1) or width (+-one quantum), still valid."""
        if distance != 1:
            raise InvalidArchitecture("distance", "AnyNet neighbors are defined for distance 1 only")
        out = []
        q = self.ranges.width_quantum
        for index, stage in enumerate(arch.stages):
            for change in ({"depth": stage.depth - 1}, {"depth": stage.depth + 1},
                           {"width": stage.width - q}, {"width": stage.width + q}):
                stages = list(arch.stages)
                stages[index] = replace(stage, **change)
                candidate = replace(arch, stages=tuple(stages))
                try:
                    out.append(self.validate(candidate))
                except InvalidArchitecture:
                    continue
        return out

    def mutate(self, arch: AnyNetArch, rng: int | np.random.Generator | None = None) -> AnyNetArch:
        gen = as_generator(rng)
        options = self.neighbors(arch)
        return options[int(gen.integers(len(options)))] if options else arch

    def encode(self, arch: AnyNetArch) -> np.ndarray:
        """Per-stage [log2 depth, log2 width, log2 b, log2 g] flattened."""
        rows = [[math.log2(s.depth), math.log2(s.width), math.log2(s.bottleneck_ratio), math.log2(s.group_width)]
                for s in arch.stages]
        return np.asarray(rows, dtype=np.float64).ravel()

    def summary(self) -> dict[str, Any]:
        """Dimension and size: exact count, and the paper's Table 1 approximation (n^4 / 4! per order rule)."""
        r = self.ranges
        names = {c.name for c in self.constraints}
        n_stages, n_b, n_g = r.num_stages, len(r.bottleneck_ratios), len(r.group_widths)
        depth_count, width_count = r.max_depth, r.width_choices
        per_stage = 4 - ("shared_bottleneck_ratio" in names) - ("shared_group_width" in names)
        dimension = per_stage * n_stages + ("shared_bottleneck_ratio" in names) + ("shared_group_width" in names)
        b_part = n_b if "shared_bottleneck_ratio" in names else n_b**n_stages
        g_part = n_g if "shared_group_width" in names else n_g**n_stages
        exact, approx = b_part * g_part, float(b_part * g_part)
        for count, rule in ((depth_count, "increasing_depth"), (width_count, "increasing_width")):
            if rule in names:
                exact *= math.comb(count + n_stages - 1, n_stages)
                approx *= count**n_stages / math.factorial(n_stages)
            else:
                exact *= count**n_stages
                approx *= count**n_stages
        return {"name": self.name, "block": self.block, "stem": self.stem, "stem_width": self.stem_width,
                "dimension": dimension, "size": exact,
                "size_paper_approx": approx, "constraints": [c.name for c in self.constraints]}


def anynet_design_space(letter: str, block: str = "X", **kwargs: Any) -> AnyNetSpace:
    """AnyNet{block}_{letter} for letter in a..e."""
    letter = letter.lower()
    if letter not in DESIGN_SPACE_CONSTRAINTS:
        raise InvalidArchitecture("space", f"AnyNet design spaces are a..e, got {letter!r}")
    return AnyNetSpace(f"anynet{block.lower()}_{letter}", block, DESIGN_SPACE_CONSTRAINTS[letter], **kwargs)


def _register_design_spaces() -> None:
    for letter in DESIGN_SPACE_CONSTRAINTS:
        def make(letter: str = letter, **options: Any) -> AnyNetSpace:
            return anynet_design_space(letter, **options)

        rules = ", ".join(c.description for c in DESIGN_SPACE_CONSTRAINTS[letter]) or "stages sampled independently"
        SPACES.register(f"anynetx_{letter}", description=f"AnyNetX_{letter.upper()}: {rules}", family="anynet")(make)


_register_design_spaces()
