"""The shared progress bar (archspace.progress): what it prints, where, and when it prints nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archspace.cli import main
from archspace.families.anynet.spec import AnyNetArch
from archspace.progress import ProgressBar
from archspace.study.progress import RichProgress, StudyProgress


def test_a_lasting_bar_leaves_its_last_state_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBar("runs", total=10, transient=False) as bar:
        assert bar.running
        bar.advance(2)
        bar.advance()
        bar.update(status="best 91.5")
    assert not bar.running
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "runs" in captured.err and "3/10" in captured.err and "best 91.5" in captured.err


def test_updates_before_start_are_shown_once_started(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar("epochs", transient=False)
    bar.update(total=4, completed=1, description="epoch 2/4", status="loss 0.5")
    bar.start()
    bar.start()  # already running: no second bar
    bar.stop()
    bar.stop()
    err = capsys.readouterr().err
    assert err.count("epoch 2/4") == 1 and "1/4" in err and "loss 0.5" in err


def test_a_disabled_bar_accepts_every_call_and_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBar("quiet", total=5, enabled=False, transient=False) as bar:
        bar.advance(3)
        bar.update(total=6, status="x")
        assert not bar.running
    assert capsys.readouterr() == ("", "")


def test_a_transient_bar_leaves_nothing_behind(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBar("gone", total=2) as bar:
        bar.advance(2)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.strip() == ""


def test_the_bar_stops_when_the_block_raises(capsys: pytest.CaptureFixture[str]) -> None:
    bar = ProgressBar("failing", total=3, transient=False)
    with pytest.raises(KeyboardInterrupt), bar:
        bar.advance()
        raise KeyboardInterrupt
    assert not bar.running
    assert "1/3" in capsys.readouterr().err


def test_study_progress_shows_counts_and_status_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = RichProgress("my-study")
    reporter.start(StudyProgress(total=8, done=2, failed=0, diverged=0, running=1, best=None))
    reporter.update(StudyProgress(total=8, done=5, failed=1, diverged=1, running=0, best=0.125))
    reporter.stop()
    reporter.stop()
    captured = capsys.readouterr()
    assert captured.out == ""
    for text in ("my-study", "5/8", "failed 1", "diverged 1", "best 0.125"):
        assert text in captured.err, text


def test_train_cli_draws_epochs_and_steps_beside_clean_json(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(AnyNetArch.from_lists([1], [8], [1], [1.0], [8], block="X", stem="res_stem_cifar",
                                          stem_width=8).to_json())
    assert main(["train", str(spec), "--dataset", "digits", "--epochs", "1", "--subset", "64",
                 "--batch-size", "32", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["steps"] == 2
    assert "epoch 1/1" in captured.err and "2/2" in captured.err and "img/s" in captured.err
