"""``NSSFamily``: networks of the NSS expanded space (spec kind ``nss``).

Family option: ``stem_width`` (w0, 16 in the supplement). Default input: CIFAR's 32x32 RGB, 100
classes (the supplement's CIFAR-100). Cost, layers and module all walk the rows ``table.EXPANDED``
names (the AnyNet R block and CIFAR stem).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import FAMILIES
from archspace.families.base import Family
from archspace.families.layers import LayerConfig
from archspace.families.nss.cost import nss_complexity, nss_complexity_many
from archspace.families.nss.layers import nss_layer_sequence
from archspace.families.nss.spec import NSSArch, validate_nss
from archspace.families.nss.table import EXPANDED


@FAMILIES.register("nss")
class NSSFamily(Family):
    """Stem (3x3, w0), 3 stages of basic residual blocks (strides 1, 2, 2), global pool, linear."""

    kind = "nss"
    spec_class = NSSArch
    default_input = {"resolution": 32, "num_classes": 100, "in_channels": 3}

    def __init__(self, stem_width: int = EXPANDED.stem_width) -> None:
        if isinstance(stem_width, bool) or not isinstance(stem_width, int) or stem_width < 1:
            raise UsageError(f"stem_width must be an integer >= 1, got {stem_width!r}")
        self.stem_width = stem_width

    def options(self) -> dict[str, Any]:
        return {"stem_width": self.stem_width}

    def validate(self, arch: Any) -> NSSArch:
        if not isinstance(arch, NSSArch):
            raise InvalidArchitecture("kind", f"the nss family takes nss specs, got {type(arch).__name__}")
        return validate_nss(arch)

    def cost(self, arch: NSSArch, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return nss_complexity(arch, self.stem_width, resolution, num_classes, in_channels)

    def complexity_many(self, archs: Sequence[NSSArch], validate: bool = True, **input_spec: Any) -> list[Complexity]:
        if validate:
            for arch in archs:
                self.validate(arch)
        return nss_complexity_many(archs, self.stem_width, **self.input_spec(**input_spec))

    def layer_sequence(self, arch: NSSArch, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return nss_layer_sequence(self.validate(arch), self.stem_width, spec["num_classes"], spec["in_channels"])

    def build(self, arch: NSSArch, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.nss.modules import build_nss

        spec = self.input_spec(None, num_classes, in_channels)
        return build_nss(self.validate(arch), self.stem_width, spec["num_classes"], spec["in_channels"])
