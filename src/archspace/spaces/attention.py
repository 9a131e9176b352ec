"""The attention-cell space (thesis section 4.3): cells for a fixed backbone and insertion points.

A point of the space is an ``AttentionNet``: the space's backbone with a sampled
``AttentionCell`` inserted after each stage in ``positions``. Sampling draws the number of ops K
uniformly in [1, max_ops], every op choice uniformly over the allowed values and, for op k > 1,
a non-empty input subset of {f0, f1, ..., f_{k-1}} uniformly. Neighbors change one choice.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from archspace.arch import ArchSpec, arch_from_dict
from archspace.errors import ArchspaceError, InvalidArchitecture, UsageError
from archspace.families.anynet.spec import AnyNetArch, StageSpec
from archspace.families.attention.family import AttentionFamily
from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp
from archspace.families.attention.table import (
    ACTIVATIONS,
    DIMENSIONS,
    INNER_DIVISORS,
    KV_SOURCES,
    MAX_OPS,
    OP_DIVISORS,
    TEMPORAL_DIMENSIONS,
    TYPES,
)
from archspace.families.r3d.spec import R3DArch, R3DStage
from archspace.spaces.base import Constraint, Space, as_generator, first_violation
from archspace.spaces.registry import SPACES

# Small default backbones for 28x28 / 32x32 inputs (the CPU experiments): an X-block AnyNet and a
# two-stage R3D for short clips.
DEFAULT_IMAGE_BACKBONE = AnyNetArch(
    stages=(StageSpec(1, 16, 1, 1.0, 8), StageSpec(2, 32, 2, 1.0, 8), StageSpec(2, 64, 2, 1.0, 8)),
    block="X", stem="res_stem_cifar", stem_width=16)
DEFAULT_VIDEO_BACKBONE = R3DArch(stages=(R3DStage(1, 16, 2), R3DStage(1, 32, 2), R3DStage(1, 64, 1)), stem_width=8)


def _subset(values: Iterable[Any] | None, allowed: tuple, name: str, default: tuple) -> tuple:
    chosen = tuple(default if values is None else values)
    unknown = [v for v in chosen if v not in allowed]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise UsageError(f"{name} must be distinct values from {list(allowed)}, got {list(chosen)}")
    return tuple(v for v in allowed if v in chosen)


def _backbone(value: Any, frames: int) -> ArchSpec:
    if value is None:
        return DEFAULT_IMAGE_BACKBONE if frames == 1 else DEFAULT_VIDEO_BACKBONE
    if isinstance(value, ArchSpec):
        return value
    if isinstance(value, dict):
        try:
            return arch_from_dict(value)
        except ArchspaceError as exc:
            raise UsageError(f"backbone: {exc}") from None
    raise UsageError(f"backbone must be a spec (JSON object), got {type(value).__name__}")


@SPACES.register("attention", description="attention cells inserted into a fixed backbone (thesis ch. 4)",
                 family="attention_net")
class AttentionCellSpace(Space[AttentionNet]):
    """Cells of 1..``max_ops`` attention ops for ``backbone``, inserted after the stages in ``positions``."""

    name = "attention"
    arch_class = AttentionNet
    capabilities = frozenset({"neighbors", "mutate", "encode"})

    def __init__(
        self,
        backbone: Any = None,
        positions: Sequence[int] = (1,),
        frames: int = 1,
        max_ops: int = 3,
        dimensions: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
        activations: Iterable[str] | None = None,
        op_divisors: Iterable[int] | None = None,
        inner_divisors: Iterable[int] | None = None,
        kv_sources: Iterable[str] | None = None,
        constraints: Sequence[Constraint] = (),
    ) -> None:
        super().__init__(constraints)
        self.family = AttentionFamily(frames=frames)
        if isinstance(max_ops, bool) or not isinstance(max_ops, int) or not 1 <= max_ops <= MAX_OPS:
            raise UsageError(f"max_ops (K) must be an integer in [1, {MAX_OPS}], got {max_ops!r}")
        self.max_ops = max_ops
        self.dimensions = _subset(dimensions, DIMENSIONS, "dimensions", ("spatial",) if frames == 1 else DIMENSIONS)
        if frames == 1 and TEMPORAL_DIMENSIONS & set(self.dimensions):
            raise UsageError(f"temporal attention on images: dimensions {list(self.dimensions)} need video "
                             "(frames > 1); images allow only 'spatial'")
        self.types = _subset(types, TYPES, "types", TYPES)
        self.activations = _subset(activations, ACTIVATIONS, "activations", ACTIVATIONS)
        self.op_divisors = _subset(op_divisors, OP_DIVISORS, "op_divisors", OP_DIVISORS)
        self.inner_divisors = _subset(inner_divisors, INNER_DIVISORS, "inner_divisors", INNER_DIVISORS)
        self.kv_sources = _subset(kv_sources, KV_SOURCES, "kv_sources", KV_SOURCES)
        self.backbone = _backbone(backbone, frames)
        self.positions = tuple(positions)
        probe = self._net(AttentionCell(ops=(AttentionOp(self.dimensions[0], self.types[0], self.activations[0]),),
                                        op_divisor=self.op_divisors[0], inner_divisor=self.inner_divisors[0],
                                        kv_source=self.kv_sources[0]), check=False)
        try:
            self.family.validate(probe)
        except InvalidArchitecture as exc:
            raise UsageError(f"attention space: {exc}") from None

    @property
    def frames(self) -> int:
        return self.family.frames

    def options(self) -> dict[str, Any]:
        return {"backbone": self.backbone.to_dict(), "positions": list(self.positions), "frames": self.frames,
                "max_ops": self.max_ops, "dimensions": list(self.dimensions), "types": list(self.types),
                "activations": list(self.activations), "op_divisors": list(self.op_divisors),
                "inner_divisors": list(self.inner_divisors), "kv_sources": list(self.kv_sources)}

    def _net(self, cell: AttentionCell, check: bool = True) -> AttentionNet:
        try:
            return AttentionNet(self.backbone, cell, self.positions)
        except InvalidArchitecture as exc:
            if check:
                raise
            raise UsageError(f"attention space: {exc}") from None

    # --- membership --------------------------------------------------------------------------
    def validate(self, arch: AttentionNet) -> AttentionNet:
        if not isinstance(arch, AttentionNet):
            raise InvalidArchitecture("kind", f"expected an attention_net spec, got {type(arch).__name__}")
        if arch.backbone != self.backbone:
            raise InvalidArchitecture("backbone", "differs from this space's backbone")
        if arch.positions != self.positions:
            raise InvalidArchitecture("positions", f"this space inserts after stages {list(self.positions)}, "
                                                   f"got {list(arch.positions)}")
        cell = arch.insert
        if not isinstance(cell, AttentionCell):
            raise InvalidArchitecture("insert", "this space's points insert an attention cell")
        if len(cell.ops) > self.max_ops:
            raise InvalidArchitecture("insert.ops", f"at most {self.max_ops} ops in this space, got {len(cell.ops)}")
        for index, op in enumerate(cell.ops):
            for field, allowed in (("dimension", self.dimensions), ("type", self.types),
                                   ("activation", self.activations)):
                if getattr(op, field) not in allowed:
                    raise InvalidArchitecture(f"insert.ops[{index}].{field}",
                                              f"{getattr(op, field)!r} is not allowed here; allowed: {list(allowed)}")
        for field, allowed in (("op_divisor", self.op_divisors), ("inner_divisor", self.inner_divisors),
                               ("kv_source", self.kv_sources)):
            if getattr(cell, field) not in allowed:
                raise InvalidArchitecture(f"insert.{field}", f"{getattr(cell, field)!r} is not allowed here; "
                                                             f"allowed: {list(allowed)}")
        self.family.validate(arch)
        broken = first_violation(self.constraints, arch)
        if broken is not None:
            raise InvalidArchitecture("constraints", f"violates {broken.name}: {broken.description}")
        return arch

    # --- size --------------------------------------------------------------------------------
    def op_choices(self) -> int:
        """Choices of one op's own fields (dimension x type x activation x gating)."""
        return len(self.dimensions) * len(self.types) * len(self.activations) * 2

    def size(self) -> int:
        """Exact number of cells: sum over K of the op choices and the input subsets, x cell choices."""
        per_cell = len(self.op_divisors) * len(self.inner_divisors) * len(self.kv_sources)
        total = 0
        for k in range(1, self.max_ops + 1):
            total += self.op_choices() ** k * math.prod(2 ** (i + 1) - 1 for i in range(1, k))
        return total * per_cell

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size(), "max_ops": self.max_ops, "frames": self.frames,
                "positions": list(self.positions), "dimensions": list(self.dimensions)}

    # --- sampling and search moves -----------------------------------------------------------
    def _random_op(self, gen: np.random.Generator, index: int) -> AttentionOp:
        inputs: tuple[int, ...] = (0,)
        if index > 0:
            while True:  # a uniform non-empty subset of the index + 1 earlier nodes
                mask = gen.integers(0, 2, size=index + 1)
                if mask.any():
                    break
            inputs = tuple(int(i) for i in np.flatnonzero(mask))
        return AttentionOp(self.dimensions[gen.integers(len(self.dimensions))], self.types[gen.integers(len(self.types))],
                           self.activations[gen.integers(len(self.activations))], bool(gen.integers(2)), inputs)

    def sample(self, rng: int | np.random.Generator | None = None) -> AttentionNet:
        gen = as_generator(rng)
        for _ in range(10_000):
            k = int(gen.integers(1, self.max_ops + 1))
            ops = tuple(self._random_op(gen, i) for i in range(k))
            cell = AttentionCell(ops, int(self.op_divisors[gen.integers(len(self.op_divisors))]),
                                 int(self.inner_divisors[gen.integers(len(self.inner_divisors))]),
                                 self.kv_sources[gen.integers(len(self.kv_sources))])
            arch = self._net(cell)
            if self.satisfies(arch):
                return arch
        raise UsageError(f"no cell satisfying {[c.name for c in self.constraints]} in 10,000 draws")

    def _op_variants(self, op: AttentionOp, index: int) -> list[AttentionOp]:
        out = [replace(op, dimension=v) for v in self.dimensions if v != op.dimension]
        out += [replace(op, type=v) for v in self.types if v != op.type]
        out += [replace(op, activation=v) for v in self.activations if v != op.activation]
        out.append(replace(op, gating=not op.gating))
        for node in range(index + 1 if index > 0 else 0):
            toggled = tuple(sorted(set(op.inputs) ^ {node}))
            if toggled:
                out.append(replace(op, inputs=toggled))
        return out

    def neighbors(self, arch: AttentionNet, distance: int = 1) -> list[AttentionNet]:
        """Cells one choice away: one op field, one input toggled, one cell field, the last op
        removed, or an op appended (reading the previous op); ``distance`` must be 1."""
        self.validate(arch)
        if distance != 1:
            raise UsageError(f"the attention space defines neighbors at distance 1 only, got {distance}")
        cell: AttentionCell = arch.insert  # type: ignore[assignment]
        cells: list[AttentionCell] = []
        for index, op in enumerate(cell.ops):
            for variant in self._op_variants(op, index):
                cells.append(replace(cell, ops=(*cell.ops[:index], variant, *cell.ops[index + 1:])))
        for field, allowed in (("op_divisor", self.op_divisors), ("inner_divisor", self.inner_divisors),
                               ("kv_source", self.kv_sources)):
            cells += [replace(cell, **{field: v}) for v in allowed if v != getattr(cell, field)]
        if len(cell.ops) > 1:
            cells.append(replace(cell, ops=cell.ops[:-1]))
        if len(cell.ops) < self.max_ops:
            k = len(cell.ops)
            cells += [replace(cell, ops=(*cell.ops, AttentionOp(d, t, a, g, (k,))))
                      for d in self.dimensions for t in self.types for a in self.activations for g in (False, True)]
        found = [self._net(c) for c in dict.fromkeys(cells)]
        return [a for a in found if a != arch and self.satisfies(a) and self._valid(a)]

    def _valid(self, arch: AttentionNet) -> bool:
        try:
            self.family.validate(arch)
        except InvalidArchitecture:
            return False
        return True

    def mutate(self, arch: AttentionNet, rng: int | np.random.Generator | None = None) -> AttentionNet:
        """A uniformly chosen neighbor."""
        options = self.neighbors(arch)
        if not options:
            raise UsageError("this cell has no valid neighbor in the space")
        return options[int(as_generator(rng).integers(len(options)))]

    def encode(self, arch: AttentionNet) -> np.ndarray:
        """Per op slot: present, one-hots of dimension / type / activation, gating, input mask;
        then one-hots of the cell's op divisor, inner divisor and key/value source."""
        cell: AttentionCell = self.validate(arch).insert  # type: ignore[assignment]
        parts: list[np.ndarray] = []
        for index in range(self.max_ops):
            slot = np.zeros(1 + len(self.dimensions) + len(self.types) + len(self.activations) + 1 + self.max_ops)
            if index < len(cell.ops):
                op = cell.ops[index]
                at = 1
                slot[0] = 1.0
                for value, allowed in ((op.dimension, self.dimensions), (op.type, self.types),
                                       (op.activation, self.activations)):
                    slot[at + allowed.index(value)] = 1.0
                    at += len(allowed)
                slot[at] = float(op.gating)
                slot[at + 1 + np.array(op.inputs)] = 1.0
            parts.append(slot)
        for value, allowed in ((cell.op_divisor, self.op_divisors), (cell.inner_divisor, self.inner_divisors),
                               (cell.kv_source, self.kv_sources)):
            one_hot = np.zeros(len(allowed))
            one_hot[allowed.index(value)] = 1.0
            parts.append(one_hot)
        return np.concatenate(parts)
