"""``AnyNetFamily``: AnyNet / RegNet / ResNet-as-AnyNet models (spec kind ``anynet``).

Everything about a network is in its spec (stem, block type, stages, head), so the family has no
options. Cost, layers and module all walk ``archspace.families.anynet.table``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture
from archspace.families import FAMILIES
from archspace.families.anynet.cost import anynet_complexity, anynet_complexity_many
from archspace.families.anynet.layers import anynet_layer_sequence
from archspace.families.anynet.spec import AnyNetArch, validate_anynet
from archspace.families.base import Family
from archspace.families.layers import LayerConfig


@FAMILIES.register("anynet")
class AnyNetFamily(Family):
    """Stem, stages of V/R/X/Y blocks, head: the network of *Designing Network Design Spaces*."""

    kind = "anynet"
    spec_class = AnyNetArch

    def validate(self, arch: Any) -> AnyNetArch:
        if not isinstance(arch, AnyNetArch):
            raise InvalidArchitecture("kind", f"the anynet family takes anynet specs, got {type(arch).__name__}")
        return validate_anynet(arch)

    def cost(self, arch: AnyNetArch, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return anynet_complexity(arch, resolution, num_classes, in_channels)

    def complexity_many(self, archs: Sequence[AnyNetArch], validate: bool = True, **input_spec: Any) -> list[Complexity]:
        """Batched cost; ``validate=False`` is for specs a space has just built (valid by construction)."""
        if validate:
            for arch in archs:
                self.validate(arch)
        return anynet_complexity_many(archs, **self.input_spec(**input_spec))

    def layer_sequence(self, arch: AnyNetArch, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return anynet_layer_sequence(self.validate(arch), spec["num_classes"], spec["in_channels"])

    def build(self, arch: AnyNetArch, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.anynet.modules import build_anynet

        spec = self.input_spec(None, num_classes, in_channels)
        return build_anynet(self.validate(arch), num_classes=spec["num_classes"], in_channels=spec["in_channels"])
