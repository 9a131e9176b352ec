"""NAS-Bench-201 cell specs (kind ``nb201``): the op on each of the 6 edges, and the benchmark string.

The *code* of a cell is its ops read as a base-5 number in ``OPS`` order, edge 1<-0 most
significant (pure arithmetic, what sampling and encodings use). Edge order and ops: ``table``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from archspace.arch import ArchSpec, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.nb201.table import NUM_CELLS, NUM_EDGES, NUM_OPS, OP_INDEX, OPS


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
            if op not in OP_INDEX:
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
        return tuple(OP_INDEX[op] for op in self.ops)

    @property
    def code(self) -> int:
        """The cell's ops as a base-5 number (edge 1<-0 most significant)."""
        code = 0
        for op in self.ops:
            code = code * NUM_OPS + OP_INDEX[op]
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
            if name not in OP_INDEX:
                raise InvalidArchitecture(
                    f"node {target}", f"unknown op {name!r}; known ops: {list(OPS)}"
                )
            ops.append(name)
    return tuple(ops)
