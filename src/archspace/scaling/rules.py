"""Scaling rules: each turns a base model into every candidate its discrete knob(s) allow.

- ``depth``: blocks per stage times a factor alpha (rounded, at least 1 per stage).
- ``width``: stage, stem and head widths times a factor beta, rounded to integers and made
  compatible with each stage's bottleneck ratio and group width (``adjust_compatibility``, the
  rule the paper's published models follow), so every candidate is a valid network.
- ``resolution``: the input resized to r x r for every r from the network's minimum (its total
  stride) up to ``max_resolution_factor`` x the dataset's resolution (a ``ResizedInput`` spec).
- ``prehead``: less downsampling before the head: every subset of the strided stages set to
  stride 1, and the stride-2 3x3 stem (``simple_stem_in``) replaced by its stride-1 twin
  (``res_stem_cifar``); the thesis's A1 (one stride removed) is one of these. Cannot shrink.
- ``compound``: EfficientNet's rule: depth x alpha^phi, width x beta^phi, resolution x gamma^phi
  for a grid of phi (defaults alpha=1.2, beta=1.1, gamma=1.15, chosen there so that
  alpha * beta^2 * gamma^2 ~ 2: flops roughly double per unit of phi).

Depth, width, pre-head and compound need the stage structure of AnyNet specs (AnyNet, RegNet and
ResNet models); ``resolution`` works for a spec of any family. ``candidates`` raises a
``UsageError`` naming the family for a rule it does not support.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.anynet.spec import AnyNetArch, adjust_compatibility
from archspace.families.anynet.table import uses_bottleneck
from archspace.families.resized.spec import ResizedInput
from archspace.scaling.variants import RULE_NAMES, Candidate, InputSpec

# Which rules each spec kind supports (kinds not listed: resolution only).
SUPPORTED: dict[str, tuple[str, ...]] = {"anynet": RULE_NAMES}
GENERIC_RULES: tuple[str, ...] = ("resolution",)
# Stems whose stride can be removed without changing the kernel: stride-2 stem -> stride-1 twin.
STRIDE_FREE_STEM: dict[str, str] = {"simple_stem_in": "res_stem_cifar"}


@dataclass(frozen=True)
class RuleOptions:
    """Knob ranges: factor grids span [1/max_factor, max_factor] in ``grid`` log-spaced steps.

    Every integer resolution in range is a candidate while there are at most ``max_resolutions``
    of them; beyond that, ``max_resolutions`` log-spaced ones (steps under 1% at large sizes).

    compound_exponents: EfficientNet's (alpha, beta, gamma). max_resolution_factor: the largest
    input resolution tried, relative to the dataset's. scale_stem: the width rule scales the stem
    (and head) widths with the stages.
    """

    max_factor: float = 8.0
    grid: int = 481
    max_resolutions: int = 256
    max_resolution_factor: float = 4.0
    compound_exponents: tuple[float, float, float] = (1.2, 1.1, 1.15)
    compound_grid: int = 161
    scale_stem: bool = True

    def __post_init__(self) -> None:
        if not (self.max_factor > 1 and self.grid >= 3 and self.compound_grid >= 3 and self.max_resolutions >= 2):
            raise UsageError("max_factor must be > 1, grid sizes >= 3 and max_resolutions >= 2")
        if not self.max_resolution_factor >= 1:
            raise UsageError(f"max_resolution_factor must be >= 1, got {self.max_resolution_factor}")
        if len(self.compound_exponents) != 3 or min(self.compound_exponents) < 1 or \
                math.prod((self.compound_exponents[0], self.compound_exponents[1] ** 2,
                           self.compound_exponents[2] ** 2)) <= 1:
            raise UsageError(f"compound exponents (alpha, beta, gamma) must be >= 1 with alpha*beta^2*gamma^2 > 1, "
                             f"got {self.compound_exponents}")


def supported_rules(arch: ArchSpec) -> tuple[str, ...]:
    """The rules that can scale ``arch`` (by its spec kind)."""
    return SUPPORTED.get(arch.kind, GENERIC_RULES)


def check_supported(arch: ArchSpec, rules: tuple[str, ...]) -> None:
    """A UsageError naming the family and the rules it supports, for the first unsupported rule."""
    if isinstance(arch, ResizedInput):
        raise UsageError("the base model is already input-resized; scale the spec it wraps "
                         f"(resolution {arch.resolution}) with the resolution rule instead")
    allowed = supported_rules(arch)
    for rule in rules:
        if rule not in allowed:
            raise UsageError(f"scaling rule {rule!r} does not support the {arch.kind} family "
                             f"(it supports: {', '.join(allowed)})")


def minimum_resolution(arch: ArchSpec, family: Any, input_spec: InputSpec) -> int:
    """The smallest input resolution ``arch`` can run at (every feature map >= 1 x 1)."""
    for resolution in range(1, 4097):
        try:
            family.complexity(arch, **input_spec.as_kwargs(resolution))
        except InvalidArchitecture:
            continue
        return resolution
    raise UsageError(f"{arch.kind} model runs at no resolution up to 4096")


def check_resolution(arch: ArchSpec, family: Any, input_spec: InputSpec) -> int:
    """The minimum resolution of ``arch``; a UsageError when the input is below it."""
    low = minimum_resolution(arch, family, input_spec)
    if input_spec.resolution < low:
        raise UsageError(f"input resolution {input_spec.resolution} is below the base model's minimum {low} "
                         "(its total stride): the feature map would shrink below 1x1")
    return low


# --- knob helpers (AnyNet) -----------------------------------------------------------------------

def scale_depths(arch: AnyNetArch, factor: float) -> AnyNetArch:
    """Blocks per stage x ``factor``, rounded half up, at least 1."""
    depths = [max(1, int(math.floor(d * factor + 0.5))) for d in arch.depths]
    return arch.with_stages(depth=depths)


def scale_widths(arch: AnyNetArch, factor: float, scale_stem: bool = True) -> AnyNetArch:
    """Widths x ``factor`` (rounded, >= 1), made valid for bottleneck/group rules."""
    widths = [max(1, int(math.floor(w * factor + 0.5))) for w in arch.widths]
    groups = list(arch.group_widths)
    if uses_bottleneck(arch.block):
        widths, groups = adjust_compatibility(widths, list(arch.bottleneck_ratios), groups)
        widths = [max(1, int(w)) for w in widths]
    scaled = arch.with_stages(width=widths, group_width=[int(g) for g in groups])
    if scale_stem:
        scaled = replace(scaled, stem_width=max(1, int(math.floor(arch.stem_width * factor + 0.5))),
                         head_width=int(math.floor(arch.head_width * factor + 0.5)) if arch.head_width else 0)
    return scaled


def _factor_grid(options: RuleOptions) -> np.ndarray:
    grid = np.geomspace(1 / options.max_factor, options.max_factor, options.grid)
    return np.unique(np.concatenate([grid, [1.0]]))


def _distinct(candidates: list[Candidate]) -> list[Candidate]:
    """First candidate of each distinct spec, in order (the base first); the set is for membership only."""
    seen: set[ArchSpec] = set()
    out = []
    for candidate in candidates:
        if candidate.arch not in seen:
            seen.add(candidate.arch)
            out.append(candidate)
    return out


def _closest_to_one(grid: np.ndarray) -> np.ndarray:
    """Grid order by distance of log(factor) from 0, so each spec keeps its most central factor."""
    return grid[np.argsort(np.abs(np.log(grid)), kind="stable")]


# --- rules ---------------------------------------------------------------------------------------

def depth_candidates(base: AnyNetArch, options: RuleOptions) -> list[Candidate]:
    found = [Candidate(scale_depths(base, float(f)), {"depth_factor": float(f)}) for f in _closest_to_one(_factor_grid(options))]
    return [Candidate(c.arch, {**c.knobs, "depths": c.arch.depths}) for c in _distinct(found)]


def width_candidates(base: AnyNetArch, options: RuleOptions) -> list[Candidate]:
    found = [Candidate(scale_widths(base, float(f), options.scale_stem), {"width_factor": float(f)})
             for f in _closest_to_one(_factor_grid(options))]
    return [Candidate(c.arch, {**c.knobs, "widths": c.arch.widths, "stem_width": c.arch.stem_width})
            for c in _distinct(found)]


def resolution_candidates(base: ArchSpec, input_spec: InputSpec, low: int, options: RuleOptions) -> list[Candidate]:
    high = max(input_spec.resolution, int(math.floor(input_spec.resolution * options.max_resolution_factor)))
    sizes = np.arange(low, high + 1)
    if sizes.size > options.max_resolutions:
        sizes = np.unique(np.rint(np.geomspace(low, high, options.max_resolutions)).astype(int))
    out = [Candidate(base, {"resolution": input_spec.resolution})]
    out += [Candidate(ResizedInput(base, int(r)), {"resolution": int(r)}) for r in sizes if r != input_spec.resolution]
    return out


def prehead_candidates(base: AnyNetArch) -> list[Candidate]:
    strided = [i for i, s in enumerate(base.strides) if s == 2]
    stems = [False, True] if base.stem in STRIDE_FREE_STEM else [False]
    out = []
    for stem_removed in stems:
        for mask in range(2 ** len(strided)):
            removed = [strided[k] for k in range(len(strided)) if mask >> k & 1]
            strides = [1 if i in removed else s for i, s in enumerate(base.strides)]
            arch = base.with_stages(stride=strides)
            if stem_removed:
                arch = replace(arch, stem=STRIDE_FREE_STEM[base.stem])
            out.append(Candidate(arch, {"strides_removed": removed, "stem_stride_removed": stem_removed,
                                        "strides": strides}))
    return sorted(out, key=lambda c: (len(c.knobs["strides_removed"]) + c.knobs["stem_stride_removed"],
                                      [-i for i in c.knobs["strides_removed"]]))


def compound_candidates(base: AnyNetArch, input_spec: InputSpec, low: int, options: RuleOptions) -> list[Candidate]:
    alpha, beta, gamma = options.compound_exponents
    per_phi = math.log(alpha * beta**2 * gamma**2)
    span = math.log(options.max_factor) / per_phi
    phis = np.linspace(-span, span, options.compound_grid)
    phis = phis[np.argsort(np.abs(phis), kind="stable")]
    out = []
    for phi in phis:
        resolution = int(math.floor(input_spec.resolution * gamma**phi + 0.5))
        if resolution < low:
            continue
        scaled = scale_widths(scale_depths(base, alpha**phi), beta**phi, options.scale_stem)
        arch = scaled if resolution == input_spec.resolution else ResizedInput(scaled, resolution)
        out.append(Candidate(arch, {"phi": float(phi), "depths": scaled.depths, "widths": scaled.widths,
                                    "resolution": resolution}))
    return _distinct(out)


def candidates(rule: str, base: ArchSpec, input_spec: InputSpec, low: int,
               options: RuleOptions | None = None) -> list[Candidate]:
    """Every candidate of ``rule`` for ``base`` (the unscaled base among them)."""
    options = options or RuleOptions()
    check_supported(base, (rule,))
    if rule == "resolution":
        return resolution_candidates(base, input_spec, low, options)
    if rule == "depth":
        return depth_candidates(base, options)  # type: ignore[arg-type]
    if rule == "width":
        return width_candidates(base, options)  # type: ignore[arg-type]
    if rule == "prehead":
        return prehead_candidates(base)  # type: ignore[arg-type]
    if rule == "compound":
        return compound_candidates(base, input_spec, low, options)  # type: ignore[arg-type]
    raise UsageError(f"unknown scaling rule {rule!r}; known: {', '.join(RULE_NAMES)}")
