"""The Family contract: the one description of a network kind.

A family owns a spec class and one torch-free table (stems, blocks, ops, edges); from that table
it derives the validation, the analytic cost, the layer sequence and the torch module of a spec.
Family *options* are what a spec alone does not say about its network (NAS-Bench-201's channels
and cells per stage); a spec plus its family options rebuilds exactly one network. Spaces sample
and constrain specs and hand cost and building to their family.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from archspace.arch import ArchSpec
from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.layers import LayerConfig


def positive_option(value: Any, name: str) -> int:
    """A family option that must be an integer >= 1 (numpy integers accepted); ``UsageError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class Family(ABC):
    """Base class of every network family; subclasses register with ``archspace.families.FAMILIES``."""

    kind: ClassVar[str] = ""
    spec_class: ClassVar[type[ArchSpec]]
    # Input the family's networks were designed for: resolution, num_classes, in_channels.
    default_input: ClassVar[dict[str, int]] = {"resolution": 224, "num_classes": 1000, "in_channels": 3}

    def options(self) -> dict[str, Any]:
        """The family options (JSON values) that, with a spec, determine the network."""
        return {}

    def input_shape(self, resolution: int, in_channels: int) -> tuple[int, ...]:
        """Shape of one input example: ``(C, H, W)`` for images; video families add frames."""
        return (in_channels, resolution, resolution)

    @abstractmethod
    def validate(self, arch: ArchSpec) -> ArchSpec:
        """``arch`` if the family can build it; ``InvalidArchitecture`` naming the field otherwise."""

    @abstractmethod
    def cost(self, arch: ArchSpec, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        """Analytic flops / params / acts of a spec already validated (the hot path, no checks)."""

    def complexity(self, arch: ArchSpec, resolution: int | None = None, num_classes: int | None = None,
                   in_channels: int | None = None) -> Complexity:
        """Analytic flops / params / acts of ``build(arch)`` on one image (validated first)."""
        return self.cost(self.validate(arch), **self.input_spec(resolution, num_classes, in_channels))

    def complexity_many(self, archs: Sequence[ArchSpec], validate: bool = True, **input_spec: Any) -> list[Complexity]:
        """Complexity of many specs; families override this with a batched computation.

        ``validate=False`` skips validation, for specs a space has just drawn (valid by construction).
        """
        spec = self.input_spec(**input_spec)
        return [self.cost(self.validate(arch) if validate else arch, **spec) for arch in archs]

    @abstractmethod
    def layer_sequence(self, arch: ArchSpec, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        """Every layer of ``build(arch)`` in forward order."""

    def feature_sequence(self, arch: ArchSpec, **options: Any) -> list[LayerConfig]:
        """The layer sequence the learned kernel reads (by default the full one)."""
        return self.layer_sequence(arch, **options)

    @abstractmethod
    def build(self, arch: ArchSpec, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        """A ``torch.nn.Module`` for ``arch`` (torch is imported only here)."""

    def input_spec(self, resolution: int | None = None, num_classes: int | None = None,
                   in_channels: int | None = None) -> Mapping[str, int]:
        """The given input sizes, the family's defaults for those left out, each checked >= 1."""
        if resolution is None and num_classes is None and in_channels is None:
            return MappingProxyType(self.default_input)  # read-only view: no copy on the hot path
        out = dict(self.default_input)
        for key, value in (("resolution", resolution), ("num_classes", num_classes), ("in_channels", in_channels)):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                    raise InvalidArchitecture(key, f"must be an integer >= 1, got {value!r}")
                out[key] = value
        return out

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({options})"
