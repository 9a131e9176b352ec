"""Teachers as layer graphs: the AnyNet/ResNet zoo, CIFAR ResNets, VGG-style stacks, layer lists.

Every converter returns a ``TeacherGraph`` whose nodes carry ``origin = index`` (a teacher is its
own origin). A teacher archspace cannot describe node by node (an SE block, an unknown layer
kind) is refused with ``InvalidArchitecture`` naming the layer and why. Torch-free: the teacher
space imports this module to resolve a teacher by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.anynet.spec import AnyNetArch
from archspace.families.anynet.table import BLOCKS, STEM_MAX_POOL, STEMS, width_symbols
from archspace.families.teacher.spec import GraphLayer, TeacherGraph, layer_from_dict
from archspace.families.teacher.table import NETWORK_INPUT


class GraphBuilder:
    """Appends nodes (each an own origin) and returns their indices."""

    def __init__(self) -> None:
        self.layers: list[GraphLayer] = []

    def add(self, kind: str, inputs: Sequence[int], **fields: Any) -> int:
        index = len(self.layers)
        self.layers.append(GraphLayer(kind, tuple(inputs), origin=index, **fields))
        return index

    def conv(self, source: int, width: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True) -> int:
        return self.add("conv", (source,), width=width, kernel=kernel, stride=stride, padding=kernel // 2,
                        groups=groups, relu=relu)

    def head(self, source: int, hidden: Sequence[int] = ()) -> TeacherGraph:
        out = self.add("global_pool", (source,))
        for width in hidden:
            out = self.add("linear", (out,), width=width, relu=True)
        self.add("linear", (out,))
        return TeacherGraph(tuple(self.layers))


def residual_block(b: GraphBuilder, source: int, w_in: int, w_out: int, stride: int) -> int:
    """A basic residual block: conv-BN-ReLU, conv-BN, projection shortcut when the shape changes, add-ReLU."""
    first = b.conv(source, w_out, 3, stride)
    second = b.conv(first, w_out, 3, relu=False)
    shortcut = b.conv(source, w_out, 1, stride, relu=False) if (w_in != w_out or stride != 1) else source
    return b.add("add", (second, shortcut), relu=True)


def resnet_cifar(depth: int = 20, width: int = 16) -> TeacherGraph:
    """He et al.'s CIFAR ResNet-``depth`` (6n + 2 layers; 3 stages of width w, 2w, 4w; 1x1
    projection shortcuts where the shape changes, as the zoo's ``resnet20_cifar``)."""
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise UsageError(f"a CIFAR ResNet has depth 6n + 2 >= 8, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise UsageError(f"width must be an integer >= 1, got {width!r}")
    b = GraphBuilder()
    out, w_in = b.conv(NETWORK_INPUT, width, 3), width
    for stage in range(3):
        w_out = width * 2**stage
        for block in range((depth - 2) // 6):
            out = residual_block(b, out, w_in, w_out, 2 if stage and not block else 1)
            w_in = w_out
    return b.head(out)


def vgg(config: Sequence[int | str] = (16, "M", 32, "M", 64, 64, "M"), hidden: Sequence[int] = ()) -> TeacherGraph:
    """A VGG-style stack: integers are 3x3 conv-BN-ReLU widths, ``"M"`` a 2x2 max-pool; then a
    global average pool, optional hidden linear layers, and the classifier."""
    b = GraphBuilder()
    out = NETWORK_INPUT
    for index, item in enumerate(config):
        if item == "M":
            out = b.add("max_pool", (out,), kernel=2, stride=2)
        elif isinstance(item, int) and not isinstance(item, bool) and item >= 1:
            out = b.conv(out, item, 3)
        else:
            raise UsageError(f"VGG config item {index} must be a width >= 1 or 'M', got {item!r}")
    if out == NETWORK_INPUT:
        raise UsageError("a VGG config needs at least one layer")
    return b.head(out, hidden)


def from_anynet(arch: AnyNetArch) -> TeacherGraph:
    """The layer graph of an AnyNet spec (V/R/X blocks; what ``AnyNetFamily.build`` builds)."""
    if arch.se_ratio > 0 and BLOCKS[arch.block].se_after is not None:
        raise InvalidArchitecture("stages[0].block[0]", f"layer {BLOCKS[arch.block].se_after + 1} of every "
                                  f"{arch.block} block is followed by a squeeze-excitation gate (channels rescaled by "
                                  "a sigmoid of a pooled branch): no row of the teacher layer table describes it")
    if BLOCKS[arch.block].se_after is not None:
        arch = replace(arch, block="X")  # a Y block with se_ratio 0 is an X block
    b = GraphBuilder()
    stem = STEMS[arch.stem]
    out = b.conv(NETWORK_INPUT, arch.stem_width, stem.kernel, stem.stride)
    if stem.max_pool:
        kernel, stride, padding = STEM_MAX_POOL
        out = b.add("max_pool", (out,), kernel=kernel, stride=stride, padding=padding)
    w_in, row = arch.stem_width, BLOCKS[arch.block]
    for stage in arch.stages:
        for block in range(stage.depth):
            stride = stage.stride if block == 0 else 1
            widths = width_symbols(w_in, stage.width, stage.bottleneck_width)
            source = out
            for index, conv in enumerate(row.convs):
                last = index == len(row.convs) - 1
                out = b.conv(out, widths[conv.w_out], conv.kernel, stride if conv.strided else 1,
                             stage.groups if conv.grouped else 1, relu=not last or not row.residual)
            if row.residual:
                shortcut = source
                if w_in != stage.width or stride != 1:
                    shortcut = b.conv(source, stage.width, 1, stride, relu=False)
                out = b.add("add", (out, shortcut), relu=True)
            w_in = stage.width
    if arch.head_width > 0:
        out = b.conv(out, arch.head_width, 1)
    return b.head(out)


def resnet18() -> TeacherGraph:
    """torchvision's ResNet-18 (7x7 stem + max-pool, 4 stages of 2 basic blocks, 64..512 wide)."""
    return from_anynet(AnyNetArch.from_lists([2, 2, 2, 2], [64, 128, 256, 512], [1, 2, 2, 2], block="R",
                                             stem="res_stem_in", stem_width=64))


def from_layers(layers: Sequence[Any]) -> TeacherGraph:
    """A user's network given as a list of layer dicts (``kind``, ``width``, ``kernel``, ...).

    ``inputs`` defaults to the previous layer (-1 for the first), ``padding`` to kernel // 2 for
    a conv, and ``origin`` is set to the layer's index.
    """
    if isinstance(layers, (str, bytes, dict)) or not isinstance(layers, Sequence) or not layers:
        raise InvalidArchitecture("layers", "must be a non-empty list of layer objects")
    nodes = []
    for index, item in enumerate(layers):
        if not isinstance(item, dict):
            raise InvalidArchitecture(f"layers[{index}]", f"must be an object, got {type(item).__name__}")
        data = {"inputs": [index - 1], **item}
        if data.get("kind") == "conv" and "padding" not in data:
            kernel = data.get("kernel", 1)
            data["padding"] = kernel // 2 if isinstance(kernel, int) else 0
        data.setdefault("origin", index)
        if data["origin"] != index:
            raise InvalidArchitecture(f"layers[{index}].origin", "a teacher's layers are their own origin")
        nodes.append(layer_from_dict(data, index))
    return TeacherGraph(tuple(nodes))


TEACHERS = {
    "resnet18": resnet18,
    "resnet20": lambda: resnet_cifar(20),
    "resnet56": lambda: resnet_cifar(56),
    "resnet8": lambda: resnet_cifar(8),
    "vgg-small": vgg,
    "vgg11": lambda: vgg((64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M")),
}


def teacher_names() -> list[str]:
    return sorted(TEACHERS)


def resolve_teacher(teacher: str | dict | list | TeacherGraph) -> TeacherGraph:
    """A teacher graph from a name (``teacher_names()`` or a model-zoo name), a graph dict
    (``TeacherGraph.to_dict()``), a layer list, or a graph."""
    if isinstance(teacher, TeacherGraph):
        graph = teacher
    elif isinstance(teacher, dict):
        graph = TeacherGraph.from_dict(teacher)
    elif isinstance(teacher, list):
        graph = from_layers(teacher)
    elif isinstance(teacher, str):
        key = teacher.strip().lower()
        if key in TEACHERS:
            graph = TEACHERS[key]()
        else:
            from archspace.spaces.zoo import get_model

            try:
                arch = get_model(key)
            except UsageError:
                raise UsageError(f"unknown teacher {teacher!r}; known: {teacher_names()} or a model-zoo name "
                                 "(`archspace models`), a graph JSON or a layer list") from None
            graph = from_anynet(arch)
    else:
        raise UsageError(f"a teacher is a name, a graph dict or a layer list, got {type(teacher).__name__}")
    for index, layer in enumerate(graph.layers):
        if layer.origin != index:
            raise InvalidArchitecture(f"layers[{index}].origin", "a teacher's layers are their own origin")
    return graph
