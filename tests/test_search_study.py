"""Strategies inside a real SQLite Study: interrupted + resumed equals uninterrupted."""

from __future__ import annotations

import pytest

from archspace.evaluators.nb201 import NB201Benchmark
from archspace.search.registry import make_strategy
from archspace.spaces.nb201 import NB201Space
from archspace.study import Study


@pytest.mark.parametrize("name", ["re", "ls", "na-rs", "tpe"])
def test_resumed_study_replays_the_strategy(tmp_path, name: str) -> None:
    space, bench = NB201Space(), NB201Benchmark()
    options = {"n_nbr": 2} if name == "na-rs" else {}
    whole = Study.create("whole", tmp_path / "a.db", seed=0)
    whole.optimize(make_strategy(name, space, seed=5, **options), bench, n_trials=30)
    parts = Study.create("parts", tmp_path / "b.db", seed=0)
    parts.optimize(make_strategy(name, space, seed=5, **options), bench, n_trials=12)
    parts.optimize(make_strategy(name, space, seed=5, **options), bench, n_trials=30)  # resume
    archs = [t.arch_hash for t in sorted(whole.trials(), key=lambda t: t.number)]
    assert archs == [t.arch_hash for t in sorted(parts.trials(), key=lambda t: t.number)]
    if name != "tpe":  # TPE itself may propose a cell twice
        assert len(set(archs)) == 30
