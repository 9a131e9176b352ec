"""The NAS-Bench-201 cell space: strings, benchmark order, isomorphism, moves, encodings, cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from archspace.arch import arch_from_json
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.nb201.index import (
    benchmark_ops_matrix,
    isomorphism_class_ids,
    unique_string,
)
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import NUM_CELLS, OPS
from archspace.spaces.base import Constraint
from archspace.spaces.nb201 import NB201Space

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
ALL_3X3 = NB201Cell(("nor_conv_3x3",) * 6)


@pytest.fixture(scope="module")
def csv(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "nb201" / "nb201.csv", usecols=["index", "arch", "unique", "params_mb"])


@pytest.fixture(scope="module")
def space() -> NB201Space:
    return NB201Space()


def test_strings_and_index_order_match_the_benchmark_for_every_cell(space, csv):
    cells = [space.cell_at(i) for i in range(NUM_CELLS)]
    assert [c.to_string() for c in cells] == csv["arch"].tolist()
    assert [NB201Cell.from_string(s) for s in csv["arch"]] == cells
    assert [space.index_of(c) for c in cells] == list(range(NUM_CELLS))


def test_unique_strings_match_the_benchmark_and_give_6466_classes(space, csv):
    cells = [space.cell_at(i) for i in range(NUM_CELLS)]
    assert [unique_string(c) for c in cells] == csv["unique"].tolist()
    ids = isomorphism_class_ids()
    assert len(np.unique(ids)) == 6466 == space.summary()["isomorphism_classes"]
    # same class id <=> same benchmark unique string
    codes = pd.factorize(csv["unique"])[0]
    assert len(set(zip(ids.tolist(), codes.tolist(), strict=True))) == 6466


def test_canonical_is_a_class_invariant_member(space):
    ids = isomorphism_class_ids()
    rng = np.random.default_rng(0)
    for i in rng.choice(NUM_CELLS, 200, replace=False):
        cell = space.cell_at(int(i))
        rep = space.canonical(cell)
        assert unique_string(rep) == unique_string(cell)
        assert space.canonical(rep) == rep
        same_class = np.flatnonzero(ids == ids[i])
        assert all(space.canonical(space.cell_at(int(j))) == rep for j in same_class)
        assert rep.code == min(space.cell_at(int(j)).code for j in same_class)


def test_canonical_in_a_masked_space_stays_in_the_space():
    masked = NB201Space(ops=("skip_connect", "nor_conv_3x3", "avg_pool_3x3"))
    cell = NB201Cell(("nor_conv_3x3", "skip_connect", "avg_pool_3x3", "skip_connect", "nor_conv_3x3", "skip_connect"))
    rep = masked.canonical(cell)
    assert set(rep.ops) <= set(masked.ops)
    assert unique_string(rep) == unique_string(cell)
    # a dead edge: node 1 unused when edges 2<-1 and 3<-1 are none; its op is free
    dead = NB201Cell(("nor_conv_3x3", "skip_connect", "none", "nor_conv_1x1", "none", "skip_connect"))
    assert NB201Space().canonical(dead).ops[0] == "none"


def test_string_errors_are_specific():
    with pytest.raises(InvalidArchitecture, match="3 '\\+'-separated nodes"):
        NB201Cell.from_string("|none~0|+|none~0|none~1|")
    with pytest.raises(InvalidArchitecture, match="unknown op 'conv_5x5'"):
        NB201Cell.from_string("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(InvalidArchitecture, match="needs 2 incoming"):
        NB201Cell.from_string("|none~0|+|none~0|+|none~0|none~1|none~2|")
    with pytest.raises(InvalidArchitecture, match="must be 'op~1'"):
        NB201Cell.from_string("|none~0|+|none~0|none~0|+|none~0|none~1|none~2|")
    with pytest.raises(InvalidArchitecture, match="must look like"):
        NB201Cell.from_string("none~0+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(InvalidArchitecture, match="expected 6 ops"):
        NB201Cell(("none",) * 5)
    with pytest.raises(InvalidArchitecture, match=r"ops\[2\].*unknown op 'max_pool'"):
        NB201Cell(("none", "none", "max_pool", "none", "none", "none"))


def test_json_round_trip_and_hash():
    cell = NB201Cell.from_string(BEST_C10)
    back = arch_from_json(cell.to_json())
    assert back == cell and isinstance(back.ops, tuple) and hash(back) == hash(cell)
    assert back.spec_hash() == cell.spec_hash()
    assert cell.to_dict() == {"kind": "nb201", "ops": list(cell.ops)}


def test_masked_op_is_rejected_by_validate():
    space = NB201Space(ops=OPS[1:])
    cell = NB201Cell(("skip_connect", "none", "nor_conv_1x1", "nor_conv_1x1", "nor_conv_1x1", "nor_conv_1x1"))
    with pytest.raises(InvalidArchitecture, match=r"ops\[1\]: op 'none' is masked"):
        space.validate(cell)
    with pytest.raises(UsageError, match="unknown op"):
        NB201Space(ops=("none", "conv"))
    with pytest.raises(UsageError):
        NB201Space(ops=())


def test_neighbors_counts_and_distances(space):
    cell = NB201Cell.from_string(BEST_C10)
    one = space.neighbors(cell, 1)
    assert len(one) == 24 and len(set(one)) == 24 and cell not in one
    assert all(sum(a != b for a, b in zip(n.ops, cell.ops, strict=True)) == 1 for n in one)
    assert len(space.neighbors(cell, 2)) == 24 + 15 * 16
    assert len(space.neighbors(cell, 2, exact=True)) == 15 * 16
    masked = NB201Space(ops=("skip_connect", "nor_conv_3x3", "avg_pool_3x3", "nor_conv_1x1"))
    assert len(masked.neighbors(cell, 1)) == 6 * 3
    with pytest.raises(UsageError, match="distance"):
        space.neighbors(cell, 0)


def test_sample_and_mutate_are_seeded_and_respect_the_mask():
    space = NB201Space(ops=("skip_connect", "nor_conv_3x3"))
    draws = [space.sample(np.random.default_rng(7)) for _ in range(2)]
    assert draws[0] == draws[1]
    rng = np.random.default_rng(1)
    cells = [space.sample(rng) for _ in range(200)]
    assert all(set(c.ops) <= {"skip_connect", "nor_conv_3x3"} for c in cells)
    assert len(set(cells)) > 40
    for cell in cells[:50]:
        child = space.mutate(cell, rng)
        assert sum(a != b for a, b in zip(child.ops, cell.ops, strict=True)) == 1
        assert set(child.ops) <= set(space.ops)
    assert space.mutate(cells[0], 3) == space.mutate(cells[0], 3)
    with pytest.raises(UsageError, match="single op"):
        NB201Space(ops=("nor_conv_3x3",)).mutate(ALL_3X3, 0)


def test_constraints_filter_sampling_and_enumeration():
    no_pool = Constraint("no_pool_on_output", lambda c: c.ops[5] != "avg_pool_3x3", "edge 3<-2 is not a pool")
    space = NB201Space(constraints=[no_pool])
    assert all(space.sample(s).ops[5] != "avg_pool_3x3" for s in range(50))
    assert len(space.all_cells()) == 4 * 5**5
    with pytest.raises(InvalidArchitecture, match="no_pool_on_output"):
        space.validate(NB201Cell(("none",) * 5 + ("avg_pool_3x3",)))


def test_all_cells_of_a_masked_space_in_benchmark_order():
    space = NB201Space(ops=("none", "nor_conv_3x3"))
    cells = space.all_cells()
    assert len(cells) == 64 == space.summary()["size"]
    indices = [space.index_of(c) for c in cells]
    assert indices == sorted(indices) == space.allowed_indices.tolist()


def test_encodings(space):
    cell = NB201Cell.from_string(BEST_C10)
    onehot = space.encode(cell)
    assert onehot.shape == (30,) and onehot.sum() == 6
    assert onehot.reshape(6, 5).argmax(axis=1).tolist() == [3, 3, 3, 1, 3, 2]
    assert space.encode_edges(cell).tolist() == [3, 3, 3, 1, 3, 2]
    indices = np.arange(0, NUM_CELLS, 997)
    batch = space.encode_indices(indices)
    assert np.array_equal(batch, np.stack([space.encode(space.cell_at(int(i))) for i in indices]))
    assert benchmark_ops_matrix().shape == (NUM_CELLS, 6)


def test_analytic_params_agree_with_the_table(space, csv):
    """Exact for 15,475 cells; the other 150 rows of the public table carry the parameter count of
    an isomorphic cell (exactly one 1x1 or 3x3 conv edge more or fewer than the row's own cell)."""
    assert space.complexity(ALL_3X3).params == 1_531_546
    analytic = space.complexity_all()["params"]
    table = np.round(csv["params_mb"].to_numpy() * 1e6).astype(np.int64)
    agree = analytic == table
    assert agree.sum() == 15_475
    one_conv_edge = {5 * sum(k * k * c * c + 2 * c for c in (16, 32, 64)) for k in (1, 3)}  # 28,000 / 243,040
    assert set(np.abs(table - analytic)[~agree].tolist()) == one_conv_edge
    ids = isomorphism_class_ids()
    for i in np.flatnonzero(~agree):
        assert table[i] in set(analytic[ids == ids[i]].tolist())


def test_complexity_matches_the_vectorized_form_and_scales(space):
    everything = space.complexity_all(resolution=16, num_classes=120)
    for i in (0, 1, 6111, 15624):
        cx = space.complexity(space.cell_at(i), resolution=16, num_classes=120)
        assert (cx.flops, cx.params, cx.acts) == tuple(int(everything[k][i]) for k in ("flops", "params", "acts"))
    all_none = space.complexity(NB201Cell(("none",) * 6))
    # stem 464 + reductions 14,464 and 57,600 + final BN 128 + classifier 650
    assert all_none.params == 73_306
    assert all_none.params + 6 * 243_040 == 1_531_546
    bigger = NB201Space(channels=32, cells_per_stage=2)
    assert bigger.complexity(ALL_3X3).params != space.complexity(ALL_3X3).params


def test_vectorized_index_lookup(space):
    ops = benchmark_ops_matrix()
    assert np.array_equal(space.indices_of_ops(ops), np.arange(NUM_CELLS))
    assert space.indices_of_ops(np.array([space.encode_edges(ALL_3X3)])).tolist() == [space.index_of(ALL_3X3)]
    with pytest.raises(UsageError, match="op indices"):
        space.indices_of_ops(np.full((2, 6), 5))
