"""Study API: optimize, resume by replay, states, predictions, the trial table, the population."""

from __future__ import annotations

import os
import socket

import numpy as np
import pytest

from archspace.errors import StorageError, UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.search.population import PopulationStrategy
from archspace.spaces.base import Regime
from archspace.spaces.nb201 import NB201Space
from archspace.study import Study
from archspace.study.driver import trial_seed
from study_support import PacedTable, TroubledTable, make_strategy


def test_population_is_distinct_in_regime_and_deterministic():
    space = NB201Space()
    cx = {"resolution": 32, "num_classes": 10}
    regime = Regime(params=(0.5e6, 1.0e6))
    a = PopulationStrategy(space, 40, regime, seed=3, complexity_kwargs=cx)
    b = PopulationStrategy(space, 60, regime, seed=3, complexity_kwargs=cx)
    assert len(set(a.population)) == 40
    assert all(regime.contains(space.complexity(arch, **cx)) for arch in a.population)
    assert a.population == b.population[:40]  # growing n keeps the first models
    assert [a.ask() for _ in range(40)] == a.population
    with pytest.raises(Exception, match="all 40 models"):
        a.ask()
    with pytest.raises(UsageError, match="widen the regime"):
        PopulationStrategy(space, 5, Regime(params=(0, 10)), seed=0, complexity_kwargs=cx, max_draws=2000)


def test_population_study_evaluates_each_model_once(tmp_path):
    study = Study.create("pop", tmp_path / "s.db", seed=5)
    summary = study.optimize(make_strategy("population", 50), NB201Benchmark(), 50)
    frame = study.trials_dataframe()
    assert summary.counts["complete"] == 50 and summary.finished == 50
    assert list(frame["number"]) == list(range(50))
    assert frame["arch_hash"].is_unique
    assert list(frame["arch_hash"]) == [c.spec_hash() for c in NB201Space().sample_distinct(50, 0)]
    assert list(frame["seed"]) == [trial_seed(5, n) for n in range(50)]
    # objective is 100 - the table's cifar10 validation accuracy, expanded metrics beside it
    assert np.allclose(frame["objective"], 100 - frame["cifar10_valid_200"])
    assert {"params", "simulated_seconds", "duration_s", "started_at"} <= set(frame.columns)
    best = study.best_trial()
    assert best is not None and best.objective == frame["objective"].min()
    # running again with the same target does nothing new
    study.optimize(make_strategy("population", 50), NB201Benchmark(), 50)
    assert len(study.trials_dataframe()) == 50


def test_resumed_search_continues_the_same_sequence(tmp_path):
    whole = Study.create("evo", tmp_path / "whole.db")
    whole.optimize(make_strategy("evolution", 0), NB201Benchmark(), 60)
    parts = Study.create("evo", tmp_path / "parts.db")
    for target in (7, 23, 24, 60):  # each call builds a fresh strategy and replays the log
        parts.optimize(make_strategy("evolution", 0), NB201Benchmark(), target)
    expected = whole.trials_dataframe()[["arch_hash", "objective"]]
    got = parts.trials_dataframe()[["arch_hash", "objective"]]
    assert expected.equals(got)
    # a strategy built with other arguments cannot continue this study
    with pytest.raises(StorageError, match="does not reproduce"):
        parts.optimize(make_strategy("evolution", 0, seed=1), NB201Benchmark(), 70)


def test_failed_and_diverged_trials_are_kept_and_retry_failed_requeues(tmp_path):
    study = Study.create("trouble", tmp_path / "s.db")
    summary = study.optimize(make_strategy("population", 120), TroubledTable(), 120)
    frame = study.trials_dataframe()
    firsts = [study.trial(n).arch.ops[0] for n in frame["number"]]
    expected_failed = firsts.count("none")
    assert expected_failed > 0 and summary.counts["failed"] == expected_failed
    assert summary.counts["diverged"] == firsts.count("avg_pool_3x3") > 0
    assert summary.finished == 120
    failed = frame[frame["state"] == "failed"]
    assert failed["error"].str.contains("Traceback").all()
    assert failed["error"].str.contains("ValueError: cell .* has no input edge").all()
    assert failed["objective"].isna().all()
    # per-example predictions are stored compressed beside the database
    done = int(frame[frame["state"] == "complete"]["number"].iloc[0])
    arrays = study.load_predictions(done)
    rng = np.random.default_rng(study.trial(done).seed)
    assert np.array_equal(arrays["val_logits"], rng.standard_normal((50, 10)).astype(np.float32))
    path = study.predictions_path(done)
    assert path.startswith(str(tmp_path / "s.db.predictions")) and path.endswith(".npz")
    with pytest.raises(UsageError, match="no stored predictions"):
        study.load_predictions(int(failed["number"].iloc[0]))
    # retry-failed: the same trials are evaluated again (still failing here), nothing duplicated
    numbers = study.retry_failed()
    assert numbers == list(failed["number"])
    assert study.counts()["waiting"] == expected_failed
    study.optimize(make_strategy("population", 120), TroubledTable(), 120)
    again = study.trials_dataframe()
    assert len(again) == 120 and (again["state"] == "failed").sum() == expected_failed
    assert (again.set_index("number").loc[numbers, "attempts"] == 2).all()


def test_stored_evaluator_is_rebuilt(tmp_path):
    study = Study.create("ev", tmp_path / "s.db")
    study.optimize(make_strategy("population", 3), PacedTable(0.0, "cifar100_valid_12"), 3)
    rebuilt = Study.load("ev", tmp_path / "s.db").evaluator()
    assert isinstance(rebuilt, PacedTable) and rebuilt.metric == "cifar100_valid_12"


def test_bad_arguments_and_names(tmp_path):
    db = tmp_path / "s.db"
    study = Study.create("a", db)
    with pytest.raises(UsageError, match="already exists"):
        Study.create("a", db)
    assert Study.create("a", db, load_if_exists=True).study_id == study.study_id
    with pytest.raises(UsageError, match="no study named 'b'"):
        Study.load("b", db)
    with pytest.raises(UsageError, match="study name"):
        Study.create("", db)
    with pytest.raises(UsageError, match="n_trials"):
        study.optimize(make_strategy("population", 3), NB201Benchmark(), 0)
    with pytest.raises(UsageError, match="strategy"):
        study.optimize(make_strategy("population", 3), NB201Benchmark(), 3)
        study.optimize(make_strategy("evolution", 3), NB201Benchmark(), 3)


def test_a_live_driver_holds_the_study(tmp_path):
    study = Study.create("held", tmp_path / "s.db")
    parent = f"{socket.gethostname()}:{os.getppid()}"  # a live process that is not us
    with study.storage.transaction() as db:
        db.execute("UPDATE studies SET driver = ? WHERE study_id = ?", (parent, study.study_id))
    with pytest.raises(StorageError, match="being run by process"):
        study.optimize(make_strategy("population", 3), NB201Benchmark(), 3)
    dead = f"{socket.gethostname()}:{2**22 + 12345}"  # above pid_max: never a live process
    with study.storage.transaction() as db:
        db.execute("UPDATE studies SET driver = ? WHERE study_id = ?", (dead, study.study_id))
    assert study.optimize(make_strategy("population", 3), NB201Benchmark(), 3).finished == 3
