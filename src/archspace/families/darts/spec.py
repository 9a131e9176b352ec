"""DARTS genotypes (kind ``darts``): a normal and a reduction cell as ``(op, input)`` pairs.

``DartsGenotype.from_string`` reads the reference code's text, e.g.
``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...],
reduce_concat=range(2, 6))``, and ``to_string`` writes it back (concat lists written out). Pairs
``2j`` and ``2j + 1`` feed intermediate node ``j`` (state ``j + 2``); an input is a cell input
(0, 1) or an earlier node. The family accepts any node count (NASNet and AmoebaNet have 5) and
any op of ``table.OP_TABLE``; the search space (``archspace.spaces.darts``) narrows that down.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archspace.arch import ArchSpec, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.darts.table import ALL_OPS, OP_TABLE

Pairs = tuple[tuple[str, int], ...]
CELLS = ("normal", "reduce")


def _pairs(value: Any, cell: str) -> Pairs:
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InvalidArchitecture(cell, f"expected a non-empty list of (op, input) pairs, got {value!r}")
    if len(value) % 2:
        raise InvalidArchitecture(cell, f"needs two (op, input) pairs per node, got {len(value)} pairs")
    out = []
    for k, pair in enumerate(value):
        node = k // 2
        where = f"{cell}[{k}] (node {node + 2})"
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidArchitecture(where, f"expected an (op, input) pair, got {pair!r}")
        op, source = pair
        if op not in OP_TABLE:
            raise InvalidArchitecture(where, f"unknown op {op!r}; known ops: {list(ALL_OPS)}")
        if isinstance(source, bool) or not isinstance(source, int):
            raise InvalidArchitecture(where, f"input must be an integer state index, got {source!r}")
        if not 0 <= source < node + 2:
            kind = "itself" if source == node + 2 else ("a later node" if source > node + 2 else "a negative index")
            raise InvalidArchitecture(where, f"input {source} is {kind}; node {node + 2} reads states 0..{node + 1}")
        out.append((str(op), int(source)))
    return tuple(out)


def _concat(value: Any, nodes: int, cell: str) -> tuple[int, ...]:
    field = f"{cell}_concat"
    if isinstance(value, range):
        value = list(value)
    if isinstance(value, str) or not isinstance(value, Sequence) or not value:
        raise InvalidArchitecture(field, f"expected a non-empty list of node states, got {value!r}")
    out = []
    for state in value:
        if isinstance(state, bool) or not isinstance(state, int) or not 2 <= state < nodes + 2:
            raise InvalidArchitecture(field, f"states must be integers in [2, {nodes + 1}], got {state!r}")
        out.append(int(state))
    if sorted(set(out)) != out:
        raise InvalidArchitecture(field, f"states must be ascending and distinct, got {out}")
    return tuple(out)


@register_kind
@dataclass(frozen=True)
class DartsGenotype(ArchSpec):
    """A DARTS genotype: normal and reduction cells with the nodes each concatenates."""

    kind = "darts"
    normal: Pairs
    normal_concat: tuple[int, ...]
    reduce: Pairs
    reduce_concat: tuple[int, ...]

    def __post_init__(self) -> None:
        for cell in CELLS:
            pairs = _pairs(getattr(self, cell), cell)
            object.__setattr__(self, cell, pairs)
            object.__setattr__(self, f"{cell}_concat", _concat(getattr(self, f"{cell}_concat"), len(pairs) // 2, cell))

    def nodes(self, cell: str) -> int:
        return len(getattr(self, cell)) // 2

    def ops(self) -> list[str]:
        """Every op of both cells (normal first)."""
        return [op for op, _ in self.normal] + [op for op, _ in self.reduce]

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> DartsGenotype:
        try:
            return cls(**data)
        except TypeError as exc:
            raise InvalidArchitecture(cls.kind, str(exc)) from None

    def to_string(self) -> str:
        """The reference code's ``Genotype(...)`` text."""
        def pairs(p: Pairs) -> str:
            return "[" + ", ".join(f"({op!r}, {i})" for op, i in p) + "]"
        return (f"Genotype(normal={pairs(self.normal)}, normal_concat={list(self.normal_concat)}, "
                f"reduce={pairs(self.reduce)}, reduce_concat={list(self.reduce_concat)})")

    @classmethod
    def from_string(cls, text: str) -> DartsGenotype:
        """Parse ``Genotype(normal=[...], normal_concat=..., reduce=[...], reduce_concat=...)``."""
        return cls(**_parse_genotype(text))


_EXAMPLE = "Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[2, 3, 4, 5])"
_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _parse_genotype(text: str) -> dict[str, Any]:
    """Keyword fields of a ``Genotype(...)`` call, evaluated as literals (``range(a, b)`` allowed)."""
    if not isinstance(text, str):
        raise InvalidArchitecture("genotype", f"expected genotype text, got {type(text).__name__}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise InvalidArchitecture("genotype", f"malformed genotype text at column {exc.offset}: "
                                  f"expected {_EXAMPLE}") from None
    call = tree.body
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name) or call.func.id != "Genotype":
        raise InvalidArchitecture("genotype", f"expected {_EXAMPLE}")
    if call.args:
        raise InvalidArchitecture("genotype", "fields must be given by name (normal=..., normal_concat=..., ...)")
    fields: dict[str, Any] = {}
    for keyword in call.keywords:
        if keyword.arg not in _FIELDS:
            raise InvalidArchitecture(str(keyword.arg), f"unknown genotype field; fields: {list(_FIELDS)}")
        fields[keyword.arg] = _literal(keyword.value, keyword.arg)
    missing = [f for f in _FIELDS if f not in fields]
    if missing:
        raise InvalidArchitecture(missing[0], "missing from the genotype text")
    return fields


def _literal(node: ast.expr, field: str) -> Any:
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
            and not node.keywords and 1 <= len(node.args) <= 2):
        bounds = [_literal(a, field) for a in node.args]
        if all(isinstance(b, int) for b in bounds):
            return list(range(*bounds))
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise InvalidArchitecture(field, f"must be a literal list (or range(a, b)), got {ast.unparse(node)!r}") from None
