"""``ResizedFamily``: cost, layers and module of a ``ResizedInput`` spec, delegated to its inner family.

The analytic cost is the inner network's at the spec's resolution, whatever the size of the
images fed in (resizing is interpolation, not counted as flops, like pooling); the layer sequence
is the inner one (the resize has no weights and no conv/linear/pool layer); the module resizes,
then runs the inner module. Family options are passed on to the inner family (e.g. NB201's
``channels``). A resolution below the inner network's minimum (its total stride) is refused by
the inner cost with ``InvalidArchitecture`` naming the stride that no longer fits.
"""

from __future__ import annotations

from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture
from archspace.families import FAMILIES, get_family
from archspace.families.base import Family
from archspace.families.layers import LayerConfig
from archspace.families.resized.spec import ResizedInput


@FAMILIES.register("resized")
class ResizedFamily(Family):
    """Any family's network on inputs resized to the spec's resolution."""

    kind = "resized"
    spec_class = ResizedInput

    def __init__(self, **inner_options: Any) -> None:
        self.inner_options = dict(inner_options)

    def options(self) -> dict[str, Any]:
        return dict(self.inner_options)

    def inner(self, arch: ResizedInput) -> Family:
        """The family of the wrapped spec, with this family's options."""
        return get_family(arch.arch.kind, **self.inner_options)

    def validate(self, arch: Any) -> ResizedInput:
        if not isinstance(arch, ResizedInput):
            raise InvalidArchitecture("kind", f"the resized family takes resized specs, got {type(arch).__name__}")
        inner = self.inner(arch)
        inner.validate(arch.arch)
        inner.cost(arch.arch, arch.resolution, 10, 3)  # raises when the resolution is below the net's minimum
        return arch

    def cost(self, arch: ResizedInput, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return self.inner(arch).cost(arch.arch, arch.resolution, num_classes, in_channels)

    def complexity(self, arch: ResizedInput, resolution: int | None = None, num_classes: int | None = None,
                   in_channels: int | None = None) -> Complexity:
        """The inner network's cost at ``arch.resolution`` (validated; costed once)."""
        if not isinstance(arch, ResizedInput):
            self.validate(arch)  # raises naming the kind
        inner = self.inner(arch)
        inner.validate(arch.arch)
        return inner.cost(arch.arch, **inner.input_spec(arch.resolution, num_classes, in_channels))

    def layer_sequence(self, arch: ResizedInput, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        arch = self.validate(arch)
        return self.inner(arch).layer_sequence(arch.arch, num_classes, in_channels)

    def feature_sequence(self, arch: ResizedInput, **options: Any) -> list[LayerConfig]:
        arch = self.validate(arch)
        return self.inner(arch).feature_sequence(arch.arch, **options)

    def build(self, arch: ResizedInput, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.resized.modules import build_resized

        arch = self.validate(arch)
        return build_resized(self.inner(arch).build(arch.arch, num_classes, in_channels), arch.resolution)
