"""The NSS expanded space and its network spaces (*Network Space Search*, supplement).

A *network space* is a product of per-stage depth and width ranges inside the expanded space
(d_i in [1, 16], w_i in [1, 512], i = 1..3); the expanded space is the network space with the
full ranges. Architectures are sampled uniformly inside a space (every depth and width of each
range equally likely, stages independent), so every network of a space has probability 1 / size.

A network space is named by its id, one ``d<lo>-<hi>w<lo>-<hi>`` per stage joined by ``_``, e.g.
``d1-4w1-64_d5-8w65-128_d1-4w449-512``; ``get_space("nss:<id>")`` builds it (so ``archspace study
run --space nss:<id>`` trains a population from an Elite Space), ``get_space("nss")`` the expanded
space, and ``get_space("nss", max_depth=4, max_width=32)`` a reduced expanded space (what a CPU run
searches). The partition into network spaces and the FLOPs distributions are in ``archspace.nss``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.nss.family import NSSFamily
from archspace.families.nss.spec import NSSArch
from archspace.families.nss.table import EXPANDED
from archspace.spaces.base import Space, as_generator
from archspace.spaces.registry import SPACES

_STAGE_ID = re.compile(r"^d(\d+)-(\d+)w(\d+)-(\d+)$")


@dataclass(frozen=True)
class StageRange:
    """Inclusive depth and width ranges of one stage."""

    depth: tuple[int, int]
    width: tuple[int, int]

    @property
    def size(self) -> int:
        return (self.depth[1] - self.depth[0] + 1) * (self.width[1] - self.width[0] + 1)

    def to_id(self) -> str:
        return f"d{self.depth[0]}-{self.depth[1]}w{self.width[0]}-{self.width[1]}"


def check_ranges(ranges: tuple[StageRange, ...]) -> tuple[StageRange, ...]:
    """``ranges`` when each is a non-empty sub-range of the expanded space; ``UsageError`` otherwise."""
    if len(ranges) != EXPANDED.num_stages:
        raise UsageError(f"a network space has {EXPANDED.num_stages} stage ranges, got {len(ranges)}")
    for index, stage in enumerate(ranges):
        for what, (low, high), top in (("depth", stage.depth, EXPANDED.max_depth), ("width", stage.width, EXPANDED.max_width)):
            if low > high:
                raise UsageError(f"stage {index + 1} {what} range {low}-{high} is empty (low > high)")
            if low < 1 or high > top:
                raise UsageError(f"stage {index + 1} {what} range {low}-{high} lies outside the expanded space "
                                 f"(1-{top})")
    return ranges


def parse_space_id(text: str) -> tuple[StageRange, ...]:
    """Stage ranges from an id such as ``d1-4w1-64_d5-8w65-128_d1-4w449-512`` (checked)."""
    parts = str(text).strip().split("_")
    ranges = []
    for part in parts:
        match = _STAGE_ID.match(part)
        if match is None:
            raise UsageError(f"bad NSS space id {text!r}: each stage is d<lo>-<hi>w<lo>-<hi> "
                             "(e.g. d1-4w1-64_d5-8w65-128_d1-4w449-512)")
        d_lo, d_hi, w_lo, w_hi = (int(g) for g in match.groups())
        ranges.append(StageRange((d_lo, d_hi), (w_lo, w_hi)))
    return check_ranges(tuple(ranges))


def expanded_ranges(max_depth: int = EXPANDED.max_depth, max_width: int = EXPANDED.max_width) -> tuple[StageRange, ...]:
    """The (possibly reduced) expanded space: depths 1..max_depth, widths 1..max_width per stage."""
    for name, value in (("max_depth", max_depth), ("max_width", max_width)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{name} must be an integer, got {value!r}")
    return check_ranges(tuple(StageRange((1, max_depth), (1, max_width)) for _ in range(EXPANDED.num_stages)))


class NSSSpace(Space[NSSArch]):
    """A network space: uniform over the product of per-stage depth and width ranges."""

    arch_class = NSSArch
    capabilities = frozenset({"neighbors", "mutate", "encode"})

    def __init__(self, ranges: tuple[StageRange, ...], name: str = "nss", stem_width: int = EXPANDED.stem_width,
                 options: dict[str, Any] | None = None) -> None:
        super().__init__(())
        self.ranges = check_ranges(tuple(ranges))
        self.name = name
        self.family = NSSFamily(stem_width=stem_width)
        self._options = {**(options or {}), **({} if stem_width == EXPANDED.stem_width else {"stem_width": stem_width})}

    @property
    def space_id(self) -> str:
        return "_".join(r.to_id() for r in self.ranges)

    @property
    def size(self) -> int:
        return math.prod(r.size for r in self.ranges)

    def options(self) -> dict[str, Any]:
        return dict(self._options)

    def bounds(self) -> np.ndarray:
        """(3, 2, 2) int array: [stage, depth/width, low/high]."""
        return np.array([[r.depth, r.width] for r in self.ranges], dtype=np.int64)

    # --- sampling -------------------------------------------------------------------------------
    def sample(self, rng: int | np.random.Generator | None = None) -> NSSArch:
        return self.sample_batch(rng, 1)[0]

    def sample_arrays(self, rng: int | np.random.Generator | None, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(n, 3) depths and widths, each uniform over its stage's range."""
        gen = as_generator(rng)
        b = self.bounds()
        depths = gen.integers(b[:, 0, 0], b[:, 0, 1] + 1, size=(n, len(self.ranges)))
        widths = gen.integers(b[:, 1, 0], b[:, 1, 1] + 1, size=(n, len(self.ranges)))
        return depths, widths

    def sample_batch(self, rng: int | np.random.Generator | None, n: int) -> list[NSSArch]:
        depths, widths = self.sample_arrays(rng, n)
        return [NSSArch(tuple(d), tuple(w)) for d, w in zip(depths.tolist(), widths.tolist(), strict=True)]

    # --- contract ---------------------------------------------------------------------------------
    def validate(self, arch: NSSArch) -> NSSArch:
        self.family.validate(arch)
        for index, stage in enumerate(self.ranges):
            for name, value, (low, high) in (("depths", arch.depths[index], stage.depth),
                                             ("widths", arch.widths[index], stage.width)):
                if not low <= value <= high:
                    raise InvalidArchitecture(f"{name}[{index}]", f"must be in [{low}, {high}] in space "
                                                                  f"{self.space_id}, got {value}")
        return arch

    def contains(self, arch: NSSArch) -> bool:
        try:
            self.validate(arch)
        except InvalidArchitecture:
            return False
        return True

    def neighbors(self, arch: NSSArch, distance: int = 1) -> list[NSSArch]:
        """Networks one step away: one stage's depth +-1 or width +-1, inside the space."""
        if distance != 1:
            raise InvalidArchitecture("distance", "NSS neighbors are defined for distance 1 only")
        self.validate(arch)
        out = []
        for index in range(len(self.ranges)):
            for field, step in (("depths", -1), ("depths", 1), ("widths", -1), ("widths", 1)):
                values = list(getattr(arch, field))
                values[index] += step
                candidate = NSSArch(**{"depths": arch.depths, "widths": arch.widths, field: tuple(values)})
                if self.contains(candidate):
                    out.append(candidate)
        return out

    def mutate(self, arch: NSSArch, rng: int | np.random.Generator | None = None) -> NSSArch:
        """Redraw one stage's depth or width uniformly in its range (a different value when possible)."""
        gen = as_generator(rng)
        self.validate(arch)
        index, field = int(gen.integers(len(self.ranges))), ("depths", "widths")[int(gen.integers(2))]
        low, high = getattr(self.ranges[index], field[:-1])
        values = list(getattr(arch, field))
        if high > low:
            pick = int(gen.integers(low, high))  # high - low choices other than the current value
            values[index] = pick + (pick >= values[index])
        return NSSArch(**{"depths": arch.depths, "widths": arch.widths, field: tuple(values)})

    def encode(self, arch: NSSArch) -> np.ndarray:
        """[d1, d2, d3, log2 w1, log2 w2, log2 w3]."""
        return np.array([*arch.depths, *np.log2(arch.widths)], dtype=np.float64)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "space_id": self.space_id, "size": self.size, "dimension": 2 * len(self.ranges),
                "ranges": [{"depth": list(r.depth), "width": list(r.width)} for r in self.ranges],
                "stem_width": self.family.stem_width}


@SPACES.register("nss", description="NSS expanded space (d<=16, w<=512, 3 stages of basic residual blocks); "
                                    "nss:<space-id> is one of its network spaces", family="nss")
def nss_space(space_id: str | None = None, max_depth: int | None = None, max_width: int | None = None,
              stem_width: int = EXPANDED.stem_width) -> NSSSpace:
    """The expanded space (optionally reduced to max_depth / max_width), or the network space ``space_id``."""
    if space_id is not None:
        if max_depth is not None or max_width is not None:
            raise UsageError("a network space id fixes its ranges: give either space_id or max_depth/max_width")
        ranges = parse_space_id(space_id)
        return NSSSpace(ranges, f"nss:{'_'.join(r.to_id() for r in ranges)}", stem_width)
    options = {k: v for k, v in (("max_depth", max_depth), ("max_width", max_width)) if v is not None}
    ranges = expanded_ranges(max_depth or EXPANDED.max_depth, max_width or EXPANDED.max_width)
    return NSSSpace(ranges, "nss", stem_width, options)
