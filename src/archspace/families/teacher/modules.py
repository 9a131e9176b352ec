"""The torch module of a teacher graph, built node by node from ``table.LAYER_KINDS``.

Each node is one ``nn.Sequential`` (conv + BN [+ ReLU], linear [+ ReLU], a pool, a global pool,
or nothing for an add) applied to the sum of its inputs; ``graph.walk_graph`` gives the input
channels, so module, cost and layer sequence come from the same rows and shapes.
"""

from __future__ import annotations

import torch
from torch import nn

from archspace.families.teacher.graph import walk_graph
from archspace.families.teacher.spec import GraphLayer, TeacherGraph
from archspace.families.teacher.table import LAYER_KINDS, NETWORK_INPUT


def node_module(layer: GraphLayer, c_in: int, flat_in: int, num_classes: int) -> nn.Sequential:
    """The operation of one node (its input channels ``c_in``; ``flat_in`` for a linear)."""
    row = LAYER_KINDS[layer.kind]
    parts: list[nn.Module] = []
    if row.flattens:
        parts += [nn.Flatten(), nn.Linear(flat_in, layer.width or num_classes, bias=row.bias)]
    elif row.has_width:
        parts.append(nn.Conv2d(c_in, layer.width, layer.kernel, stride=layer.stride, padding=layer.padding,
                               groups=layer.groups, bias=row.bias))
        if row.batchnorm:
            parts.append(nn.BatchNorm2d(layer.width))
    elif row.pool == "max":
        parts.append(nn.MaxPool2d(layer.kernel, stride=layer.stride, padding=layer.padding))
    elif row.pool == "avg":
        parts.append(nn.AvgPool2d(layer.kernel, stride=layer.stride, padding=layer.padding))
    elif row.global_pool:
        parts.append(nn.AdaptiveAvgPool2d(1))
    if layer.relu:
        parts.append(nn.ReLU())
    return nn.Sequential(*parts)


class TeacherNetwork(nn.Module):
    """Runs the nodes in order; each reads the sum of its inputs (``-1``: the image)."""

    def __init__(self, graph: TeacherGraph, num_classes: int = 10, in_channels: int = 3, resolution: int = 32) -> None:
        super().__init__()
        shapes = walk_graph(graph, resolution, num_classes, in_channels).in_shapes
        self.inputs = [layer.inputs for layer in graph.layers]
        self.nodes = nn.ModuleList(
            node_module(layer, c, c * h * w, num_classes) for layer, (c, h, w) in zip(graph.layers, shapes, strict=True))
        last_use: dict[int, int] = {}
        for index, inputs in enumerate(self.inputs):
            for source in inputs:
                last_use[source] = index
        # outputs no later node reads are dropped as soon as possible (keeps peak memory low)
        self.release = [tuple(s for s in inputs if last_use.get(s) == index and s != NETWORK_INPUT)
                        for index, inputs in enumerate(self.inputs)]
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs: dict[int, torch.Tensor] = {NETWORK_INPUT: x}
        out = x
        for index, node in enumerate(self.nodes):
            sources = self.inputs[index]
            total = outputs[sources[0]]
            for source in sources[1:]:
                total = total + outputs[source]
            out = node(total)
            outputs[index] = out
            for source in self.release[index]:
                del outputs[source]
        return out


def _init_weights(model: nn.Module) -> None:
    """He-normal (fan-out) convs, unit BN, small-normal linear layers."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.01)
            nn.init.zeros_(module.bias)


def inherit_weights(student: TeacherNetwork, student_graph: TeacherGraph, teacher: TeacherNetwork,
                    teacher_graph: TeacherGraph) -> int:
    """Copy into each student node the teacher weights of its ``origin`` node, cropped to the
    student's shape (the leading filters / input channels, as in shrinking by removing the last
    filters); returns how many tensors were copied. Nodes whose shapes cannot be cropped into
    (more channels than the teacher's, other kernel) keep their fresh initialization."""
    copied = 0
    teacher_params = [dict(node.named_parameters()) | dict(node.named_buffers()) for node in teacher.nodes]
    with torch.no_grad():
        for index, layer in enumerate(student_graph.layers):
            origin = layer.origin
            if not 0 <= origin < len(teacher_graph.layers) or teacher_graph.layers[origin].kind != layer.kind:
                continue
            source = teacher_params[origin]
            for name, target in list(student.nodes[index].named_parameters()) + list(student.nodes[index].named_buffers()):
                weight = source.get(name)
                if weight is None or weight.dim() != target.dim():
                    continue
                if any(t > s for t, s in zip(target.shape, weight.shape, strict=True)):
                    continue
                target.copy_(weight[tuple(slice(0, t) for t in target.shape)] if target.dim() else weight)
                copied += 1
    return copied
