"""A committee pool trained as a study (real trainer, digits) and read back as prediction pools."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.committee.inputs import pools_from_study
from archspace.errors import DataError, UsageError
from archspace.evaluators.training import TrainingEvaluator
from archspace.experiments.committees import train_pool
from archspace.search.fixed import FixedList
from archspace.spaces.zoo import get_model
from archspace.train import Recipe

RECIPE = Recipe(epochs=1, subset=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    db = tmp_path_factory.mktemp("pool") / "pool.db"
    study = train_pool("pool", db, [get_model("anynetx_tiny")], TrainingEvaluator("digits", RECIPE), repeats=2)
    return study, db


def test_two_seeds_of_one_arch_are_two_members(trained):
    study, db = trained
    heldout, test = pools_from_study("pool", db)
    assert heldout.names == test.names == ("trial0", "trial1")
    assert heldout.num_examples == 287 and test.num_examples == 359
    trials = study.trials(("complete",))
    assert [t.seed for t in trials][0] != [t.seed for t in trials][1]
    assert heldout.costs.tolist() == [t.cost["flops"] for t in trials]
    stored = study.load_predictions(0)
    assert np.array_equal(heldout.logits[0], stored["val_logits"].astype(np.float32))
    assert np.array_equal(test.labels, stored["test_labels"])
    assert not np.array_equal(heldout.logits[0], heldout.logits[1])


def test_rerunning_resumes_without_retraining(trained):
    study, db = trained
    again = train_pool("pool", db, [get_model("anynetx_tiny")], TrainingEvaluator("digits", RECIPE), repeats=2)
    assert len(again.trials()) == 2


def test_study_without_predictions_is_rejected(tmp_path):
    db = tmp_path / "bare.db"
    evaluator = TrainingEvaluator("digits", Recipe(epochs=1, subset=100), keep_predictions=False)
    train_pool("bare", db, [get_model("anynetx_tiny")], evaluator, repeats=1)
    with pytest.raises(DataError, match="no complete trials with stored predictions"):
        pools_from_study("bare", db)
    with pytest.raises(UsageError, match="no study named 'other'"):
        pools_from_study("other", db)


def test_member_list_order_and_errors():
    a, b = get_model("anynetx_tiny"), get_model("resnet20_cifar")
    strategy = FixedList([a, b], repeats=2)
    assert [strategy.ask() for _ in range(4)] == [a, a, b, b]
    with pytest.raises(UsageError, match="repeats must be an integer >= 1"):
        FixedList([a], repeats=0)


def test_cli_reads_a_study(trained, tmp_path, capsys):
    import json

    from archspace.cli import main

    _, db = trained
    status = main(["committee", "--study", "pool", "--db", str(db), "--target-accuracy", "5%",
                   "--out", str(tmp_path / "out"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["heldout_examples"] == 287 and report["test_examples"] == 359
    assert report["selected"]["heldout"]["accuracy"] >= 0.05
    assert (tmp_path / "out" / "committees.png").is_file()
