"""The dashboard's spec statistics and its cache, without a server."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archspace.analysis.widths import model_statistics
from archspace.dashboard.cache import StudyCache, error_summary
from archspace.dashboard.charts import _ranks, _spearman
from archspace.dashboard.specs import spec_statistics
from archspace.spaces.registry import get_space
from archspace.study import Study
from archspace.study.read_store import ReadStore
from study_support import PacedTable, make_strategy


@pytest.mark.parametrize("space", ["regnetx", "anynetx_a", "anynetx_e"])
def test_stage_statistics_equal_the_analysis_function(space):
    family = get_space(space)
    for seed in range(25):
        spec = family.sample(seed)
        assert spec_statistics(spec.to_json()) == pytest.approx(model_statistics(spec, with_fit=False))


def test_cell_statistics_name_every_edge_and_count_every_op():
    stats = spec_statistics(json.dumps({"kind": "nb201", "ops": ["none", "skip_connect", "nor_conv_3x3",
                                                                 "nor_conv_3x3", "avg_pool_3x3", "none"]}))
    assert stats["edge 1<-0"] == "none" and stats["edge 3<-2"] == "none" and stats["edge 2<-1"] == "nor_conv_3x3"
    assert [stats[f"count {op}"] for op in ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                            "avg_pool_3x3")] == [2, 1, 0, 2, 1]


def test_other_kinds_fall_back_to_numeric_fields():
    assert spec_statistics('{"kind": "mlp", "widths": [64, 32], "dropout": 0.1, "act": "relu", "bn": true}') == {
        "widths[0]": 64.0, "widths[1]": 32.0, "dropout": 0.1}
    assert spec_statistics("not json") == {} and spec_statistics("[1, 2]") == {}


def test_spearman_with_ties_matches_the_textbook_value():
    x = np.array([1, 2, 2, 3, 5.0])
    y = np.array([2, 1, 4, 3, 5.0])
    assert _ranks(x).tolist() == [1, 2.5, 2.5, 4, 5]
    # Pearson correlation of the ranks, by hand: rx = [1, 2.5, 2.5, 4, 5], ry = [2, 1, 4, 3, 5]
    rx, ry = np.array([1, 2.5, 2.5, 4, 5]), np.array([2, 1, 4, 3, 5.0])
    expected = ((rx - 3) @ (ry - 3)) / np.sqrt(((rx - 3) ** 2).sum() * ((ry - 3) ** 2).sum())
    assert _spearman(x, y) == pytest.approx(expected) and _spearman(np.ones(5), y) is None


def test_error_summary_keeps_the_exception_line():
    assert error_summary("Traceback (most recent call last):\n  File x\nValueError: bad cell\n") == "ValueError: bad cell"
    assert error_summary(None) is None and len(error_summary("x" * 1000)) == 300


def test_cache_keeps_whole_studies_and_drops_the_least_recently_used(tmp_path):
    db = tmp_path / "s.db"
    for name in ("a", "b", "c"):
        Study.create(name, db, seed=0).optimize(make_strategy("population", 6), PacedTable(0.0), 6)
    cache = StudyCache(max_rows=12)
    with ReadStore.open(db) as store:
        ids = {s.name: s.study_id for s in store.studies()}
        for name in ("a", "b", "c"):
            assert len(cache.get(store, name, ids[name]).rows) == 6
        assert cache.rows == 12  # "a" went: a, b and c together exceed 12 rows
        assert [key[0] for key in cache._studies] == ["b", "c"]
        cache.get(store, "b", ids["b"])
        cache.get(store, "a", ids["a"])
        assert [key[0] for key in cache._studies] == ["b", "a"]


def test_immutable_snapshots_still_see_new_trials_after_refresh(tmp_path):
    """The fallback for file systems without WAL shared memory: one snapshot per refresh, of what
    the writer has checkpointed into the file (here: when its connection closes)."""
    db = tmp_path / "s.db"
    study = Study.create("s", db, seed=0)
    study.optimize(make_strategy("population", 8), PacedTable(0.0), 4)
    study.storage.close()
    store = ReadStore(db, immutable=True)
    store.refresh()
    (overview,) = store.studies()
    first, cursor = store.finished_since(overview.study_id, 0)
    assert [t["number"] for _, t in first] == [0, 1, 2, 3]
    study = Study.load("s", db)
    study.optimize(make_strategy("population", 8), PacedTable(0.0), 8)
    study.storage.close()
    store.refresh()
    later, _ = store.finished_since(overview.study_id, cursor)
    assert [t["number"] for _, t in later] == [4, 5, 6, 7]
    store.close()


def test_charts_of_a_busy_study_are_recomputed_at_most_once_a_second(tmp_path):
    from archspace.dashboard.charts import study_charts

    db = tmp_path / "s.db"
    study = Study.create("s", db, seed=0)
    study.optimize(make_strategy("population", 12), PacedTable(0.0), 6)
    with ReadStore.open(db) as store:
        (overview,) = store.studies()
        cache = StudyCache()
        cached = cache.get(store, "s", overview.study_id)
        first = study_charts(cached, now=100.0)
        assert first["complete"] == 6 and first["cursor"] == cached.cursor
        study.optimize(make_strategy("population", 12), PacedTable(0.0), 12)
        cached = cache.get(store, "s", overview.study_id)
        assert study_charts(cached, now=100.5) is first  # too soon: the last answer, saying what it covers
        assert first["cursor"] < cached.cursor
        again = study_charts(cached, now=101.5)
        assert again["complete"] == 12 and again["cursor"] == cached.cursor
        assert study_charts(cached, now=101.6) is again
