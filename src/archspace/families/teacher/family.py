"""``TeacherFamily``: layer-graph networks (spec kind ``teacher``) — teachers and the candidates
compressed from them. Cost, layer sequence and module all come from ``graph.walk_graph`` over
``table.LAYER_KINDS``. Family options: ``resolution`` and ``in_channels``, the input the module is
built for and validated at (a linear that flattens a feature map depends on the size; a sum that
reads the image, on its channels); the aligned feature sequence also needs ``teacher_length``."""

from __future__ import annotations

from typing import Any

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import FAMILIES
from archspace.families.base import Family
from archspace.families.layers import LayerConfig
from archspace.families.teacher.graph import graph_cost, walk_graph
from archspace.families.teacher.layers import (
    FEATURE_RESOLUTION,
    aligned_sequence,
    graph_layer_sequence,
)
from archspace.families.teacher.spec import TeacherGraph


@FAMILIES.register("teacher")
class TeacherFamily(Family):
    """Networks given as layer graphs: nodes summing their inputs, convs, pools, linears."""

    kind = "teacher"
    spec_class = TeacherGraph
    default_input = {"resolution": 32, "num_classes": 10, "in_channels": 3}

    def __init__(self, resolution: int = 32, in_channels: int = 3) -> None:
        for name, value in (("resolution", resolution), ("in_channels", in_channels)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        self.resolution = resolution
        self.in_channels = in_channels
        self.default_input = {**type(self).default_input, "resolution": resolution, "in_channels": in_channels}

    def options(self) -> dict[str, Any]:
        return {"resolution": self.resolution, "in_channels": self.in_channels}

    def validate(self, arch: Any) -> TeacherGraph:
        if not isinstance(arch, TeacherGraph):
            raise InvalidArchitecture("kind", f"expected a teacher graph, got {type(arch).__name__}")
        spec = self.default_input
        walk_graph(arch, spec["resolution"], spec["num_classes"], spec["in_channels"])
        return arch

    def cost(self, arch: TeacherGraph, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return graph_cost(arch, resolution, num_classes, in_channels)

    def layer_sequence(self, arch: TeacherGraph, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return graph_layer_sequence(self.validate(arch), spec["resolution"], spec["num_classes"], spec["in_channels"])

    def feature_sequence(self, arch: TeacherGraph, teacher_length: int | None = None, num_classes: int = 10,
                         in_channels: int | None = None, **_: Any) -> list[LayerConfig]:
        """The learned kernel's view: aligned to the teacher (``teacher_length`` rows) when given."""
        resolution = self.resolution or FEATURE_RESOLUTION
        in_channels = in_channels or self.in_channels
        if teacher_length is None:
            return graph_layer_sequence(arch, resolution, num_classes, in_channels)
        return aligned_sequence(arch, teacher_length, resolution, num_classes, in_channels)

    def build(self, arch: TeacherGraph, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.teacher.modules import TeacherNetwork

        spec = self.input_spec(None, num_classes, in_channels)
        return TeacherNetwork(self.validate(arch), num_classes=spec["num_classes"], in_channels=spec["in_channels"],
                              resolution=spec["resolution"])
