"""The NAS-Bench-201 cell space: all cells over an allowed subset of the 5 ops (op masking).

The network, its cost and its layers are the family's (``archspace.families.nb201``); the space
adds the op mask and constraints, sampling, neighbors, mutation, encodings, the benchmark index
order and isomorphism canonicalization. Three orders of the 15,625 cells appear: the *code* (base
5 over ``OPS``, what sampling uses), the *benchmark index* (rows of the official API) and
isomorphism classes (6,466 over the full space).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.nb201.family import NB201Family
from archspace.families.nb201.index import (
    _benchmark_order,
    _isomorphism_classes,
    benchmark_cell_at,
    benchmark_index_of,
    benchmark_ops_matrix,
    unique_string,
)
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import NUM_CELLS, NUM_EDGES, NUM_OPS, OP_INDEX, OPS, PLACE
from archspace.spaces.base import Constraint, Space, as_generator, first_violation
from archspace.spaces.registry import SPACES


@SPACES.register("nb201", family="nb201")
class NB201Space(Space[NB201Cell]):
    """All cells over an allowed subset of ``OPS`` (op masking), with the benchmark macro network.

    ``channels`` (C) and ``cells_per_stage`` (N) size the network that ``build``/``complexity``
    describe; the benchmark's table is for C = 16, N = 5.
    """

    name = "nb201"
    arch_class = NB201Cell
    capabilities = frozenset({"neighbors", "mutate", "encode"})

    def __init__(
        self,
        ops: Iterable[str] = OPS,
        cells_per_stage: int = 5,
        channels: int = 16,
        constraints: Sequence[Constraint] = (),
    ) -> None:
        super().__init__(constraints)
        ops = tuple(ops)
        unknown = [op for op in ops if op not in OP_INDEX]
        if unknown:
            raise UsageError(f"unknown op(s) {unknown}; known ops: {list(OPS)}")
        if not ops:
            raise UsageError(f"an NB201 space needs at least one op from {list(OPS)}")
        if len(set(ops)) != len(ops):
            raise UsageError(f"ops listed twice in {list(ops)}")
        self.family = NB201Family(channels=channels, cells_per_stage=cells_per_stage)
        self.ops: tuple[str, ...] = tuple(op for op in OPS if op in ops)  # canonical OPS order
        self._op_ids = np.array([OP_INDEX[op] for op in self.ops], dtype=np.int64)

    @property
    def channels(self) -> int:
        return self.family.channels

    @property
    def cells_per_stage(self) -> int:
        return self.family.cells_per_stage

    def options(self) -> dict[str, Any]:
        """Constructor arguments as JSON values: with a cell they rebuild its network exactly."""
        return {"ops": list(self.ops), **self.family.options()}

    def __repr__(self) -> str:
        return f"NB201Space(ops={self.ops}, cells_per_stage={self.cells_per_stage}, channels={self.channels})"

    # --- membership --------------------------------------------------------------------------
    def validate(self, arch: NB201Cell) -> NB201Cell:
        if not isinstance(arch, NB201Cell):
            raise InvalidArchitecture("kind", f"expected an nb201 cell, got {type(arch).__name__}")
        for edge, op in enumerate(arch.ops):
            if op not in self.ops:
                raise InvalidArchitecture(
                    f"ops[{edge}]", f"op {op!r} is masked in this space; allowed ops: {list(self.ops)}"
                )
        broken = first_violation(self.constraints, arch)
        if broken is not None:
            raise InvalidArchitecture("constraints", f"violates {broken.name}: {broken.description}")
        return arch

    @cached_property
    def allowed_mask(self) -> np.ndarray:
        """Boolean per benchmark index: the cell uses only allowed ops (constraints not applied)."""
        allowed = np.zeros(NUM_OPS, dtype=bool)
        allowed[self._op_ids] = True
        mask = allowed[benchmark_ops_matrix()].all(axis=1)
        mask.setflags(write=False)
        return mask

    @cached_property
    def allowed_indices(self) -> np.ndarray:
        """Benchmark indices of the cells made of allowed ops, ascending."""
        out = np.flatnonzero(self.allowed_mask)
        out.setflags(write=False)
        return out

    def all_cells(self) -> list[NB201Cell]:
        """Every cell of the space (ops mask and constraints applied), in benchmark index order."""
        cells = [benchmark_cell_at(int(i)) for i in self.allowed_indices]
        return [c for c in cells if self.satisfies(c)]

    # --- sampling and search moves -----------------------------------------------------------
    def sample(self, rng: int | np.random.Generator | None = None) -> NB201Cell:
        """Each edge's op uniform over the allowed ops; constraints by rejection (10,000 draws)."""
        gen = as_generator(rng)
        for _ in range(10_000):
            picks = gen.integers(0, len(self.ops), size=NUM_EDGES)
            cell = NB201Cell(tuple(self.ops[i] for i in picks))
            if self.satisfies(cell):
                return cell
        raise UsageError(f"no cell satisfying {[c.name for c in self.constraints]} in 10,000 draws")

    def neighbors(self, arch: NB201Cell, distance: int = 1, exact: bool = False) -> list[NB201Cell]:
        """Cells whose ops differ on 1..``distance`` edges (exactly ``distance`` if ``exact``).

        Only allowed ops, the cell itself excluded, constraints applied; ordered by code. With all
        5 ops, distance 1 gives 6 x 4 = 24 neighbors and distance 2 gives 24 + 15 x 16 = 264.
        """
        self.validate(arch)
        if not 1 <= int(distance) <= NUM_EDGES:
            raise UsageError(f"distance must be in [1, {NUM_EDGES}], got {distance}")
        low = int(distance) if exact else 1
        found: list[NB201Cell] = []
        for d in range(low, int(distance) + 1):
            for edges in itertools.combinations(range(NUM_EDGES), d):
                choices = [[op for op in self.ops if op != arch.ops[e]] for e in edges]
                for replacement in itertools.product(*choices):
                    ops = list(arch.ops)
                    for e, op in zip(edges, replacement, strict=True):
                        ops[e] = op
                    found.append(NB201Cell(tuple(ops)))
        found.sort(key=lambda c: c.code)
        return [c for c in found if self.satisfies(c)]

    def mutate(self, arch: NB201Cell, rng: int | np.random.Generator | None = None) -> NB201Cell:
        """Change one uniformly chosen edge to a different allowed op (uniform); constraints by retry."""
        self.validate(arch)
        if len(self.ops) < 2:
            raise UsageError(f"cannot mutate: the space allows a single op {list(self.ops)}")
        gen = as_generator(rng)
        for _ in range(10_000):
            edge = int(gen.integers(NUM_EDGES))
            others = [op for op in self.ops if op != arch.ops[edge]]
            ops = list(arch.ops)
            ops[edge] = others[int(gen.integers(len(others)))]
            child = NB201Cell(tuple(ops))
            if self.satisfies(child):
                return child
        raise UsageError(f"no mutation of {arch.to_string()} satisfies the constraints")

    # --- encodings ---------------------------------------------------------------------------
    def encode(self, arch: NB201Cell) -> np.ndarray:
        """One-hot of each edge's op over all 5 ``OPS`` (so encodings match across op masks): 30 floats."""
        out = np.zeros((NUM_EDGES, NUM_OPS))
        out[np.arange(NUM_EDGES), arch.op_indices] = 1.0
        return out.ravel()

    def encode_edges(self, arch: NB201Cell) -> np.ndarray:
        """Per-edge op index into ``OPS`` (int64, length 6)."""
        return np.array(arch.op_indices, dtype=np.int64)

    @staticmethod
    def encode_indices(indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """(n, 30) one-hot encodings of cells given by benchmark index (vectorized ``encode``)."""
        idx = np.asarray(indices, dtype=np.int64)
        ops = benchmark_ops_matrix()[idx]
        out = np.zeros((idx.size, NUM_EDGES, NUM_OPS))
        rows = np.arange(idx.size)[:, None]
        out[rows, np.arange(NUM_EDGES)[None, :], ops] = 1.0
        return out.reshape(idx.size, NUM_EDGES * NUM_OPS)

    # --- benchmark order and isomorphism -----------------------------------------------------
    def index_of(self, arch: NB201Cell) -> int:
        """Benchmark index (row of the official API) of a cell."""
        return benchmark_index_of(arch)

    def cell_at(self, index: int) -> NB201Cell:
        """The cell at a benchmark index (validated against this space's op mask)."""
        return self.validate(benchmark_cell_at(int(index)))

    @staticmethod
    def indices_of_ops(ops: np.ndarray) -> np.ndarray:
        """Benchmark indices of cells given as an (n, 6) array of op indices (vectorized ``index_of``)."""
        ops = np.asarray(ops, dtype=np.int64)
        if ops.ndim != 2 or ops.shape[1] != NUM_EDGES or ops.size and (ops.min() < 0 or ops.max() >= NUM_OPS):
            raise UsageError(f"expected an (n, {NUM_EDGES}) array of op indices in [0, {NUM_OPS - 1}]")
        return _benchmark_order()[1][ops @ PLACE]

    def unique_string(self, arch: NB201Cell) -> str:
        return unique_string(arch)

    @cached_property
    def _class_representative(self) -> np.ndarray:
        """Per isomorphism class: the smallest code among the class's cells in this space."""
        class_of_code, names = _isomorphism_classes()
        codes = self.allowed_indices_as_codes
        rep = np.full(len(names), NUM_CELLS, dtype=np.int64)
        np.minimum.at(rep, class_of_code[codes], codes)
        return rep

    @property
    def allowed_indices_as_codes(self) -> np.ndarray:
        return _benchmark_order()[0][self.allowed_indices]

    def canonical(self, arch: NB201Cell) -> NB201Cell:
        """The isomorphism-canonical cell: the smallest-code cell of this space in ``arch``'s class.

        Two cells are isomorphic when the benchmark's ``unique`` strings match (same computation
        up to edge reordering, skip edges and dead edges); canonical(a) == canonical(b) exactly then.
        """
        self.validate(arch)
        class_of_code, _ = _isomorphism_classes()
        return NB201Cell.from_code(int(self._class_representative[class_of_code[arch.code]]))

    def num_isomorphism_classes(self) -> int:
        return int((self._class_representative < NUM_CELLS).sum())

    # --- cost of every cell at once (cost and modules of one cell: the family's, via Space) ---------
    def complexity_all(self, resolution: int = 32, num_classes: int = 10, in_channels: int = 3) -> dict[str, np.ndarray]:
        """``complexity`` of all 15,625 cells at once (int64 arrays in benchmark index order)."""
        flops, params, acts = self.family.complexity_of_ops(benchmark_ops_matrix(), resolution, num_classes,
                                                            in_channels)
        return {"flops": flops, "params": params, "acts": acts}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ops": list(self.ops),
            "edges": NUM_EDGES,
            "dimension": NUM_EDGES,
            "size": len(self.ops) ** NUM_EDGES,
            "isomorphism_classes": self.num_isomorphism_classes(),
            "channels": self.channels,
            "cells_per_stage": self.cells_per_stage,
            "constraints": [c.name for c in self.constraints],
        }
