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
