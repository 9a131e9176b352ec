"""``AttentionFamily``: backbones with attention cells (or SE blocks) inserted (kind ``attention_net``).

Family option ``frames``: 1 for images (the backbone must be an AnyNet spec, input (C, H, W)),
more for video clips (an R3D backbone, input (C, T, H, W)). Temporal and spatiotemporal ops are
refused on images and wherever the clip has been strided down to one frame.
"""

from __future__ import annotations

from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture
from archspace.families import FAMILIES
from archspace.families.anynet.family import AnyNetFamily
from archspace.families.attention.cost import anynet_sites, insert_cost, r3d_sites
from archspace.families.attention.layers import attention_net_layer_sequence
from archspace.families.attention.spec import AttentionCell, AttentionNet
from archspace.families.base import Family
from archspace.families.layers import LayerConfig
from archspace.families.r3d.family import R3DFamily, check_frames
from archspace.families.r3d.table import BASIC_BLOCK, STEM
from archspace.families.r3d.table import out_size as out_size_3d


@FAMILIES.register("attention_net")
class AttentionFamily(Family):
    """An AnyNet (images) or R3D (video) backbone with inserts after chosen stages."""

    kind = "attention_net"
    spec_class = AttentionNet
    default_input = {"resolution": 32, "num_classes": 10, "in_channels": 3}

    def __init__(self, frames: int = 1) -> None:
        self.frames = check_frames(frames)
        # Backbone cost and insertion sites per (backbone, input): a space's points share one
        # backbone, so costing a batch of cells costs the backbone once (never changes a result).
        self._backbone_cache: dict[tuple, tuple[Complexity, list]] = {}

    def options(self) -> dict[str, Any]:
        return {"frames": self.frames}

    def input_shape(self, resolution: int, in_channels: int) -> tuple[int, ...]:
        if self.frames == 1:
            return (in_channels, resolution, resolution)
        return (in_channels, self.frames, resolution, resolution)

    def backbone_family(self) -> Family:
        return AnyNetFamily() if self.frames == 1 else R3DFamily(frames=self.frames)

    def validate(self, arch: Any) -> AttentionNet:
        if not isinstance(arch, AttentionNet):
            raise InvalidArchitecture("kind", f"the attention_net family takes attention_net specs, "
                                              f"got {type(arch).__name__}")
        expected = "anynet" if self.frames == 1 else "r3d"
        if arch.backbone.kind != expected:
            what = "images (frames = 1) take an anynet backbone" if self.frames == 1 else \
                f"video clips (frames = {self.frames}) take an r3d backbone"
            raise InvalidArchitecture("backbone", f"{what}, got {arch.backbone.kind!r}")
        self.backbone_family().validate(arch.backbone)
        if isinstance(arch.insert, AttentionCell) and arch.insert.temporal:
            self._check_temporal(arch)
        return arch

    def _check_temporal(self, arch: AttentionNet) -> None:
        op = next(i for i, o in enumerate(arch.insert.ops) if o.dimension != "spatial")  # type: ignore[union-attr]
        dimension = arch.insert.ops[op].dimension  # type: ignore[union-attr]
        if self.frames == 1:
            raise InvalidArchitecture(f"insert.ops[{op}].dimension", f"{dimension} attention needs video; "
                                      "images have one frame (use spatial)")
        frames = out_size_3d(self.frames, STEM.kernel, STEM.stride)
        kernel = next(row.kernel for row in BASIC_BLOCK if row.strided)
        for index, stage in enumerate(arch.backbone.stages):  # type: ignore[attr-defined]
            frames = out_size_3d(frames, kernel, stage.stride)
            if index in arch.positions and frames < 2:
                raise InvalidArchitecture(f"insert.ops[{op}].dimension", f"{dimension} attention after stage "
                                          f"{index} sees 1 frame of the {self.frames}-frame clip")

    def sites(self, arch: AttentionNet, resolution: int) -> list:
        if self.frames == 1:
            return anynet_sites(arch.backbone, resolution)  # type: ignore[arg-type]
        return r3d_sites(arch.backbone, self.frames, resolution)  # type: ignore[arg-type]

    def _backbone(self, arch: AttentionNet, resolution: int, num_classes: int,
                  in_channels: int) -> tuple[Complexity, list]:
        key = (arch.backbone, resolution, num_classes, in_channels)
        found = self._backbone_cache.get(key)
        if found is None:
            if len(self._backbone_cache) >= 64:
                self._backbone_cache.clear()
            found = self._backbone_cache[key] = (
                self.backbone_family().cost(arch.backbone, resolution, num_classes, in_channels),
                self.sites(arch, resolution))
        return found

    def cost(self, arch: AttentionNet, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        total, sites = self._backbone(arch, resolution, num_classes, in_channels)
        for position in arch.positions:
            total = total + insert_cost(arch.insert, sites[position])  # type: ignore[arg-type]
        return total

    def insert_cost(self, arch: AttentionNet, resolution: int | None = None) -> Complexity:
        """The cost of the inserts alone (what the attention adds to the backbone)."""
        spec = self.input_spec(resolution)
        sites = self.sites(self.validate(arch), spec["resolution"])
        return sum((insert_cost(arch.insert, sites[p]) for p in arch.positions),  # type: ignore[arg-type]
                   Complexity(0, 0, 0))

    def layer_sequence(self, arch: AttentionNet, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return attention_net_layer_sequence(self.validate(arch), spec["num_classes"], spec["in_channels"])

    def build(self, arch: AttentionNet, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.attention.modules import AttentionNetwork

        spec = self.input_spec(None, num_classes, in_channels)
        backbone = self.backbone_family().build(self.validate(arch).backbone, num_classes=spec["num_classes"],
                                                in_channels=spec["in_channels"])
        return AttentionNetwork(arch, backbone)
