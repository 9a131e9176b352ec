"""Scaling rules: each turns a base model into every candidate its discrete knob(s) allow.

- ``depth``: blocks per stage times a factor alpha (rounded, at least 1 per stage).
- ``width``: stage, stem and head widths times a factor beta, rounded to integers and made
  compatible with each stage's bottleneck ratio and group width (``adjust_compatibility``, the
  rule the paper's published models follow), so every candidate is a valid network.
- ``resolution``: the input resized to r x r for every r from the network's minimum (its total
  stride) up to ``max_resolution_factor`` x the dataset's resolution (a ``ResizedInput`` spec).
- ``prehead``: a higher pre-head resolution (the size of the map the head pools), by either of
  two strategies, solved across both: ``stride``, less downsampling: every subset of the strided
  stages set to stride 1, and the stride-2 3x3 stem (``simple_stem_in``) replaced by its stride-1
  twin (``res_stem_cifar``), the thesis's A1 (one stride removed) among them; ``upsample``: every
  subset of the stages with its input upsampled x2 (``StageSpec.upsample``; nearest by default),
  the thesis's A0+Upsample (the last stage upsampled) among them. Upsampling before a stride-2
  stage gives the pre-head resolution of removing that stride; for basic (R/V) blocks even the
  same flops, and on such a tie the stride candidate (no interpolation) is chosen. Cannot shrink.
- ``compound``: EfficientNet's rule: depth x alpha^phi, width x beta^phi, resolution x gamma^phi
  for a grid of phi (defaults alpha=1.2, beta=1.1, gamma=1.15, chosen there so that
  alpha * beta^2 * gamma^2 ~ 2: flops roughly double per unit of phi).

Which family supports which rule (``SUPPORTED``; ``candidates`` raises a ``UsageError`` naming
the family and what it supports for any other rule):

- ``anynet`` (AnyNet, RegNet, ResNet models): all five.
- ``nss`` (the NSS expanded space, per-stage depths and widths are spec fields): depth, width,
  resolution, compound; variants outside the space's bounds (d <= 16, w <= 512) are dropped; its
  stem width is a family option, so the width rule scales the stages only; no prehead (its
  strides are fixed by the space's table).
- ``r3d`` (3-D ResNets on video): depth and width; resolution (and so compound) would need a
  video resize, which ``resized`` does not do.
- every other image family (``nb201``, ``darts``, ``teacher``, ``attention_net`` on an image
  backbone): resolution only. NB201's and DARTS' depth and width are *family options*
  (cells_per_stage / layers, channels), not spec fields, so a variant is not a spec of its own
  and cannot be a trial of the same Study; an attention net's insert widths follow its backbone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.anynet.spec import MAX_UPSAMPLE, AnyNetArch, adjust_compatibility
from archspace.families.anynet.table import UPSAMPLE_MODES, uses_bottleneck
from archspace.families.nss.spec import NSSArch
from archspace.families.r3d.spec import R3DArch
from archspace.families.resized.spec import ResizedInput
from archspace.scaling.variants import RULE_NAMES, Candidate, InputSpec

# Which rules each spec kind supports (kinds not listed: resolution only).
SUPPORTED: dict[str, tuple[str, ...]] = {"anynet": RULE_NAMES, "nss": ("depth", "width", "resolution", "compound"),
                                         "r3d": ("depth", "width")}
GENERIC_RULES: tuple[str, ...] = ("resolution",)
# Stems whose stride can be removed without changing the kernel: stride-2 stem -> stride-1 twin.
STRIDE_FREE_STEM: dict[str, str] = {"simple_stem_in": "res_stem_cifar"}
PREHEAD_STRATEGIES: tuple[str, ...] = ("stride", "upsample")


@dataclass(frozen=True)
class RuleOptions:
    """Knob ranges: factor grids span [1/max_factor, max_factor] in ``grid`` log-spaced steps.

    Every integer resolution in range is a candidate while there are at most ``max_resolutions``
    of them; beyond that, ``max_resolutions`` log-spaced ones (steps under 1% at large sizes).

    compound_exponents: EfficientNet's (alpha, beta, gamma). max_resolution_factor: the largest
    input resolution tried, relative to the dataset's. scale_stem: the width rule scales the stem
    (and head) widths with the stages. prehead_strategies: how ``prehead`` raises the pre-head
    resolution (``stride``, ``upsample`` or both); upsample_mode: the interpolation it uses.
    """

    max_factor: float = 8.0
    grid: int = 481
    max_resolutions: int = 256
    max_resolution_factor: float = 4.0
    compound_exponents: tuple[float, float, float] = (1.2, 1.1, 1.15)
    compound_grid: int = 161
    scale_stem: bool = True
    prehead_strategies: tuple[str, ...] = PREHEAD_STRATEGIES
    upsample_mode: str = "nearest"

    def __post_init__(self) -> None:
        object.__setattr__(self, "prehead_strategies", tuple(self.prehead_strategies))
        unknown = sorted(set(self.prehead_strategies) - set(PREHEAD_STRATEGIES))
        if unknown or not self.prehead_strategies:
            raise UsageError(f"prehead strategies must be one or more of {', '.join(PREHEAD_STRATEGIES)}, "
                             f"got {', '.join(self.prehead_strategies) or 'none'}")
        if self.upsample_mode not in UPSAMPLE_MODES:
            raise UsageError(f"upsample_mode must be one of {', '.join(UPSAMPLE_MODES)}, got {self.upsample_mode!r}")
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


# --- knob helpers (AnyNet, NSS, R3D) --------------------------------------------------------------

def _scaled(value: int, factor: float) -> int:
    """``value`` x ``factor`` rounded half up, at least 1."""
    return max(1, int(math.floor(value * factor + 0.5)))


def stage_depths(arch: ArchSpec) -> list[int]:
    if isinstance(arch, NSSArch):
        return list(arch.depths)
    return [s.depth for s in arch.stages]  # type: ignore[attr-defined]


def stage_widths(arch: ArchSpec) -> list[int]:
    if isinstance(arch, NSSArch):
        return list(arch.widths)
    return [s.width for s in arch.stages]  # type: ignore[attr-defined]


def scale_depths(arch: ArchSpec, factor: float) -> ArchSpec:
    """Blocks per stage x ``factor``, rounded half up, at least 1 (an R3D spec out of bounds raises)."""
    depths = [_scaled(d, factor) for d in stage_depths(arch)]
    if isinstance(arch, NSSArch):
        return replace(arch, depths=tuple(depths))
    if isinstance(arch, R3DArch):
        return replace(arch, stages=tuple(replace(s, depth=d) for s, d in zip(arch.stages, depths, strict=True)))
    return arch.with_stages(depth=depths)  # type: ignore[attr-defined]


def scale_widths(arch: ArchSpec, factor: float, scale_stem: bool = True) -> ArchSpec:
    """Widths x ``factor`` (rounded, >= 1), made valid for bottleneck/group rules (AnyNet); the
    stem (and head) width too where the spec holds it (AnyNet, R3D) and ``scale_stem``."""
    if isinstance(arch, NSSArch):
        return replace(arch, widths=tuple(_scaled(w, factor) for w in arch.widths))
    if isinstance(arch, R3DArch):
        stages = tuple(replace(s, width=_scaled(s.width, factor)) for s in arch.stages)
        return replace(arch, stages=stages, stem_width=_scaled(arch.stem_width, factor) if scale_stem else arch.stem_width)
    return _scale_anynet_widths(arch, factor, scale_stem)  # type: ignore[arg-type]


def _scale_anynet_widths(arch: AnyNetArch, factor: float, scale_stem: bool) -> AnyNetArch:
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


def _family(base: ArchSpec) -> Any:
    from archspace.families import family_for

    return family_for(base)


def _valid(make: Any, family: Any) -> ArchSpec | None:
    """``make()`` when it gives a spec ``family`` accepts, else None (a scaled spec out of bounds)."""
    try:
        arch = make()
        family.validate(arch)
    except InvalidArchitecture:
        return None
    return arch


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

def _grid_candidates(base: ArchSpec, scale: Any, knob: str, options: RuleOptions) -> list[Candidate]:
    """One candidate per distinct valid spec ``scale(base, f)`` over the factor grid (most central first)."""
    found, family = [], _family(base)
    for factor in _closest_to_one(_factor_grid(options)):
        arch = _valid(lambda f=float(factor): scale(base, f), family)
        if arch is not None:
            found.append(Candidate(arch, {knob: float(factor)}))
    return _distinct(found)


def depth_candidates(base: ArchSpec, options: RuleOptions) -> list[Candidate]:
    found = _grid_candidates(base, scale_depths, "depth_factor", options)
    return [Candidate(c.arch, {**c.knobs, "depths": stage_depths(c.arch)}) for c in found]


def width_candidates(base: ArchSpec, options: RuleOptions) -> list[Candidate]:
    found = _grid_candidates(base, lambda a, f: scale_widths(a, f, options.scale_stem), "width_factor", options)
    stem = (lambda a: {"stem_width": a.stem_width}) if hasattr(base, "stem_width") else (lambda a: {})
    return [Candidate(c.arch, {**c.knobs, "widths": stage_widths(c.arch), **stem(c.arch)}) for c in found]


def resolution_candidates(base: ArchSpec, input_spec: InputSpec, low: int, options: RuleOptions) -> list[Candidate]:
    high = max(input_spec.resolution, int(math.floor(input_spec.resolution * options.max_resolution_factor)))
    sizes = np.arange(low, high + 1)
    if sizes.size > options.max_resolutions:
        sizes = np.unique(np.rint(np.geomspace(low, high, options.max_resolutions)).astype(int))
    out = [Candidate(base, {"resolution": input_spec.resolution})]
    out += [Candidate(ResizedInput(base, int(r)), {"resolution": int(r)}) for r in sizes if r != input_spec.resolution]
    return out


def _subsets(items: list[int]) -> list[list[int]]:
    return [[items[k] for k in range(len(items)) if mask >> k & 1] for mask in range(2 ** len(items))]


def stride_candidates(base: AnyNetArch) -> list[Candidate]:
    """Every subset of the strided stages (and the stem, where it has a stride-1 twin) at stride 1."""
    strided = [i for i, s in enumerate(base.strides) if s == 2]
    stems = [False, True] if base.stem in STRIDE_FREE_STEM else [False]
    out = []
    for stem_removed in stems:
        for removed in _subsets(strided):
            strides = [1 if i in removed else s for i, s in enumerate(base.strides)]
            arch = base.with_stages(stride=strides)
            if stem_removed:
                arch = replace(arch, stem=STRIDE_FREE_STEM[base.stem])
            out.append(Candidate(arch, {"strategy": "stride" if removed or stem_removed else "none",
                                        "strides_removed": removed, "stem_stride_removed": stem_removed,
                                        "strides": strides}))
    return out


def upsample_candidates(base: AnyNetArch, mode: str = "nearest") -> list[Candidate]:
    """Every non-empty subset of the stages with its input upsampled x2 (``mode`` interpolation; a
    base that upsamples already keeps its own mode)."""
    if any(u > 1 for u in base.upsamples):
        mode = base.upsample_mode
    out = []
    for chosen in _subsets(list(range(len(base.stages))))[1:]:
        factors = [u * 2 if i in chosen else u for i, u in enumerate(base.upsamples)]
        if max(factors) > MAX_UPSAMPLE:
            continue
        arch = replace(base.with_stages(upsample=factors), upsample_mode=mode)
        out.append(Candidate(arch, {"strategy": "upsample", "upsampled_stages": chosen, "upsample": factors,
                                    "upsample_mode": mode}))
    return out


def prehead_candidates(base: AnyNetArch, options: RuleOptions | None = None) -> list[Candidate]:
    """The base, then every stride and upsample candidate: fewer changes first, strides before
    upsampling, later stages before earlier ones (so ties go to the least change, A1 before A0+Upsample)."""
    options = options or RuleOptions()
    found = stride_candidates(base) if "stride" in options.prehead_strategies else \
        [Candidate(base, {"strategy": "none"})]
    if "upsample" in options.prehead_strategies:
        found += upsample_candidates(base, options.upsample_mode)

    def order(c: Candidate) -> tuple:
        changed = c.knobs.get("strides_removed", c.knobs.get("upsampled_stages", []))
        changes = len(changed) + bool(c.knobs.get("stem_stride_removed"))
        return changes, c.knobs["strategy"] == "upsample", [-i for i in changed]

    return _distinct(sorted(found, key=order))


def compound_candidates(base: ArchSpec, input_spec: InputSpec, low: int, options: RuleOptions) -> list[Candidate]:
    alpha, beta, gamma = options.compound_exponents
    per_phi = math.log(alpha * beta**2 * gamma**2)
    span = math.log(options.max_factor) / per_phi
    phis = np.linspace(-span, span, options.compound_grid)
    phis = phis[np.argsort(np.abs(phis), kind="stable")]
    out, family = [], _family(base)
    for phi in phis:
        resolution = int(math.floor(input_spec.resolution * gamma**phi + 0.5))
        if resolution < low:
            continue
        scaled = _valid(lambda p=phi: scale_widths(scale_depths(base, alpha**p), beta**p, options.scale_stem), family)
        if scaled is None:
            continue
        arch = scaled if resolution == input_spec.resolution else ResizedInput(scaled, resolution)
        out.append(Candidate(arch, {"phi": float(phi), "depths": stage_depths(scaled), "widths": stage_widths(scaled),
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
        return prehead_candidates(base, options)  # type: ignore[arg-type]
    if rule == "compound":
        return compound_candidates(base, input_spec, low, options)  # type: ignore[arg-type]
    raise UsageError(f"unknown scaling rule {rule!r}; known: {', '.join(RULE_NAMES)}")
