"""The NAS-Bench-201 cell space: a 4-node cell DAG with 6 edges and 5 candidate operations.

A cell is the tuple of ops on its 6 edges, in the order of the benchmark's string
``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``: edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2. Node ``j`` is
the sum of its incoming edges; node 3 is the cell's output; a ``none`` edge contributes zero.

Three orders of the 15,625 cells appear here:

* the *code* of a cell: its ops read as a base-5 number in ``OPS`` order, edge 1<-0 most
  significant (pure arithmetic, what sampling and encodings use);
* the *benchmark index*: the row of the official NAS-Bench-201 / NATS-Bench API, shipped as the
  ``ops`` array of ``archspace/resources/nb201_table.npz`` (``index_of`` / ``cell_at``);
* isomorphism classes: cells computing the same function up to reordering, identified by the
  benchmark's own ``unique`` string (``unique_string``; 6,466 classes over the full space).

Cost convention (``complexity``): the network of ``archspace.nn.nb201`` with every edge module
instantiated and run, as the benchmark's ``InferCell`` does — including ops on edges that cannot
reach the output (their flops are spent: the forward pass computes every node). This is what a
flop counter measures on the built module and what the benchmark's ``params_mb`` counts: equal for
15,475 of the 15,625 rows; the other 150 rows of the public table carry the count of an isomorphic
cell (one 1x1 or 3x3 conv edge more or fewer than the row's own cell, a quirk of the source data;
the tests pin both facts). Counting only live edges would disagree with thousands of rows. flops are multiply-adds of conv and linear layers (linear
bias included), params include BatchNorm affine weights, acts are conv/linear output elements.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

import numpy as np

from archspace.arch import ArchSpec, register_kind
from archspace.complexity import counts
from archspace.complexity.counts import Complexity, CostTracker
from archspace.errors import DataError, InvalidArchitecture, UsageError
from archspace.spaces.base import Constraint, Space, as_generator, first_violation

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
# (target node, source node) of each edge, in the order of the benchmark string.
EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
NUM_EDGES = len(EDGES)
NUM_OPS = len(OPS)
NUM_CELLS = NUM_OPS**NUM_EDGES
_PLACE = NUM_OPS ** np.arange(NUM_EDGES - 1, -1, -1)  # base-5 place value of each edge
_OP_INDEX = {name: i for i, name in enumerate(OPS)}
TABLE_RESOURCE = "nb201_table.npz"


@register_kind
@dataclass(frozen=True)
class NB201Cell(ArchSpec):
    """One NAS-Bench-201 cell: the op on each of the 6 edges (order: see module docstring)."""

    kind = "nb201"
    ops: tuple[str, str, str, str, str, str]

    def __post_init__(self) -> None:
        ops = self.ops
        if isinstance(ops, str) or not isinstance(ops, Sequence):
            raise InvalidArchitecture("ops", f"expected a sequence of {NUM_EDGES} op names, got {ops!r}")
        if len(ops) != NUM_EDGES:
            raise InvalidArchitecture("ops", f"expected {NUM_EDGES} ops (one per edge), got {len(ops)}")
        for i, op in enumerate(ops):
            if op not in _OP_INDEX:
                raise InvalidArchitecture(f"ops[{i}]", f"unknown op {op!r}; known ops: {list(OPS)}")
        object.__setattr__(self, "ops", tuple(ops))

    @classmethod
    def from_string(cls, text: str) -> NB201Cell:
        """Parse the benchmark string ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``."""
        return cls(_parse_cell_string(text))

    def to_string(self) -> str:
        """The benchmark string of this cell."""
        ops = iter(self.ops)
        nodes = ["|" + "|".join(f"{next(ops)}~{src}" for src in range(target)) + "|" for target in (1, 2, 3)]
        return "+".join(nodes)

    @property
    def op_indices(self) -> tuple[int, ...]:
        """Per-edge op index into ``OPS``."""
        return tuple(_OP_INDEX[op] for op in self.ops)

    @property
    def code(self) -> int:
        """The cell's ops as a base-5 number (edge 1<-0 most significant)."""
        code = 0
        for op in self.ops:
            code = code * NUM_OPS + _OP_INDEX[op]
        return code

    @classmethod
    def from_code(cls, code: int) -> NB201Cell:
        if not 0 <= int(code) < NUM_CELLS:
            raise InvalidArchitecture("code", f"must be in [0, {NUM_CELLS - 1}], got {code}")
        return cls(tuple(OPS[d] for d in _digits(int(code))))


