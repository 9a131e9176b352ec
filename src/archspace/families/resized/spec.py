"""``ResizedInput``: a spec of any family plus the resolution its input is resized to.

Scaling a network's input resolution (EfficientNet's third axis, the thesis's "upsample the
input") changes its cost and accuracy without changing its layers; the trained model then reads
the dataset's images resized (bilinear) to ``resolution`` as its first step. Making the
resolution part of the spec gives each resolution variant its own identity (hash, trial, row in
a table), so a scaling study can train all variants of all rules as one Study.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspace.arch import ArchSpec, arch_from_dict, register_kind
from archspace.errors import InvalidArchitecture


@register_kind
@dataclass(frozen=True)
class ResizedInput(ArchSpec):
    """``arch`` (a spec of any other kind) applied to inputs resized to ``resolution`` x ``resolution``."""

    kind = "resized"
    arch: ArchSpec
    resolution: int

    def __post_init__(self) -> None:
        if not isinstance(self.arch, ArchSpec):
            raise InvalidArchitecture("arch", f"must be an architecture spec, got {type(self.arch).__name__}")
        if isinstance(self.arch, ResizedInput):
            raise InvalidArchitecture("arch", "a resized spec cannot wrap another resized spec")
        value = self.resolution
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArchitecture("resolution", f"must be an integer >= 1, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "arch": self.arch.to_dict(), "resolution": self.resolution}

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> ResizedInput:
        inner = data.get("arch")
        if not isinstance(inner, dict):
            raise InvalidArchitecture("arch", "must be a spec object with a kind")
        if "resolution" not in data:
            raise InvalidArchitecture("resolution", "is required")
        return cls(arch_from_dict(inner), data["resolution"])
