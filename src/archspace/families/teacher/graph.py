"""The shape walk of a teacher graph: validation, analytic cost and per-node shapes in one pass.

Every node's input is the sum of the nodes it reads, so they must agree in (channels, height,
width); a conv's groups must divide its input and output channels; a window must fit its input;
the last node must be the linear classifier. The walk raises ``InvalidArchitecture`` naming the
node and field of the first violation, and otherwise advances the ``archspace.complexity.counts``
functions row by row of ``table.LAYER_KINDS`` (the cost convention of the whole package).
"""

from __future__ import annotations

from dataclasses import dataclass

from archspace.complexity import counts
from archspace.complexity.counts import Complexity, CostTracker
from archspace.errors import InvalidArchitecture
from archspace.families.teacher.spec import GraphLayer, TeacherGraph
from archspace.families.teacher.table import LAYER_KINDS, NETWORK_INPUT

Shape = tuple[int, int, int]  # channels, height, width (a linear output is (c, 1, 1))


@dataclass(frozen=True)
class Walk:
    """The input shape each node reads, the shape it outputs, and the network's cost."""

    in_shapes: tuple[Shape, ...]
    out_shapes: tuple[Shape, ...]
    cost: Complexity


def _fail(index: int, field: str, message: str) -> InvalidArchitecture:
    return InvalidArchitecture(f"layers[{index}].{field}", message)


def _input_shape(layer: GraphLayer, index: int, shapes: list[Shape], image: Shape) -> Shape:
    first = layer.inputs[0]
    shape = image if first == NETWORK_INPUT else shapes[first]
    for source in layer.inputs[1:]:
        other = image if source == NETWORK_INPUT else shapes[source]
        if other != shape:
            raise _fail(index, "inputs", f"sums node {first} of shape {list(shape)} with node {source} of shape "
                                         f"{list(other)}: summed inputs must have equal shapes")
    return shape


def _windowed(layer: GraphLayer, index: int, shape: Shape) -> tuple[int, int]:
    _, height, width = shape
    if layer.kind != "conv" and 2 * layer.padding > layer.kernel:
        raise _fail(index, "padding", f"must be <= kernel / 2 for pooling, got {layer.padding} with kernel {layer.kernel}")
    out_h = counts.out_size(height, layer.kernel, layer.stride, layer.padding)
    out_w = counts.out_size(width, layer.kernel, layer.stride, layer.padding)
    if out_h < 1 or out_w < 1:
        raise _fail(index, "kernel", f"a {layer.kernel}x{layer.kernel} window (stride {layer.stride}, padding "
                                     f"{layer.padding}) does not fit its {height}x{width} input")
    return out_h, out_w


def walk_graph(graph: TeacherGraph, resolution: int, num_classes: int, in_channels: int) -> Walk:
    """Shapes and cost of ``graph`` on one ``in_channels`` x ``resolution``^2 image (checked)."""
    image: Shape = (in_channels, resolution, resolution)
    cx = CostTracker(resolution, resolution)
    ins: list[Shape] = []
    outs: list[Shape] = []
    last = len(graph.layers) - 1
    for index, layer in enumerate(graph.layers):
        row = LAYER_KINDS[layer.kind]
        shape = _input_shape(layer, index, outs, image)
        channels, height, width = shape
        cx.height, cx.width = height, width
        if row.flattens:
            c_out = layer.width or num_classes
            counts.linear(cx, channels * height * width, c_out, bias=row.bias)
            out: Shape = (c_out, 1, 1)
        elif row.has_width:
            if channels % layer.groups or layer.width % layer.groups:
                raise _fail(index, "groups", f"{layer.groups} groups must divide the input channels {channels} "
                                             f"and the width {layer.width}")
            _windowed(layer, index, shape)
            counts.conv2d(cx, channels, layer.width, layer.kernel, stride=layer.stride, groups=layer.groups,
                          bias=row.bias, padding=layer.padding)
            if row.batchnorm:
                counts.batchnorm2d(cx, layer.width)
            out = (layer.width, cx.height, cx.width)
        elif row.windowed:
            _windowed(layer, index, shape)
            if row.pool == "max":
                counts.maxpool2d(cx, channels, layer.kernel, layer.stride, padding=layer.padding)
            else:
                counts.avgpool2d(cx, layer.kernel, layer.stride, padding=layer.padding)
            out = (channels, cx.height, cx.width)
        elif row.global_pool:
            out = (channels, 1, 1)
        else:  # add: the sum itself
            out = shape
        ins.append(shape)
        outs.append(out)
    final = graph.layers[last]
    if final.kind != "linear":
        raise _fail(last, "kind", f"the last node must be the linear classifier, got {final.kind!r}")
    if final.width not in (0, num_classes):
        raise _fail(last, "width", f"the classifier must output num_classes={num_classes} (or 0), got {final.width}")
    return Walk(tuple(ins), tuple(outs), cx.result())


def graph_cost(graph: TeacherGraph, resolution: int, num_classes: int, in_channels: int) -> Complexity:
    """flops / params / acts of ``graph`` (checked as it goes)."""
    return walk_graph(graph, resolution, num_classes, in_channels).cost
