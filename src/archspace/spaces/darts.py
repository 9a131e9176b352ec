"""The DARTS cell space: genotypes of 4-node normal and reduction cells over an op mask.

Node j (state j + 2) of each cell takes two *distinct* inputs among the cell inputs and earlier
nodes, each through one op; the cell concatenates its 4 nodes. Ops come from the 8 DARTS search
primitives; the genotype's ops exclude ``none`` (a derived cell never keeps it), so a mask with
k non-``none`` ops gives 180 x k^8 cells per cell type (k = 7: ~1.04e9, ~1.08e18 per
normal + reduction pair). ``S3_OPS`` (``sep_conv_3x3``, ``skip_connect``, ``none``; thesis
section 3.5.3) is the op mask ``get_space("darts_s3")`` uses. The network, cost and layers are the
family's (``archspace.families.darts``). Specs are compared in canonical form: the two pairs of a
node in ascending input order (``canonical``); ``validate`` accepts either order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import comb
from typing import Any

import numpy as np

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.darts.family import DartsFamily
from archspace.families.darts.spec import CELLS, DartsGenotype, Pairs
from archspace.families.darts.table import (
    PARAMETER_FREE_OPS,
    S3_OPS,
    SEARCH_NODES,
    SEARCH_OPS,
    edge_inputs,
)
from archspace.spaces.base import Constraint, Space, as_generator, first_violation
from archspace.spaces.registry import SPACES

CONCAT = tuple(range(2, SEARCH_NODES + 2))
EDGES = edge_inputs(SEARCH_NODES)  # (node, input) of the 14 candidate edges of a cell
EDGE_INDEX = {edge: e for e, edge in enumerate(EDGES)}


def check_op_mask(ops: Iterable[str]) -> tuple[str, ...]:
    """The mask in ``SEARCH_OPS`` order; ``UsageError`` for unknown / repeated ops or no parametric op."""
    ops = tuple(ops)
    unknown = [op for op in ops if op not in SEARCH_OPS]
    if unknown:
        raise UsageError(f"ops: unknown DARTS op(s) {unknown}; known ops: {list(SEARCH_OPS)}")
    if len(set(ops)) != len(ops):
        raise UsageError(f"ops: listed twice in {list(ops)}")
    if all(op in PARAMETER_FREE_OPS for op in ops):
        raise UsageError(f"ops: the mask {list(ops)} has no parametric op; add one of "
                         f"{[o for o in SEARCH_OPS if o not in PARAMETER_FREE_OPS]}")
    return tuple(op for op in SEARCH_OPS if op in ops)


@SPACES.register("darts", family="darts", description="DARTS cell space (normal + reduction cells, 4 nodes)")
class DartsSpace(Space[DartsGenotype]):
    """Genotypes of the DARTS search space over an op mask (``ops``, ``none`` allowed in the mask
    for search but never in a genotype), with the family's macro network."""

    name = "darts"
    arch_class = DartsGenotype
    capabilities = frozenset({"neighbors", "mutate", "encode"})

    def __init__(self, ops: Iterable[str] = SEARCH_OPS, channels: int = 36, layers: int = 20,
                 auxiliary: bool = False, constraints: Sequence[Constraint] = ()) -> None:
        super().__init__(constraints)
        self.ops = check_op_mask(ops)
        self.choices: tuple[str, ...] = tuple(op for op in self.ops if op != "none")
        self.family = DartsFamily(channels=channels, layers=layers, auxiliary=auxiliary)

    def options(self) -> dict[str, Any]:
        opts = self.family.options()
        return {"ops": list(self.ops), "channels": opts["channels"], "layers": opts["layers"],
                "auxiliary": opts["auxiliary"]}

    def __repr__(self) -> str:
        return f"DartsSpace(ops={self.ops}, channels={self.family.channels}, layers={self.family.layers})"

    # --- membership ----------------------------------------------------------------------------
    def validate(self, arch: DartsGenotype) -> DartsGenotype:
        if not isinstance(arch, DartsGenotype):
            raise InvalidArchitecture("kind", f"expected a darts genotype, got {type(arch).__name__}")
        for cell in CELLS:
            pairs = getattr(arch, cell)
            if len(pairs) != 2 * SEARCH_NODES:
                raise InvalidArchitecture(cell, f"the DARTS space has {SEARCH_NODES} nodes (8 pairs), got {len(pairs)} pairs")
            if getattr(arch, f"{cell}_concat") != CONCAT:
                raise InvalidArchitecture(f"{cell}_concat", f"must be {list(CONCAT)} in the DARTS space")
            for k, (op, _) in enumerate(pairs):
                if op not in self.choices:
                    raise InvalidArchitecture(f"{cell}[{k}] (node {k // 2 + 2})",
                                              f"op {op!r} is not in this space; allowed ops: {list(self.choices)}")
            for node in range(SEARCH_NODES):
                a, b = pairs[2 * node][1], pairs[2 * node + 1][1]
                if a == b:
                    raise InvalidArchitecture(f"{cell}[{2 * node + 1}] (node {node + 2})",
                                              f"both inputs of a node are state {a}; they must differ")
        broken = first_violation(self.constraints, arch)
        if broken is not None:
            raise InvalidArchitecture("constraints", f"violates {broken.name}: {broken.description}")
        return arch

    @staticmethod
    def canonical(arch: DartsGenotype) -> DartsGenotype:
        """The same genotype with each node's two pairs in ascending input order."""
        def sort(pairs: Pairs) -> list[tuple[str, int]]:
            return [p for node in range(len(pairs) // 2) for p in sorted(pairs[2 * node:2 * node + 2], key=lambda q: q[1])]
        return DartsGenotype(sort(arch.normal), arch.normal_concat, sort(arch.reduce), arch.reduce_concat)

    # --- sampling and moves ----------------------------------------------------------------------
    def _cell(self, gen: np.random.Generator) -> list[tuple[str, int]]:
        pairs = []
        for node in range(SEARCH_NODES):
            inputs = np.sort(gen.choice(node + 2, size=2, replace=False))
            pairs.extend((self.choices[int(gen.integers(len(self.choices)))], int(i)) for i in inputs)
        return pairs

    def sample(self, rng: int | np.random.Generator | None = None) -> DartsGenotype:
        """Per node two distinct inputs uniformly, each op uniform over the mask (no ``none``);
        constraints by rejection (10,000 draws)."""
        gen = as_generator(rng)
        for _ in range(10_000):
            arch = DartsGenotype(self._cell(gen), CONCAT, self._cell(gen), CONCAT)
            if self.satisfies(arch):
                return arch
        raise UsageError(f"no genotype satisfying {[c.name for c in self.constraints]} in 10,000 draws")

    def _moves(self, arch: DartsGenotype) -> list[DartsGenotype]:
        """Every genotype one op change or one input change away (canonical, deduplicated)."""
        arch = self.canonical(arch)
        out: dict[DartsGenotype, None] = {}
        for cell in CELLS:
            pairs = list(getattr(arch, cell))
            for k, (op, source) in enumerate(pairs):
                node, other = k // 2, pairs[k ^ 1][1]
                changed = [(o, source) for o in self.choices if o != op]
                changed += [(op, s) for s in range(node + 2) if s not in (source, other)]
                for pair in changed:
                    new = pairs.copy()
                    new[k] = pair
                    fields = {"normal": arch.normal, "reduce": arch.reduce, cell: new}
                    out[self.canonical(DartsGenotype(fields["normal"], CONCAT, fields["reduce"], CONCAT))] = None
        out.pop(arch, None)
        return list(out)

    def neighbors(self, arch: DartsGenotype, distance: int = 1) -> list[DartsGenotype]:
        """Genotypes 1..``distance`` moves away (a move changes one op or one input), the
        genotype itself excluded, constraints applied, in a fixed order."""
        self.validate(arch)
        if not 1 <= int(distance) <= 2:
            raise UsageError(f"distance must be 1 or 2 in the DARTS space, got {distance}")
        start = self.canonical(arch)
        found: dict[DartsGenotype, None] = dict.fromkeys(self._moves(start))
        if distance == 2:
            for first in list(found):
                found.update(dict.fromkeys(self._moves(first)))
        found.pop(start, None)
        return [g for g in found if self.satisfies(g)]

    def mutate(self, arch: DartsGenotype, rng: int | np.random.Generator | None = None) -> DartsGenotype:
        """One uniformly drawn move (op or input change); constraints by retry."""
        self.validate(arch)
        moves = self._moves(arch)
        gen = as_generator(rng)
        for _ in range(10_000):
            child = moves[int(gen.integers(len(moves)))]
            if self.satisfies(child):
                return child
        raise UsageError("no mutation satisfies the constraints")

    def encode(self, arch: DartsGenotype) -> np.ndarray:
        """Per cell and candidate edge (node, input), the one-hot of its op over ``SEARCH_OPS``
        (zeros for an unused edge): 2 x 14 x 8 = 224 floats, independent of pair order."""
        out = np.zeros((2, len(EDGES), len(SEARCH_OPS)))
        for c, cell in enumerate(CELLS):
            for k, (op, source) in enumerate(getattr(arch, cell)):
                out[c, EDGE_INDEX[(k // 2, source)], SEARCH_OPS.index(op)] = 1.0
        return out.ravel()

    def size(self) -> int:
        """Exact number of genotypes (normal x reduction), constraints not applied."""
        per_cell = 1
        for node in range(SEARCH_NODES):
            per_cell *= comb(node + 2, 2) * len(self.choices) ** 2
        return per_cell**2

    def summary(self) -> dict[str, Any]:
        inputs = int(np.prod([comb(n + 2, 2) for n in range(SEARCH_NODES)]))
        return {"name": self.name, "ops": list(self.ops), "genotype_ops": list(self.choices),
                "nodes": SEARCH_NODES, "input_choices_per_cell": inputs,
                "op_choices_per_cell": len(self.choices) ** (2 * SEARCH_NODES),
                "size": self.size(), **self.family.options(),
                "constraints": [c.name for c in self.constraints]}


@SPACES.register("darts_s3", family="darts", description="DARTS cell space over S3: sep_conv_3x3, skip_connect, none")
def darts_s3(ops: Iterable[str] = S3_OPS, **options: Any) -> DartsSpace:
    space = DartsSpace(ops=ops, **options)
    space.name = "darts_s3"
    return space


__all__ = ["CONCAT", "EDGES", "DartsSpace", "check_op_mask", "darts_s3"]

