"""Teacher-graph specs (kind ``teacher``): a network as a list of layer nodes in forward order.

A ``GraphLayer`` names its kind (a row of ``table.LAYER_KINDS``), the nodes it reads (their
outputs are summed; ``-1`` is the network input), and its shape parameters; ``origin`` is the
index of the teacher layer it derives from (what weight inheritance and the aligned kernel
features use; -1 for a layer of no teacher). A teacher and every candidate compressed from it
(layer removal, shrinkage, added skips) are ``TeacherGraph`` specs; the last node is the output.
Field types are checked here; shapes (matching sums, divisible groups) by the family.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archspace.arch import ArchSpec, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.teacher.table import KIND_NAMES, LAYER_KINDS, NETWORK_INPUT


def _int(value: Any, field: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArchitecture(field, f"must be an integer >= {low}, got {value!r}")
    return value


@dataclass(frozen=True)
class GraphLayer:
    """One node: ``kind``, the nodes it sums (``inputs``), width (0 on a linear: num_classes)."""

    kind: str
    inputs: tuple[int, ...]
    width: int = 0
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    relu: bool = False
    origin: int = -1

    def check(self, index: int) -> None:
        """``InvalidArchitecture`` naming ``layers[index].<field>`` for a malformed field."""
        where = f"layers[{index}]"
        if self.kind not in LAYER_KINDS:
            raise InvalidArchitecture(f"{where}.kind", f"unknown layer kind {self.kind!r}; known: {list(KIND_NAMES)}")
        row = LAYER_KINDS[self.kind]
        if not isinstance(self.inputs, tuple) or not self.inputs:
            raise InvalidArchitecture(f"{where}.inputs", "must list at least one earlier node (-1 = network input)")
        for source in self.inputs:
            if isinstance(source, bool) or not isinstance(source, int) or not NETWORK_INPUT <= source < index:
                raise InvalidArchitecture(f"{where}.inputs",
                                          f"must be indices of earlier nodes or -1, got {source!r}")
        if len(set(self.inputs)) != len(self.inputs):
            raise InvalidArchitecture(f"{where}.inputs", f"lists a node twice: {list(self.inputs)}")
        _int(self.width, f"{where}.width", 1 if row.has_width and self.kind != "linear" else 0)
        for name, low in (("kernel", 1), ("stride", 1), ("padding", 0), ("groups", 1)):
            _int(getattr(self, name), f"{where}.{name}", low)
        if not isinstance(self.relu, bool):
            raise InvalidArchitecture(f"{where}.relu", f"must be true or false, got {self.relu!r}")
        if self.relu and not row.may_relu:
            raise InvalidArchitecture(f"{where}.relu", f"a {self.kind} layer takes no ReLU")
        _int(self.origin, f"{where}.origin", -1)


@register_kind
@dataclass(frozen=True)
class TeacherGraph(ArchSpec):
    """A teacher network or one of its compressed candidates: nodes in forward order."""

    kind = "teacher"
    layers: tuple[GraphLayer, ...]

    def __post_init__(self) -> None:
        if isinstance(self.layers, (str, bytes)) or not isinstance(self.layers, Sequence) or not self.layers:
            raise InvalidArchitecture("layers", "must be a non-empty list of layer nodes")
        object.__setattr__(self, "layers", tuple(self.layers))
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, GraphLayer):
                raise InvalidArchitecture(f"layers[{index}]", f"must be a layer node, got {type(layer).__name__}")
            layer.check(index)

    @classmethod
    def trusted(cls, layers: tuple[GraphLayer, ...]) -> TeacherGraph:
        """A graph of nodes built by archspace itself from checked ones (skips the field checks;
        the hot path of sampling candidates). Shapes are still the family's to check."""
        graph = object.__new__(cls)
        object.__setattr__(graph, "layers", layers)
        return graph

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> TeacherGraph:
        raw = data.get("layers")
        if not isinstance(raw, (list, tuple)) or not raw:
            raise InvalidArchitecture("layers", "must be a non-empty list of layer objects")
        return cls(tuple(layer_from_dict(item, index) for index, item in enumerate(raw)))

    def __len__(self) -> int:
        return len(self.layers)


_FIELDS = ("kind", "inputs", "width", "kernel", "stride", "padding", "groups", "relu", "origin")


def layer_from_dict(item: Any, index: int) -> GraphLayer:
    """A node from a plain dict (``inputs`` a list); unknown fields are named in the error."""
    if isinstance(item, GraphLayer):
        return item
    if not isinstance(item, dict):
        raise InvalidArchitecture(f"layers[{index}]", f"must be an object, got {type(item).__name__}")
    unknown = sorted(set(item) - set(_FIELDS))
    if unknown:
        raise InvalidArchitecture(f"layers[{index}].{unknown[0]}", f"unknown field; allowed: {list(_FIELDS)}")
    if "kind" not in item or "inputs" not in item:
        raise InvalidArchitecture(f"layers[{index}]", "needs 'kind' and 'inputs'")
    inputs = item["inputs"]
    if not isinstance(inputs, (list, tuple)):
        raise InvalidArchitecture(f"layers[{index}].inputs", f"must be a list of node indices, got {inputs!r}")
    layer = GraphLayer(**{**item, "inputs": tuple(inputs)})
    layer.check(index)
    return layer
