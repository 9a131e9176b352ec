"""R3D specs: a stem width and stages of basic 3-D residual blocks (torch-free, validated here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspace.arch import ArchSpec, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.r3d.table import ALLOWED_STRIDES, MAX_DEPTH, MAX_WIDTH


def _int_in(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidArchitecture(field, f"must be an integer in [{low}, {high}], got {value!r}")
    return value


@dataclass(frozen=True)
class R3DStage:
    """``depth`` basic 3-D blocks of output ``width``; the first has ``stride`` (time and space)."""

    depth: int
    width: int
    stride: int = 2


@register_kind
@dataclass(frozen=True)
class R3DArch(ArchSpec):
    """A 3-D ResNet: stem conv (3x3x3, ``stem_width``), stages, global pool, linear classifier."""

    kind = "r3d"
    stages: tuple[R3DStage, ...]
    stem_width: int = 16

    def __post_init__(self) -> None:
        if not isinstance(self.stages, tuple) or not self.stages:
            raise InvalidArchitecture("stages", "must be a non-empty tuple of R3DStage")
        _int_in(self.stem_width, "stem_width", 1, MAX_WIDTH)
        for index, stage in enumerate(self.stages):
            if not isinstance(stage, R3DStage):
                raise InvalidArchitecture(f"stages[{index}]", f"must be an R3DStage, got {type(stage).__name__}")
            _int_in(stage.depth, f"stages[{index}].depth", 1, MAX_DEPTH)
            _int_in(stage.width, f"stages[{index}].width", 1, MAX_WIDTH)
            if stage.stride not in ALLOWED_STRIDES or isinstance(stage.stride, bool):
                raise InvalidArchitecture(f"stages[{index}].stride", f"must be one of {ALLOWED_STRIDES}, "
                                                                     f"got {stage.stride!r}")

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> R3DArch:
        raw = data.get("stages")
        if not isinstance(raw, (list, tuple)) or not raw:
            raise InvalidArchitecture("stages", "must be a non-empty list of stage objects")
        stages = []
        for index, item in enumerate(raw):
            if isinstance(item, R3DStage):
                stages.append(item)
                continue
            if not isinstance(item, dict) or not {"depth", "width"} <= set(item) or set(item) - {"depth", "width",
                                                                                                "stride"}:
                raise InvalidArchitecture(f"stages[{index}]", "must be an object with depth, width and stride")
            stages.append(R3DStage(**item))
        extra = set(data) - {"stages", "stem_width"}
        if extra:
            raise InvalidArchitecture(sorted(extra)[0], "is not a field of an r3d spec")
        return cls(stages=tuple(stages), **{k: v for k, v in data.items() if k != "stages"})
