"""The benchmark's index order and the isomorphism classes of the 15,625 NAS-Bench-201 cells.

* the *benchmark index*: the row of the official NAS-Bench-201 / NATS-Bench API, shipped as the
  ``ops`` array of ``archspace/resources/nb201_table.npz`` (``benchmark_index_of`` /
  ``benchmark_cell_at``);
* isomorphism classes: cells computing the same function up to reordering, identified by the
  benchmark's own ``unique`` string (``unique_string``; 6,466 classes over the full space).

Both are process-wide, read-only caches.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from archspace.errors import DataError, InvalidArchitecture
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import NUM_CELLS, NUM_EDGES, NUM_OPS, OPS, PLACE

TABLE_RESOURCE = "nb201_table.npz"


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
    index_to_code = ops @ PLACE
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
    return (np.asarray(codes)[:, None] // PLACE[None, :]) % NUM_OPS


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


def parse_cell(value: str | int | NB201Cell) -> NB201Cell:
    """A cell from a cell string, a benchmark index (int or digit string) or a cell."""
    if isinstance(value, NB201Cell):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return benchmark_cell_at(int(value))
    if isinstance(value, str) and value.strip().isdigit():
        return benchmark_cell_at(int(value.strip()))
    return NB201Cell.from_string(value)

