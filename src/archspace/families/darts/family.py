"""``DartsFamily``: the reference DARTS macro network around one genotype (spec kind ``darts``).

Family options: ``channels`` (C, even: factorized reduce halves it), ``layers`` (cells; reductions
at ``layers // 3`` and ``2 * layers // 3``), ``auxiliary`` (the CIFAR auxiliary head after cell
``2 * layers // 3``; its parameters count, it runs in training only) and ``drop_path_prob``
(training only). The reference evaluation network is C = 36, 20 layers: DARTS_V2 has 3,349,342
parameters without the auxiliary head (what the reference ``count_parameters_in_MB`` reports).
"""

from __future__ import annotations

from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import FAMILIES
from archspace.families.base import Family, positive_option
from archspace.families.darts.cost import check_input, network_cost
from archspace.families.darts.layers import darts_layer_sequence
from archspace.families.darts.spec import DartsGenotype
from archspace.families.layers import LayerConfig


@FAMILIES.register("darts")
class DartsFamily(Family):
    """Stem (3C), ``layers`` DARTS cells with two reductions, global pool, classifier."""

    kind = "darts"
    spec_class = DartsGenotype
    default_input = {"resolution": 32, "num_classes": 10, "in_channels": 3}

    def __init__(self, channels: int = 36, layers: int = 20, auxiliary: bool = False,
                 drop_path_prob: float = 0.0) -> None:
        self.channels = positive_option(channels, "channels")
        if self.channels % 2:
            raise UsageError(f"channels must be even (factorized reduce halves them), got {channels}")
        self.layers = positive_option(layers, "layers")
        if not isinstance(auxiliary, bool):
            raise UsageError(f"auxiliary must be true or false, got {auxiliary!r}")
        self.auxiliary = auxiliary
        if not 0.0 <= float(drop_path_prob) < 1.0:
            raise UsageError(f"drop_path_prob must be in [0, 1), got {drop_path_prob!r}")
        self.drop_path_prob = float(drop_path_prob)

    def options(self) -> dict[str, Any]:
        return {"channels": self.channels, "layers": self.layers, "auxiliary": self.auxiliary,
                "drop_path_prob": self.drop_path_prob}

    def validate(self, arch: Any) -> DartsGenotype:
        if not isinstance(arch, DartsGenotype):
            raise InvalidArchitecture("kind", f"expected a darts genotype, got {type(arch).__name__}")
        return arch

    def check_input(self, resolution: int) -> None:
        """``InvalidArchitecture('resolution', ...)`` if the network cannot run at ``resolution``."""
        check_input(self.layers, self.auxiliary, resolution)

    def cost(self, arch: DartsGenotype, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return network_cost(arch, self.channels, self.layers, self.auxiliary, resolution, num_classes, in_channels)

    def layer_sequence(self, arch: DartsGenotype, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return darts_layer_sequence(self.validate(arch), self.channels, self.layers, spec["num_classes"],
                                    spec["in_channels"])

    def build(self, arch: DartsGenotype, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.darts.modules import DartsNetwork

        spec = self.input_spec(None, num_classes, in_channels)
        return DartsNetwork(self.validate(arch), self.channels, self.layers, spec["num_classes"],
                            spec["in_channels"], self.auxiliary, self.drop_path_prob)
