"""Attention-cell specs (torch-free): ops, cells, and networks with cells inserted into a backbone.

``AttentionCell`` (kind ``attention_cell``) is the searched object; ``AttentionNet`` (kind
``attention_net``) is a backbone spec (AnyNet for images, R3D for video) with a cell -- or a
squeeze-excitation block, or nothing -- inserted after chosen stages. Everything that does not
depend on the input size is validated here; the family checks the rest (e.g. temporal attention
on images).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspace.arch import ArchSpec, arch_from_dict, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.attention.table import (
    ACTIVATIONS,
    DIMENSIONS,
    INNER_DIVISORS,
    KV_SOURCES,
    MAX_OPS,
    OP_DIVISORS,
    TYPES,
)


def _choice(value: Any, allowed: tuple, field: str) -> None:
    if isinstance(value, bool) or value not in allowed:
        raise InvalidArchitecture(field, f"must be one of {list(allowed)}, got {value!r}")


@dataclass(frozen=True)
class AttentionOp:
    """One attention operation and the cell nodes it reads (0 = the cell input f0)."""

    dimension: str = "spatial"
    type: str = "dot"
    activation: str = "softmax"
    gating: bool = False
    inputs: tuple[int, ...] = (0,)


def validate_op(op: Any, index: int) -> None:
    """Raise ``InvalidArchitecture`` naming ``ops[index].<field>`` for a bad op (0-based index)."""
    where = f"ops[{index}]"
    if not isinstance(op, AttentionOp):
        raise InvalidArchitecture(where, f"must be an AttentionOp, got {type(op).__name__}")
    _choice(op.dimension, DIMENSIONS, f"{where}.dimension")
    _choice(op.type, TYPES, f"{where}.type")
    _choice(op.activation, ACTIVATIONS, f"{where}.activation")
    if not isinstance(op.gating, bool):
        raise InvalidArchitecture(f"{where}.gating", f"must be true or false, got {op.gating!r}")
    if not isinstance(op.inputs, tuple) or not op.inputs:
        raise InvalidArchitecture(f"{where}.inputs", "must be a non-empty list of node indices")
    if index == 0 and op.inputs != (0,):
        raise InvalidArchitecture(f"{where}.inputs", f"the first op reads the cell input only: [0], got {list(op.inputs)}")
    for node in op.inputs:
        if isinstance(node, bool) or not isinstance(node, int) or not 0 <= node <= index:
            raise InvalidArchitecture(f"{where}.inputs", f"op {index + 1} can read nodes 0..{index} (0 = cell input, "
                                                         f"k = op k), got {node!r}: that input does not exist")
    if list(op.inputs) != sorted(set(op.inputs)):
        raise InvalidArchitecture(f"{where}.inputs", f"must be increasing without repeats, got {list(op.inputs)}")


@register_kind
@dataclass(frozen=True)
class AttentionCell(ArchSpec):
    """K attention ops wired into a cell; widths relative to where the cell is inserted."""

    kind = "attention_cell"
    ops: tuple[AttentionOp, ...]
    op_divisor: int = 2
    inner_divisor: int = 4
    kv_source: str = "input"

    def __post_init__(self) -> None:
        if not isinstance(self.ops, tuple) or not 1 <= len(self.ops) <= MAX_OPS:
            count = len(self.ops) if isinstance(self.ops, (tuple, list)) else self.ops
            raise InvalidArchitecture("ops", f"a cell has K = 1..{MAX_OPS} ops, got {count!r}")
        for index, op in enumerate(self.ops):
            validate_op(op, index)
        _choice(self.op_divisor, OP_DIVISORS, "op_divisor")
        _choice(self.inner_divisor, INNER_DIVISORS, "inner_divisor")
        _choice(self.kv_source, KV_SOURCES, "kv_source")

    @property
    def temporal(self) -> bool:
        """Whether any op attends over time."""
        return any(op.dimension != "spatial" for op in self.ops)

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> AttentionCell:
        raw = data.get("ops")
        if not isinstance(raw, (list, tuple)):
            raise InvalidArchitecture("ops", "must be a list of op objects")
        fields = {"dimension", "type", "activation", "gating", "inputs"}
        ops = []
        for index, item in enumerate(raw):
            if isinstance(item, AttentionOp):
                ops.append(item)
                continue
            if not isinstance(item, dict) or set(item) - fields:
                extra = sorted(set(item) - fields) if isinstance(item, dict) else None
                raise InvalidArchitecture(f"ops[{index}]", f"must be an object with fields {sorted(fields)}"
                                          + (f"; unknown {extra}" if extra else ""))
            inputs = item.get("inputs", [0])
            if not isinstance(inputs, (list, tuple)):
                raise InvalidArchitecture(f"ops[{index}].inputs", f"must be a list of node indices, got {inputs!r}")
            ops.append(AttentionOp(**{**item, "inputs": tuple(inputs)}))
        extra = set(data) - {"ops", "op_divisor", "inner_divisor", "kv_source"}
        if extra:
            raise InvalidArchitecture(sorted(extra)[0], "is not a field of an attention cell")
        return cls(ops=tuple(ops), **{k: v for k, v in data.items() if k != "ops"})


@register_kind
@dataclass(frozen=True)
class SEInsert(ArchSpec):
    """A squeeze-excitation block (pool, 1x1 down with ReLU, 1x1 up, sigmoid, rescale) as an insert."""

    kind = "se_insert"
    ratio: float = 0.25

    def __post_init__(self) -> None:
        if isinstance(self.ratio, bool) or not isinstance(self.ratio, (int, float)) or not 0 < self.ratio <= 1:
            raise InvalidArchitecture("ratio", f"must be in (0, 1], got {self.ratio!r}")
        object.__setattr__(self, "ratio", float(self.ratio))


INSERT_KINDS = (AttentionCell, SEInsert)


@register_kind
@dataclass(frozen=True)
class AttentionNet(ArchSpec):
    """A backbone (AnyNet or R3D spec) with ``insert`` placed after each stage in ``positions``."""

    kind = "attention_net"
    backbone: ArchSpec
    insert: ArchSpec | None = None
    positions: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.backbone, ArchSpec) or self.backbone.kind not in ("anynet", "r3d"):
            kind = getattr(self.backbone, "kind", type(self.backbone).__name__)
            raise InvalidArchitecture("backbone", f"must be an anynet (images) or r3d (video) spec, got {kind!r}")
        if self.insert is not None and not isinstance(self.insert, INSERT_KINDS):
            raise InvalidArchitecture("insert", "must be an attention cell, an se_insert block or null")
        if not isinstance(self.positions, tuple):
            raise InvalidArchitecture("positions", "must be a list of stage indices")
        stages = len(self.backbone.stages)  # type: ignore[attr-defined]
        for position in self.positions:
            if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < stages:
                raise InvalidArchitecture("positions", f"stage indices are 0..{stages - 1} for this backbone, "
                                                       f"got {position!r}")
        if list(self.positions) != sorted(set(self.positions)):
            raise InvalidArchitecture("positions", f"must be increasing without repeats, got {list(self.positions)}")
        if bool(self.positions) != (self.insert is not None):
            raise InvalidArchitecture("positions", "give positions exactly when there is an insert")

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "backbone": self.backbone.to_dict(),
                "insert": None if self.insert is None else self.insert.to_dict(), "positions": list(self.positions)}

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> AttentionNet:
        extra = set(data) - {"backbone", "insert", "positions"}
        if extra:
            raise InvalidArchitecture(sorted(extra)[0], "is not a field of an attention_net spec")
        if "backbone" not in data:
            raise InvalidArchitecture("backbone", "is required")
        backbone = data["backbone"] if isinstance(data["backbone"], ArchSpec) else arch_from_dict(data["backbone"])
        insert = data.get("insert")
        if insert is not None and not isinstance(insert, ArchSpec):
            insert = arch_from_dict(insert)
        positions = data.get("positions", [])
        if not isinstance(positions, (list, tuple)):
            raise InvalidArchitecture("positions", f"must be a list of stage indices, got {positions!r}")
        return cls(backbone=backbone, insert=insert, positions=tuple(positions))
