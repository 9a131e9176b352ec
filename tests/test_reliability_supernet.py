"""`supernet rank` reuses a stored ranking only for the same experiment (issue 12, section 1).

A tiny supernet (1 cell per stage, 4 channels, one epoch on 128 sklearn-digits images) is ranked
once; rerunning with another --split, --bn-batches or --dataset under the same study name is
refused with the differing option named, the stored ranking untouched, and another --study runs it.
"""

from __future__ import annotations

import json

import pytest

from archspace.cli import main
from archspace.study import Study

DATA = ["--dataset", "digits", "--val-size", "200", "--threads", "1"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    path = tmp_path_factory.mktemp("supernet") / "tiny.pt"
    argv = ["supernet", "train", *DATA, "--channels", "4", "--cells-per-stage", "1", "--epochs", "1",
            "--train-subset", "128", "--batch-size", "64", "--checkpoint", str(path), "--json"]
    assert main(argv) == 0
    return path


def _rank(checkpoint, db, *extra):
    return main(["supernet", "rank", "--checkpoint", str(checkpoint), "--db", str(db), "--cells", "3",
                 "--bn-batches", "1", "--bn-batch-size", "32", *DATA, *extra, "--json"])


def test_a_different_experiment_is_refused_by_name(checkpoint, tmp_path, capsys):
    db = tmp_path / "rank.db"
    assert _rank(checkpoint, db) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["bn_recompute"] == {"batches": 1, "batch_size": 32, "seed": 0}
    stored = [t.objective for t in Study.load(first["study"], db).trials()]
    for change, named in ((["--split", "test"], "split"), (["--bn-batches", "2"], "bn_batches"),
                          (["--val-size", "300"], "val_size")):
        assert _rank(checkpoint, db, *change) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and f"{named}: stored" in err
    assert [t.objective for t in Study.load(first["study"], db).trials()] == stored
    # the same experiment resumes (nothing re-evaluated); another study name runs the new one
    assert _rank(checkpoint, db) == 0
    assert json.loads(capsys.readouterr().out)["ranking"] == first["ranking"]
    assert _rank(checkpoint, db, "--split", "test", "--study", "other") == 0
    assert json.loads(capsys.readouterr().out)["study"] == "other"
