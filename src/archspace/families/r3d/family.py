"""``R3DFamily``: 3-D residual networks over video clips (spec kind ``r3d``).

Family option ``frames``: the clip length T the network reads (input ``(C, T, H, W)``); a spec
plus ``frames`` rebuilds exactly one network. Cost, layers and module walk ``r3d.table``.
"""

from __future__ import annotations

from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import FAMILIES
from archspace.families.base import Family
from archspace.families.layers import LayerConfig
from archspace.families.r3d.cost import r3d_complexity
from archspace.families.r3d.layers import r3d_layer_sequence
from archspace.families.r3d.spec import R3DArch

MAX_FRAMES = 1024


def check_frames(frames: Any) -> int:
    """``frames`` as an int in [1, MAX_FRAMES]; ``UsageError`` otherwise."""
    if isinstance(frames, bool) or not isinstance(frames, int) or not 1 <= frames <= MAX_FRAMES:
        raise UsageError(f"frames must be an integer in [1, {MAX_FRAMES}], got {frames!r}")
    return frames


@FAMILIES.register("r3d")
class R3DFamily(Family):
    """Stem, stages of basic 3-D residual blocks, global pool, linear classifier."""

    kind = "r3d"
    spec_class = R3DArch
    default_input = {"resolution": 28, "num_classes": 10, "in_channels": 1}

    def __init__(self, frames: int = 8) -> None:
        self.frames = check_frames(frames)

    def options(self) -> dict[str, Any]:
        return {"frames": self.frames}

    def input_shape(self, resolution: int, in_channels: int) -> tuple[int, ...]:
        return (in_channels, self.frames, resolution, resolution)

    def validate(self, arch: Any) -> R3DArch:
        if not isinstance(arch, R3DArch):
            raise InvalidArchitecture("kind", f"the r3d family takes r3d specs, got {type(arch).__name__}")
        return arch

    def cost(self, arch: R3DArch, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return r3d_complexity(arch, self.frames, resolution, num_classes, in_channels)

    def layer_sequence(self, arch: R3DArch, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return r3d_layer_sequence(self.validate(arch), spec["num_classes"], spec["in_channels"])

    def build(self, arch: R3DArch, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.r3d.modules import R3DNetwork

        spec = self.input_spec(None, num_classes, in_channels)
        return R3DNetwork(self.validate(arch), num_classes=spec["num_classes"], in_channels=spec["in_channels"])
