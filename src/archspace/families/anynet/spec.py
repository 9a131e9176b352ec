"""AnyNet architecture specs: a stem, a body of stages of identical blocks, and a head.

A stage is (depth d, width w, stride s, bottleneck ratio b, group width g) as in *Designing
Network Design Spaces*; the bottleneck width of a block is w / b and its 3x3 conv has
(w / b) / g groups. Specs are validated here, without torch.

A stage may also upsample its input (``upsample``, an integer factor, default 1) with the spec's
``upsample_mode``; at their defaults both fields are left out of ``to_dict``, so every spec
without upsampling keeps the JSON, hash and cost it had before the fields existed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from archspace.arch import ArchSpec, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.anynet.table import (
    ALLOWED_STRIDES,
    BLOCK_TYPES,
    STEM_TYPES,
    UPSAMPLE_MODES,
    uses_bottleneck,
)

STAGE_FIELDS: tuple[str, ...] = ("depth", "width", "stride", "bottleneck_ratio", "group_width", "upsample")


@dataclass(frozen=True)
class StageSpec:
    """One stage: ``depth`` blocks of output ``width``; the first block has ``stride``.

    ``upsample``: the stage's input is first upsampled by this integer factor (1: not at all).
    """

    depth: int
    width: int
    stride: int = 2
    bottleneck_ratio: float = 1.0
    group_width: int = 1
    upsample: int = 1

    def __post_init__(self) -> None:
        # Canonical types, so JSON `4` and `4.0` give the same spec and the same hash.
        ratio = self.bottleneck_ratio
        if isinstance(ratio, int) and not isinstance(ratio, bool):
            object.__setattr__(self, "bottleneck_ratio", float(ratio))

    @property
    def bottleneck_width(self) -> int:
        return int(round(self.width / self.bottleneck_ratio))

    @property
    def groups(self) -> int:
        return self.bottleneck_width // self.group_width


@register_kind
@dataclass(frozen=True)
class AnyNetArch(ArchSpec):
    """A complete AnyNet model spec (block type, stem, stages, head)."""

    kind = "anynet"
    stages: tuple[StageSpec, ...]
    block: str = "X"
    stem: str = "simple_stem_in"
    stem_width: int = 32
    head_width: int = 0
    se_ratio: float = 0.25
    upsample_mode: str = "nearest"

    def __post_init__(self) -> None:
        if isinstance(self.stages, list):
            object.__setattr__(self, "stages", tuple(self.stages))
        if isinstance(self.se_ratio, int) and not isinstance(self.se_ratio, bool):
            object.__setattr__(self, "se_ratio", float(self.se_ratio))

    def __hash__(self) -> int:
        # Specs are hashed constantly while sampling distinct models: compute the hash once.
        cached = self.__dict__.get("_hash")
        if cached is None:
            cached = hash((self.stages, self.block, self.stem, self.stem_width, self.head_width, self.se_ratio,
                           self.upsample_mode))
            self.__dict__["_hash"] = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        # String hashes differ between processes: never ship a cached hash in a pickle.
        return {k: v for k, v in self.__dict__.items() if k != "_hash"}

    def to_dict(self) -> dict[str, Any]:
        """Plain dict; ``upsample`` / ``upsample_mode`` only where they are not the defaults (1 / nearest)."""
        data = super().to_dict()
        for stage in data["stages"]:
            if stage["upsample"] == 1:
                del stage["upsample"]
        if data["upsample_mode"] == "nearest":
            del data["upsample_mode"]
        return data

    # --- convenient per-stage views --------------------------------------------------------------
    @property
    def depths(self) -> list[int]:
        return [s.depth for s in self.stages]

    @property
    def widths(self) -> list[int]:
        return [s.width for s in self.stages]

    @property
    def strides(self) -> list[int]:
        return [s.stride for s in self.stages]

    @property
    def bottleneck_ratios(self) -> list[float]:
        return [s.bottleneck_ratio for s in self.stages]

    @property
    def group_widths(self) -> list[int]:
        return [s.group_width for s in self.stages]

    @property
    def upsamples(self) -> list[int]:
        return [s.upsample for s in self.stages]

    @property
    def depth(self) -> int:
        return sum(self.depths)

    def block_widths(self) -> list[int]:
        """Output width of every block in order (the paper's per-block width profile)."""
        return [s.width for s in self.stages for _ in range(s.depth)]

    def with_stages(self, **per_stage: list[Any]) -> AnyNetArch:
        """Copy with some per-stage fields replaced, e.g. ``with_stages(width=[...])``."""
        stages = list(self.stages)
        for field_name, values in per_stage.items():
            stages = [replace(s, **{field_name: v}) for s, v in zip(stages, values, strict=True)]
        return replace(self, stages=tuple(stages))

    @classmethod
    def from_lists(cls, depths: list[int], widths: list[int], strides: list[int] | None = None,
                   bottleneck_ratios: list[float] | None = None, group_widths: list[int] | None = None,
                   **kwargs: Any) -> AnyNetArch:
        """Build from per-stage lists (the pycls-style description)."""
        n = len(depths)
        strides = strides or [2] * n
        bottleneck_ratios = bottleneck_ratios or [1.0] * n
        group_widths = group_widths or [1] * n
        lengths = {len(widths), len(strides), len(bottleneck_ratios), len(group_widths)}
        if lengths != {n}:
            raise InvalidArchitecture("stages", "per-stage lists must all have the same length")
        stages = tuple(
            StageSpec(d, w, s, float(b), g)
            for d, w, s, b, g in zip(depths, widths, strides, bottleneck_ratios, group_widths)
        )
        return cls(stages=stages, **kwargs)

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> AnyNetArch:
        raw_stages = data.get("stages")
        if not isinstance(raw_stages, (list, tuple)) or not raw_stages:
            raise InvalidArchitecture("stages", "must be a non-empty list of stage objects")
        stage_fields = set(STAGE_FIELDS)
        stages = []
        for index, raw in enumerate(raw_stages):
            if isinstance(raw, StageSpec):
                stages.append(raw)
                continue
            if not isinstance(raw, dict):
                raise InvalidArchitecture(f"stages[{index}]", "must be an object with depth and width")
            for key in raw:
                if key not in stage_fields:
                    raise InvalidArchitecture(f"stages[{index}].{key}", f"unknown field; allowed: {sorted(stage_fields)}")
            for key in ("depth", "width"):
                if key not in raw:
                    raise InvalidArchitecture(f"stages[{index}].{key}", "is required")
            stages.append(StageSpec(**raw))
        return cls(**{**data, "stages": tuple(stages)})


MAX_UPSAMPLE = 8  # the largest upsampling factor of one stage


def _check_int(value: Any, field: str, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArchitecture(field, f"must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InvalidArchitecture(field, f"must be {allowed}, got {value}")


def validate_anynet(arch: AnyNetArch) -> AnyNetArch:
    """Check every field of ``arch``; raise ``InvalidArchitecture`` naming the first bad one."""
    if arch.block not in BLOCK_TYPES:
        raise InvalidArchitecture("block", f"must be one of {list(BLOCK_TYPES)}, got {arch.block!r}")
    if arch.stem not in STEM_TYPES:
        raise InvalidArchitecture("stem", f"must be one of {list(STEM_TYPES)}, got {arch.stem!r}")
    _check_int(arch.stem_width, "stem_width", 1)
    _check_int(arch.head_width, "head_width", 0)
    if isinstance(arch.se_ratio, bool) or not isinstance(arch.se_ratio, (int, float)) or not 0 <= arch.se_ratio <= 1:
        raise InvalidArchitecture("se_ratio", f"must be a number in [0, 1], got {arch.se_ratio!r}")
    if not isinstance(arch.stages, tuple) or not arch.stages:
        raise InvalidArchitecture("stages", "must be a non-empty tuple of StageSpec")
    for index, stage in enumerate(arch.stages):
        _validate_stage(stage, f"stages[{index}]", arch.block)
    if arch.upsample_mode not in UPSAMPLE_MODES:
        raise InvalidArchitecture("upsample_mode", f"must be one of {list(UPSAMPLE_MODES)}, got {arch.upsample_mode!r}")
    if arch.upsample_mode != "nearest" and all(s.upsample == 1 for s in arch.stages):
        # otherwise two specs of one network would differ in JSON and hash
        raise InvalidArchitecture("upsample_mode", f"{arch.upsample_mode!r} needs a stage that upsamples "
                                                   "(stages[i].upsample > 1); leave it out otherwise")
    return arch


def _validate_stage(stage: StageSpec, where: str, block: str) -> None:
    _check_int(stage.depth, f"{where}.depth", 1)
    _check_int(stage.width, f"{where}.width", 1)
    # `1.0 in (1, 2)` holds, but torch takes integer strides only (and 1.0 would hash unlike 1)
    if isinstance(stage.stride, bool) or not isinstance(stage.stride, int) or stage.stride not in ALLOWED_STRIDES:
        raise InvalidArchitecture(f"{where}.stride", f"must be one of {list(ALLOWED_STRIDES)}, got {stage.stride!r}")
    ratio = stage.bottleneck_ratio
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not ratio > 0 or not math.isfinite(ratio):
        raise InvalidArchitecture(f"{where}.bottleneck_ratio", f"must be a positive finite number, got {ratio!r}")
    _check_int(stage.group_width, f"{where}.group_width", 1)
    _check_int(stage.upsample, f"{where}.upsample", 1, MAX_UPSAMPLE)
    if not uses_bottleneck(block):
        return  # b and g only shape bottleneck blocks: any positive values will do
    bottleneck = stage.width / ratio
    if abs(bottleneck - round(bottleneck)) > 1e-9 or round(bottleneck) < 1:
        raise InvalidArchitecture(
            f"{where}.bottleneck_ratio",
            f"width / bottleneck_ratio must be a positive integer, got {stage.width} / {ratio}",
        )
    if stage.bottleneck_width % stage.group_width:
        raise InvalidArchitecture(
            f"{where}.group_width",
            f"must divide the bottleneck width {stage.bottleneck_width} (= width / bottleneck_ratio), "
            f"got {stage.group_width}",
        )


def adjust_compatibility(widths: Any, bottleneck_ratios: Any, group_widths: Any) -> tuple[Any, Any]:
    """Make widths and group widths compatible, as the paper's published models do.

    The group width is capped at the bottleneck width, the bottleneck width is rounded to a
    multiple of the group width (half to even), and the stage width is recomputed from it. Takes
    lists (returns lists) or numpy arrays of any shape (returns int arrays), element-wise.
    """
    as_lists = isinstance(widths, list)
    widths, ratios, groups = (np.asarray(v) for v in (widths, bottleneck_ratios, group_widths))
    bottleneck = np.floor(np.maximum(1, widths / ratios)).astype(np.int64)
    groups = np.minimum(groups, bottleneck).astype(np.int64)
    bottleneck = np.maximum(groups, np.round(bottleneck / groups).astype(np.int64) * groups)
    new_widths = np.floor(bottleneck * ratios).astype(np.int64)
    if as_lists:
        return new_widths.tolist(), groups.tolist()
    return new_widths, groups
