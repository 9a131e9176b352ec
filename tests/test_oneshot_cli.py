"""`archspace oneshot`: bad input is one line and exit 2 before any work; genotypes prints the
published counts; a tiny search runs end to end and resumes from its checkpoint."""

from __future__ import annotations

import json

import pytest

from archspace.cli import main


@pytest.mark.parametrize(("argv", "needle"), [
    (["--method", "na-darts", "--eps", "1.5"], "--eps must be in (0, 1)"),
    (["--method", "na-darts", "--eps", "0"], "--eps must be in (0, 1)"),
    (["--method", "na-darts", "--n-nbr", "0"], "--n-nbr"),
    (["--space", "darts", "--ops", "max_pool_3x3,none,skip_connect"], "no parametric op"),
    (["--space", "darts", "--ops", "sep_conv_3x3,conv_9x9"], "unknown DARTS op"),
    (["--space", "nb201", "--ops", "none,avg_pool_3x3"], "no parametric op"),
    (["--method", "na-darts", "--neighbors", "multiplicative", "--ops", "nor_conv_3x3,avg_pool_3x3"], "none or skip"),
    (["--space", "darts", "--rule", "nb201"], "DARTS rule"),
    (["--method", "gdas", "--pc", "2"], "PC-DARTS"),
    (["--dataset", "nosuchdata"], "unknown dataset"),
])
def test_bad_input_exits_2_with_one_line(argv, needle, capsys):
    assert main(["oneshot", "search", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and "\n" not in err


def test_genotypes_json(capsys):
    assert main(["oneshot", "genotypes", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["DARTS_V2"]["params"] == 3_349_342 and rows["DARTS_V2"]["params_with_auxiliary"] == 3_825_768


def test_a_tiny_search_runs_and_resumes(tmp_path, capsys):
    argv = ["oneshot", "search", "--space", "nb201", "--method", "gdas", "--dataset", "digits", "--channels", "4",
            "--cells", "1", "--epochs", "1", "--batch-size", "32", "--subset", "64", "--eval-images", "32",
            "--val-size", "100", "--checkpoint", str(tmp_path / "c.pt"), "--out", str(tmp_path / "r.json"), "--json"]
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["finished"] and len(first["history"]) == 1 and first["derived"]["spec"]["kind"] == "nb201"
    assert main(argv) == 0  # resumed: nothing left to do, same result
    again = json.loads(capsys.readouterr().out)
    assert again["resumed_from_step"] == first["steps"] and again["derived"] == first["derived"]
    assert json.loads((tmp_path / "r.json").read_text())["label"] == "gdas"


@pytest.fixture(scope="module")
def search_result(tmp_path_factory):
    """One tiny real search on the digits data, written as ``oneshot search --out`` does."""
    folder = tmp_path_factory.mktemp("oneshot")
    argv = ["oneshot", "search", "--space", "nb201", "--method", "darts", "--dataset", "digits", "--channels", "4",
            "--cells", "1", "--epochs", "1", "--batch-size", "32", "--subset", "64", "--eval-images", "32",
            "--val-size", "100", "--out", str(folder / "r.json"), "--json"]
    assert main(argv) == 0
    return folder / "r.json"


def test_train_derived_trains_the_selected_cell_in_a_study_and_resumes(search_result, tmp_path, capsys):
    capsys.readouterr()
    db = tmp_path / "s.db"
    argv = ["oneshot", "train-derived", str(search_result), "--db", str(db), "--epochs", "1", "--batch-size", "32",
            "--subset", "64", "--no-augment", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    searched = json.loads(search_result.read_text())
    (row,) = out["cells"]
    assert out["space"] == "nb201" and out["space_options"] == {"channels": 4, "cells_per_stage": 1}
    assert row["state"] == "complete" and 0 <= row["val_error"] <= 100 and row["label"] == "darts"
    assert row["arch"] == searched["derived"]["text"] and row["params"] > 0
    assert main(argv[:2] + [str(search_result.parent)] + argv[3:]) == 0  # a folder of results; resumed
    again = json.loads(capsys.readouterr().out)
    assert again["cells"] == out["cells"]  # nothing retrained: the stored trial
    from archspace.study import Study

    assert len(Study.load(out["study"], str(db)).trials()) == 1
    other = [a if a != "1" else "2" for a in argv]  # --epochs 2: the stored trial would be mislabeled
    assert main(other) == 2
    assert "other settings (config.recipe.epochs not as stored)" in capsys.readouterr().err


def test_train_derived_bad_input_is_one_line(search_result, tmp_path, capsys):
    other = json.loads(search_result.read_text())
    other["config"]["space"] = "darts"
    (tmp_path / "darts.json").write_text(json.dumps(other))
    unfinished = dict(json.loads(search_result.read_text()), derived=None)
    (tmp_path / "unfinished.json").write_text(json.dumps(unfinished))
    (tmp_path / "junk.json").write_text("{not json")
    db = str(tmp_path / "s.db")
    for argv, needle in (([str(tmp_path / "missing.json")], "no such file"),
                         ([str(tmp_path / "junk.json")], "not a readable JSON"),
                         ([str(tmp_path / "unfinished.json")], "no derived architecture"),
                         ([str(search_result), str(tmp_path / "darts.json")], "not one of the darts space"),
                         ([str(search_result), "--channels", "0"], "--channels")):
        assert main(["oneshot", "train-derived", *argv, "--db", db]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and "\n" not in err, err
    assert not (tmp_path / "s.db").exists()  # refused before any study was created
