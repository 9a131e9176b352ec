"""Derivation: the discrete architecture a set of arch tensors stands for.

- DARTS rule (``rule="darts"``): per node keep the two incoming edges with the largest
  non-``none`` weight, each with its argmax op excluding ``none`` (the reference ``genotype()``);
  on NB201 every edge is kept and gets its argmax op excluding ``none``.
- NB201 rule (``rule="nb201"``, the NB201 default): argmax op per edge, ``none`` included.

Weights are softmax(alpha) per edge, times the node-normalized edge weights under PC-DARTS edge
normalization. The DARTS space's default is the DARTS rule; the NB201 space's the NB201 rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archspace.errors import UsageError
from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.table import PARAMETER_FREE_OPS as DARTS_FREE
from archspace.families.darts.table import edge_inputs
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import INCOMING, NUM_EDGES
from archspace.families.nb201.table import OPS as NB201_OPS
from archspace.spaces.darts import DartsSpace

RULES = ("darts", "nb201")
NB201_FREE = ("none", "skip_connect", "avg_pool_3x3")


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def edge_strengths(arch: dict[str, np.ndarray], group: str, incoming: Sequence[Sequence[int]]) -> np.ndarray:
    """softmax(alpha) of ``group``, rows scaled by the node-normalized betas if present."""
    weights = softmax(np.asarray(arch[group], dtype=float))
    beta = arch.get(f"{group}_beta")
    if beta is not None:
        beta = np.asarray(beta, dtype=float)
        scale = np.empty_like(beta)
        for edges in incoming:
            scale[list(edges)] = softmax(beta[list(edges)])
        weights = weights * scale[:, None]
    return weights


def derive_nb201(arch: dict[str, np.ndarray], op_names: Sequence[str], rule: str = "nb201") -> NB201Cell:
    """The NB201 cell of ``arch["cell"]`` (columns = ``op_names``)."""
    _check_rule(rule)
    weights = edge_strengths(arch, "cell", [[e for e, _ in INCOMING[t]] for t in (1, 2, 3)])
    if rule == "darts":
        keep = [k for k, op in enumerate(op_names) if op != "none"]
        if not keep:
            raise UsageError("the DARTS rule needs an op other than none")
        picks = [keep[int(np.argmax(weights[e, keep]))] for e in range(NUM_EDGES)]
    else:
        picks = [int(np.argmax(weights[e])) for e in range(NUM_EDGES)]
    return NB201Cell(tuple(op_names[k] for k in picks))


def derive_darts(arch: dict[str, np.ndarray], op_names: Sequence[str], nodes: int = 4,
                 rule: str = "darts") -> DartsGenotype:
    """The genotype of ``arch["normal"]`` / ``arch["reduce"]`` by the DARTS rule (canonical pair order)."""
    _check_rule(rule)
    if rule != "darts":
        raise UsageError("the DARTS space derives with the DARTS rule (the NB201 rule keeps every edge, "
                         "a DARTS node keeps two)")
    keep = [k for k, op in enumerate(op_names) if op != "none"]
    if not keep:
        raise UsageError("the DARTS rule needs an op other than none")
    edges = edge_inputs(nodes)
    incoming = [[e for e, (j, _) in enumerate(edges) if j == n] for n in range(nodes)]
    cells = {}
    for group in ("normal", "reduce"):
        weights = edge_strengths(arch, group, incoming)
        pairs = []
        for node in range(nodes):
            ids = incoming[node]
            strength = [weights[e, keep].max() for e in ids]
            best = sorted(range(len(ids)), key=lambda i: (-strength[i], i))[:2]
            for i in sorted(best):
                e = ids[i]
                pairs.append((op_names[keep[int(np.argmax(weights[e, keep]))]], edges[e][1]))
        cells[group] = pairs
    concat = list(range(2, nodes + 2))
    return DartsSpace.canonical(DartsGenotype(cells["normal"], concat, cells["reduce"], concat))


def parameter_free_share(spec: NB201Cell | DartsGenotype) -> float:
    """Share of parameter-free ops (none, skip, pools) among the ops of a derived cell."""
    if isinstance(spec, NB201Cell):
        ops = list(spec.ops)
        return sum(op in NB201_FREE for op in ops) / len(ops)
    ops = spec.ops()
    return sum(op in DARTS_FREE for op in ops) / len(ops)


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise UsageError(f"unknown derivation rule {rule!r}; known: {list(RULES)}")


__all__ = ["NB201_FREE", "NB201_OPS", "RULES", "derive_darts", "derive_nb201", "edge_strengths",
           "parameter_free_share"]
