"""``archspace study``: run / resume / list / show / export / retry-failed, bad input, real training."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from archspace.cli.study_cmd import main as study_main
from archspace.study import SCHEMA_VERSION, Study
from study_support import try_load

NB201 = ["--space", "nb201", "--evaluator", "nb201", "--dataset", "cifar10", "--no-progress"]


def _run(capsys, *argv):
    status = study_main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return status, out, err


def test_run_resume_list_show_export(tmp_path, capsys):
    db = tmp_path / "s.db"
    status, out, _ = _run(capsys, "run", "pop", *NB201, "--params", "0.5M:1M", "--n", 40, "--db", db)
    assert status == 0 and "40/40 finished (40 complete" in out
    # rerun with fewer options resumes; a larger --n grows the same population
    status, out, _ = _run(capsys, "run", "pop", "--n", 60, "--db", db, "--no-progress")
    assert status == 0 and "60/60 finished" in out
    frame = Study.load("pop", db).trials_dataframe()
    assert len(frame) == 60 and frame["arch_hash"].is_unique
    assert frame["params"].between(0.5e6, 1e6).all()

    status, out, _ = _run(capsys, "list", "--db", db, "--json")
    assert status == 0 and json.loads(out)[0]["complete"] == 60
    status, out, _ = _run(capsys, "show", "pop", "--db", db, "--json", "--top", 3)
    shown = json.loads(out)
    assert [t["objective"] for t in shown["top"]] == sorted(frame["objective"])[:3]
    assert shown["config"]["space"] == "nb201"

    for fmt in ("csv", "parquet", "jsonl"):
        target = tmp_path / f"pop.{fmt}"
        assert _run(capsys, "export", "pop", "--format", fmt, "--out", target, "--db", db)[0] == 0
        read = {"csv": pd.read_csv, "parquet": pd.read_parquet,
                "jsonl": lambda p: pd.read_json(p, lines=True)}[fmt](target)
        assert list(read["number"]) == list(range(60))
        assert read["objective"].round(6).tolist() == frame["objective"].round(6).tolist()

    status, out, _ = _run(capsys, "retry-failed", "pop", "--db", db)
    assert status == 0 and "re-queued 0 failed trials" in out


def test_full_cli_entry_point(tmp_path):
    db = tmp_path / "s.db"
    archspace = str(Path(sys.executable).with_name("archspace"))  # the installed console script
    done = subprocess.run([archspace, "study", "run", "p", *NB201,
                           "--n", "5", "--db", str(db), "--workers", "2", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["complete"] == 5


def _one_line_error(status, err, pattern):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archspace: error:"), err
    assert pattern in lines[0], lines[0]


def test_malformed_inputs_give_one_line_and_exit_2(tmp_path, capsys):
    db = tmp_path / "s.db"
    _one_line_error(*_run(capsys, "run", "x", "--space", "nope", "--n", 3, "--db", db)[::2], "unknown space 'nope'")
    _one_line_error(*_run(capsys, "run", "x", *NB201, "--params", "1:10", "--n", 3, "--db", db)[::2],
                    "widen the regime")
    _one_line_error(*_run(capsys, "run", "x", *NB201, "--params", "10:1", "--n", 3, "--db", db)[::2], "LO <= HI")
    _one_line_error(*_run(capsys, "run", "x", "--space", "nb201", "--n", 3, "--db", db,
                          "--evaluator", "nb201", "--dataset", "svhn")[::2], "unknown NAS-Bench-201 dataset")
    _one_line_error(*_run(capsys, "run", "x", "--space", "regnetx", "--n", 3, "--db", db,
                          "--evaluator", "nb201")[::2], "needs space 'nb201'")
    _one_line_error(*_run(capsys, "run", "x", "--n", 3, "--db", db)[::2], "space is required")
    assert not db.exists()  # nothing was created for rejected runs

    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    _one_line_error(*_run(capsys, "run", "x", *NB201, "--n", 3, "--db", foreign)[::2], "not an archspace study database")
    _one_line_error(*_run(capsys, "list", "--db", tmp_path / "missing.db")[::2], "no study database")

    assert _run(capsys, "run", "x", *NB201, "--n", 3, "--db", db)[0] == 0
    _one_line_error(*_run(capsys, "run", "x", "--space", "regnetx", "--db", db)[::2], "created with different settings (space: stored 'nb201', given 'regnetx')")
    _one_line_error(*_run(capsys, "run", "x", "--n", 2, "--db", db)[::2], "not shrink")
    _one_line_error(*_run(capsys, "show", "y", "--db", db)[::2], "no study named 'y'")
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    _one_line_error(*_run(capsys, "show", "x", "--db", db)[::2], "newer than this archspace")


def test_kill_9_during_real_training_then_rerun(tmp_path):
    """Real training (NB201 cells on scikit-learn's digits, 1 epoch on 128 images)."""
    db = tmp_path / "train.db"
    command = [sys.executable, "-m", "archspace.cli.study_cmd", "run", "t", "--space", "nb201",
               "--dataset", "digits", "--epochs", "1", "--subset", "128", "--params", "0:0.12M",
               "--n", "5", "--db", str(db), "--no-progress"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    before = pd.DataFrame()
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        study = try_load(db, "t")
        if study is not None:
            frame = study.trials_dataframe()
            study.storage.close()
            if (frame["state"] == "complete").sum() >= 2:
                proc.kill()
                before = frame[frame["state"] == "complete"]
                break
    proc.wait(timeout=60)
    if before.empty:
        pytest.fail("the training study finished or stalled before it could be killed")
    assert subprocess.run(command, timeout=300, capture_output=True).returncode == 0
    after = Study.load("t", db).trials_dataframe()
    assert (after["state"] == "complete").sum() == 5 and after["arch_hash"].is_unique
    kept = after.set_index("number").loc[before["number"]]
    # trials finished before the kill were kept as they were, not trained again
    assert kept["finished_at"].tolist() == before["finished_at"].tolist()
    assert kept["objective"].tolist() == before["objective"].tolist()
    assert after["val_error"].between(0, 100).all() and after["flops"].gt(0).all()
    arrays = Study.load("t", db).load_predictions(int(before["number"].iloc[0]))
    assert arrays  # per-example validation/test outputs of the trained model


def test_anynet_spaces_get_a_small_input_stem_on_28px_data(tmp_path, capsys):
    """The issue's own example (RegNetX on Fashion-MNIST) fits: a stride-1 stem is chosen and stored."""
    db = str(tmp_path / "s.db")
    status, _, err = _run(capsys, "run", "fm", "--space", "regnetx", "--flops", "1M:6M", "--n", "3",
                          "--dataset", "fashion-mnist", "--evaluator", "complexity", "--db", db, "--no-progress")
    assert status == 0, err
    study = Study.load("fm", db)
    assert (study.config["stem"], study.config["stem_width"]) == ("res_stem_cifar", 16)
    archs = [json.loads(text) for text in study.trials_dataframe()["arch_json"]]
    assert len(archs) == 3 and all(a["stem"] == "res_stem_cifar" and a["stem_width"] == 16 for a in archs)
    status, _, err = _run(capsys, "run", "bad", "--space", "regnetx", "--n", "1", "--stem", "huge",
                          "--evaluator", "complexity", "--db", db)
    assert status == 2 and "stem must be one of" in err