def _digits(code: int) -> tuple[int, ...]:
    return tuple((code // NUM_OPS ** (NUM_EDGES - 1 - e)) % NUM_OPS for e in range(NUM_EDGES))


def _parse_cell_string(text: str) -> tuple[str, ...]:
    """Ops of a benchmark cell string, with an error naming the first thing that is wrong."""
    example = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    if not isinstance(text, str):
        raise InvalidArchitecture("cell", f"expected a cell string, got {type(text).__name__}")
    nodes = text.strip().split("+")
    if len(nodes) != 3:
        raise InvalidArchitecture(
            "cell", f"expected 3 '+'-separated nodes like {example!r}, got {len(nodes)} in {text!r}"
        )
    ops: list[str] = []
    for target, node in enumerate(nodes, start=1):
        if len(node) < 2 or not (node.startswith("|") and node.endswith("|")):
            raise InvalidArchitecture(f"node {target}", f"must look like '|op~0|...|', got {node!r}")
        entries = node[1:-1].split("|")
        if len(entries) != target:
            raise InvalidArchitecture(
                f"node {target}", f"needs {target} incoming edge(s) (from nodes 0..{target - 1}), got {node!r}"
            )
        for source, entry in enumerate(entries):
            name, sep, src = entry.partition("~")
            if not sep or src != str(source):
                raise InvalidArchitecture(
                    f"node {target}", f"edge {source + 1} must be 'op~{source}', got {entry!r}"
                )
            if name not in _OP_INDEX:
                raise InvalidArchitecture(
                    f"node {target}", f"unknown op {name!r}; known ops: {list(OPS)}"
                )
            ops.append(name)
    return tuple(ops)


def parse_cell(value: str | int | NB201Cell) -> NB201Cell:
    """A cell from a cell string, a benchmark index (int or digit string) or a cell."""
    if isinstance(value, NB201Cell):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return benchmark_cell_at(int(value))
    if isinstance(value, str) and value.strip().isdigit():
        return benchmark_cell_at(int(value.strip()))
    return NB201Cell.from_string(value)


# --- benchmark index order and isomorphism classes (process-wide, read-only caches) ------------

def table_path() -> Any:
    """The packaged table resource (a Traversable; ``str()`` gives a path for installed packages)."""
    return resources.files("archspace").joinpath("resources", TABLE_RESOURCE)


@cache
def _benchmark_order() -> tuple[np.ndarray, np.ndarray]:
    """(index -> code, code -> index), read from the packaged table's ``ops`` array."""
    try:
        with table_path().open("rb") as handle, np.load(handle) as data:
            ops = np.asarray(data["ops"], dtype=np.int64)
    except FileNotFoundError:
        raise DataError(
            f"packaged NAS-Bench-201 table missing ({TABLE_RESOURCE}); rebuild it with "
            "`python -m archspace.bench.nb201_pack`"
        ) from None
    if ops.shape != (NUM_CELLS, NUM_EDGES):
        raise DataError(f"{TABLE_RESOURCE}: ops array has shape {ops.shape}, expected {(NUM_CELLS, NUM_EDGES)}")
    index_to_code = ops @ _PLACE
    code_to_index = np.empty(NUM_CELLS, dtype=np.int64)
    code_to_index[index_to_code] = np.arange(NUM_CELLS)
    for arr in (index_to_code, code_to_index):
        arr.setflags(write=False)
    return index_to_code, code_to_index


def benchmark_ops_matrix() -> np.ndarray:
    """(15625, 6) op indices of every cell, rows in benchmark index order (read-only)."""
    index_to_code, _ = _benchmark_order()
    return _code_digits(index_to_code)


def _code_digits(codes: np.ndarray) -> np.ndarray:
    """(n, 6) per-edge op indices of an array of codes."""
    return (np.asarray(codes)[:, None] // _PLACE[None, :]) % NUM_OPS


def benchmark_index_of(cell: NB201Cell) -> int:
    return int(_benchmark_order()[1][cell.code])


def benchmark_cell_at(index: int) -> NB201Cell:
    if not 0 <= index < NUM_CELLS:
        raise InvalidArchitecture("index", f"benchmark index must be in [0, {NUM_CELLS - 1}], got {index}")
    return NB201Cell.from_code(int(_benchmark_order()[0][index]))


def unique_string(cell: NB201Cell) -> str:
    """The benchmark's isomorphism string (``to_unique_str(consider_zero=True)`` of NAS-Bench-201).

    Skip edges pass their input string through, ``none`` edges (or edges from an all-zero node)
    give ``#``, other ops wrap their input as ``(x)@op``; a node joins its sorted inputs with '+'.
    """
    return _unique_of_ops(cell.ops)


def _edge_term(op: str, text: str) -> str:
    if op == "none" or text == "#":
        return "#"
    if op == "skip_connect":
        return text
    return f"({text})@{op}"


def _unique_of_ops(ops: Sequence[str]) -> str:
    nodes = ["0"]
    edge = 0
    for target in (1, 2, 3):
        terms = sorted(_edge_term(ops[edge + source], nodes[source]) for source in range(target))
        nodes.append("+".join(terms))
        edge += target
    return nodes[3]


@cache
def _isomorphism_classes() -> tuple[np.ndarray, tuple[str, ...]]:
    """(class id of every code, unique string of every class); classes numbered by first code.

    Enumerated in code order with node strings shared between cells that agree on earlier edges.
    """
    ids: dict[str, int] = {}
    class_of_code = np.empty(NUM_CELLS, dtype=np.int64)
    code = 0
    for op0 in OPS:
        node1 = _edge_term(op0, "0")
        for op1, op2 in itertools.product(OPS, repeat=2):
            node2 = "+".join(sorted((_edge_term(op1, "0"), _edge_term(op2, node1))))
            for op3, op4, op5 in itertools.product(OPS, repeat=3):
                terms = sorted((_edge_term(op3, "0"), _edge_term(op4, node1), _edge_term(op5, node2)))
                class_of_code[code] = ids.setdefault("+".join(terms), len(ids))
                code += 1
    class_of_code.setflags(write=False)
    return class_of_code, tuple(ids)


def isomorphism_class_ids() -> np.ndarray:
    """Class id (0..6465) of every cell, in benchmark index order (read-only)."""
    class_of_code, _ = _isomorphism_classes()
    out = class_of_code[_benchmark_order()[0]]
    out.setflags(write=False)
    return out


# --- analytic cost: the twin of archspace.nn.nb201 ----------------------------------------------

def _relu_conv_bn(cx: CostTracker, c_in: int, c_out: int, kernel: int, stride: int) -> CostTracker:
    counts.conv2d(cx, c_in, c_out, kernel, stride=stride, padding=kernel // 2)
    return counts.batchnorm2d(cx, c_out)


def edge_op_cost(op: str, channels: int, size: int) -> Complexity:
    """Cost of one edge op on a ``channels`` x ``size`` x ``size`` map (all cell edges keep shape)."""
    cx = CostTracker(size, size)
    if op == "nor_conv_1x1":
        _relu_conv_bn(cx, channels, channels, 1, 1)
    elif op == "nor_conv_3x3":
        _relu_conv_bn(cx, channels, channels, 3, 1)
    elif op == "avg_pool_3x3":
        counts.avgpool2d(cx, 3, 1, 1)
    return cx.result()  # none and skip_connect cost nothing


def _residual_reduction(cx: CostTracker, c_in: int, c_out: int) -> CostTracker:
    """ResNet basic block with stride 2: conv_a, conv_b; shortcut = avg-pool 2x2 then 1x1 conv."""
    shortcut = CostTracker(cx.height, cx.width)
    counts.avgpool2d(shortcut, 2, 2, 0)
    counts.conv2d(shortcut, c_in, c_out, 1, padding=0)
    _relu_conv_bn(cx, c_in, c_out, 3, 2)
    _relu_conv_bn(cx, c_out, c_out, 3, 1)
    cx.flops, cx.params, cx.acts = cx.flops + shortcut.flops, cx.params + shortcut.params, cx.acts + shortcut.acts
    return cx


def stage_geometry(channels: int, resolution: int) -> list[tuple[int, int]]:
    """(channels, spatial size) of the cells of each of the 3 stages."""
    sizes = [resolution]
    for _ in range(2):
        sizes.append(counts.out_size(sizes[-1], 3, 2, 1))
    return [(channels * 2**s, sizes[s]) for s in range(3)]


@cache
def skeleton_cost(channels: int, resolution: int, num_classes: int, in_channels: int) -> Complexity:
    """Everything but the cells: stem conv+BN, two residual reductions, final BN, classifier."""
    cx = CostTracker(resolution, resolution)
    counts.conv2d(cx, in_channels, channels, 3, padding=1)
    counts.batchnorm2d(cx, channels)
    _residual_reduction(cx, channels, 2 * channels)
    _residual_reduction(cx, 2 * channels, 4 * channels)
    counts.batchnorm2d(cx, 4 * channels)
    counts.global_avgpool(cx)
    counts.linear(cx, 4 * channels, num_classes)
    return cx.result()


@cache
def op_cost_table(channels: int, cells_per_stage: int, resolution: int) -> np.ndarray:
    """(5, 3) int64: flops, params, acts that one edge with each op adds to the whole network
    (read-only; cached, since it depends on these three integers only)."""
    table = np.zeros((NUM_OPS, 3), dtype=np.int64)
    for op_index, op in enumerate(OPS):
        for width, size in stage_geometry(channels, resolution):
            c = edge_op_cost(op, width, size)
            table[op_index] += cells_per_stage * np.array([c.flops, c.params, c.acts], dtype=np.int64)
    table.setflags(write=False)
    return table


# --- the space --------------------------------------------------------------------------------

class NB201Space(Space[NB201Cell]):
    """All cells over an allowed subset of ``OPS`` (op masking), with the benchmark macro network.

    ``channels`` (C) and ``cells_per_stage`` (N) size the network that ``build``/``complexity``
    describe; the benchmark's table is for C = 16, N = 5.
    """

    name = "nb201"
    arch_class = NB201Cell

    def __init__(
        self,
        ops: Iterable[str] = OPS,
        cells_per_stage: int = 5,
        channels: int = 16,
        constraints: Sequence[Constraint] = (),
    ) -> None:
        super().__init__(constraints)
        ops = tuple(ops)
        unknown = [op for op in ops if op not in _OP_INDEX]
        if unknown:
            raise UsageError(f"unknown op(s) {unknown}; known ops: {list(OPS)}")
        if not ops:
            raise UsageError(f"an NB201 space needs at least one op from {list(OPS)}")
        if len(set(ops)) != len(ops):
            raise UsageError(f"ops listed twice in {list(ops)}")
        if int(cells_per_stage) < 1:
            raise UsageError(f"cells_per_stage must be >= 1, got {cells_per_stage}")
        if int(channels) < 1:
            raise UsageError(f"channels must be >= 1, got {channels}")
        self.ops: tuple[str, ...] = tuple(op for op in OPS if op in ops)  # canonical OPS order
        self.cells_per_stage = int(cells_per_stage)
        self.channels = int(channels)
        self._op_ids = np.array([_OP_INDEX[op] for op in self.ops], dtype=np.int64)

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
        return _benchmark_order()[1][ops @ _PLACE]

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

    # --- cost and model ----------------------------------------------------------------------
    def complexity(
        self, arch: NB201Cell, resolution: int = 32, num_classes: int = 10, in_channels: int = 3, **_: Any
    ) -> Complexity:
        """Analytic flops/params/acts of ``build(arch)`` on a ``resolution``^2 image (see module doc)."""
        self.validate(arch)
        total = skeleton_cost(self.channels, resolution, num_classes, in_channels)
        table = op_cost_table(self.channels, self.cells_per_stage, resolution)
        flops, params, acts = table[list(arch.op_indices)].sum(axis=0)
        return total + Complexity(int(flops), int(params), int(acts))

    def complexity_all(
        self, resolution: int = 32, num_classes: int = 10, in_channels: int = 3
    ) -> dict[str, np.ndarray]:
        """``complexity`` of all 15,625 cells at once (int64 arrays in benchmark index order)."""
        base = skeleton_cost(self.channels, resolution, num_classes, in_channels)
        per_edge = op_cost_table(self.channels, self.cells_per_stage, resolution)[benchmark_ops_matrix()]
        summed = per_edge.sum(axis=1)
        return {
            "flops": summed[:, 0] + base.flops,
            "params": summed[:, 1] + base.params,
            "acts": summed[:, 2] + base.acts,
        }

    def build(self, arch: NB201Cell, num_classes: int = 10, in_channels: int = 3, **_: Any) -> Any:
        """The benchmark's macro network for ``arch`` as a ``torch.nn.Module``."""
        from archspace.nn.nb201 import NB201Network

        self.validate(arch)
        return NB201Network(
            arch.ops,
            channels=self.channels,
            cells_per_stage=self.cells_per_stage,
            num_classes=num_classes,
            in_channels=in_channels,
        )

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
