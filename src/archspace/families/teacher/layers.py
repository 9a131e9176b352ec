"""The layer sequence of a teacher graph (one ``LayerConfig`` per node), and its teacher-aligned
form for the learned kernel (candidates of one teacher all give sequences of the teacher's length)."""

from __future__ import annotations

from archspace.families.layers import LayerConfig
from archspace.families.teacher.graph import walk_graph
from archspace.families.teacher.spec import TeacherGraph
from archspace.families.teacher.table import LAYER_KINDS, NETWORK_INPUT

FEATURE_RESOLUTION = 32  # spatial size the kernel's sequences are read at (shapes only gate validity)


def _config(graph: TeacherGraph, index: int, c_in: int, c_out: int, inputs: tuple[int, ...]) -> LayerConfig:
    layer = graph.layers[index]
    row = LAYER_KINDS[layer.kind]
    if row.windowed:
        return LayerConfig(row.layer_type, layer.kernel, layer.stride, layer.padding, layer.groups, c_in, c_out, inputs)
    return LayerConfig(row.layer_type, c_in=c_in, c_out=c_out, inputs=inputs)


def graph_layer_sequence(graph: TeacherGraph, resolution: int, num_classes: int, in_channels: int) -> list[LayerConfig]:
    """Every node in forward order; a linear's ``c_in`` is its flattened input size."""
    result = walk_graph(graph, resolution, num_classes, in_channels)
    out = []
    for index, layer in enumerate(graph.layers):
        channels, height, width = result.in_shapes[index]
        c_in = channels * height * width if LAYER_KINDS[layer.kind].flattens else channels
        inputs = tuple(i for i in layer.inputs if i != NETWORK_INPUT)
        out.append(_config(graph, index, c_in, result.out_shapes[index][0], inputs))
    return out


def aligned_sequence(graph: TeacherGraph, teacher_length: int, resolution: int, num_classes: int,
                     in_channels: int) -> list[LayerConfig]:
    """One row per teacher layer: a candidate's node at its ``origin``, an identity where the
    teacher layer was removed; edges re-indexed to teacher positions (so added skips show)."""
    layers = graph_layer_sequence(graph, resolution, num_classes, in_channels)
    position = {i: layer.origin for i, layer in enumerate(graph.layers)}
    rows: list[LayerConfig | None] = [None] * teacher_length
    for index, config in enumerate(layers):
        origin = position[index]
        if 0 <= origin < teacher_length:
            rows[origin] = LayerConfig(config.type, config.kernel, config.stride, config.padding, config.groups,
                                       config.c_in, config.c_out, tuple(sorted(position[i] for i in config.inputs)))
    out = []
    for index, row in enumerate(rows):
        if row is None:
            previous = out[index - 1].c_out if index else 0
            row = LayerConfig("identity", c_in=previous, c_out=previous, inputs=(index - 1,) if index else ())
        out.append(row)
    return out
