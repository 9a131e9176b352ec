"""Regression tests of issue 12's CLI items: one --db, strict JSON, --version, python -m archspace,
sample lines as specs, the train stem policy, the nb201_pack default, an all-failed study's exit
status, and validation that leaves nothing behind."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from archspace.cli import build_parser, main
from archspace.cli.common import DEFAULT_DB, print_json
from archspace.errors import UsageError


def test_version_and_python_dash_m():
    from archspace import __version__

    out = subprocess.run([sys.executable, "-m", "archspace", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"archspace {__version__}"


@pytest.mark.parametrize("argv", [["study", "list"], ["committee", "--study", "s", "--target-flops", "1M", "--out", "o"],
                                  ["supernet", "rank", "--checkpoint", "c.pt"], ["dashboard"]])
def test_one_db_option_and_default(argv, monkeypatch):
    monkeypatch.delenv("ARCHSPACE_STUDY_DB", raising=False)
    args = build_parser().parse_args(argv)
    assert args.db == DEFAULT_DB
    args = build_parser().parse_args([*argv, "--db", "x.db"])
    assert args.db == "x.db"


def test_print_json_is_strict(capsys):
    import numpy as np

    print_json({"a": float("nan"), "b": [1.5, float("inf")], "c": np.float64("nan"), "d": np.array([2.0, np.nan])})
    data = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"bare {name}"))
    assert data == {"a": None, "b": [1.5, None], "c": None, "d": [2.0, None]}


def test_a_line_of_sample_output_is_a_spec(capsys):
    from archspace.spaces.registry import resolve_arch

    assert main(["sample", "regnetx", "--n", "2", "--seed", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    record = json.loads(lines[0])
    assert resolve_arch(lines[0]).spec_hash() == record["hash"]
    assert main(["complexity", lines[1], "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["flops"] == json.loads(lines[1])["flops"]


def _train_args(**given):
    return argparse.Namespace(**{"stem": None, "stem_width": None, "dataset": "fashion-mnist", **given})


def test_train_applies_the_small_input_stem_policy_of_study_run():
    from archspace.cli.train_cmd import _with_stem
    from archspace.spaces.zoo import get_model

    paper = get_model("regnetx_200mf")
    small, note = _with_stem(paper, _train_args())
    assert (small.stem, small.stem_width) == ("res_stem_cifar", 16) and "28x28" in note
    kept, note = _with_stem(paper, _train_args(dataset="cifar10", stem="simple_stem_in"))
    assert kept.stem == "simple_stem_in" and note is None
    wide, _ = _with_stem(paper, _train_args(stem_width=24))
    assert (wide.stem, wide.stem_width) == ("res_stem_cifar", 24)
    tiny = get_model("anynetx_tiny")  # already a small-input model: left as it is
    assert _with_stem(tiny, _train_args()) == (tiny, None)
    with pytest.raises(UsageError, match="--stem must be one of"):
        _with_stem(paper, _train_args(stem="bogus"))


def test_nb201_pack_never_overwrites_the_resource_by_default(capsys):
    from archspace.bench.nb201_pack import default_out_path
    from archspace.bench.nb201_pack import main as pack_main

    resource = default_out_path()
    before = resource.stat().st_mtime_ns
    for argv in ([], ["--out", str(resource)]):
        with pytest.raises(SystemExit) as stopped:
            pack_main(argv)
        assert stopped.value.code == 2
    assert "--replace-resource" in capsys.readouterr().err
    assert resource.stat().st_mtime_ns == before


def test_a_study_whose_trials_all_failed_exits_non_zero_saying_why(tmp_path, capsys):
    from archspace.cli.study_cmd import _all_failed_status
    from archspace.families.nb201.spec import NB201Cell
    from archspace.search.fixed import FixedList
    from archspace.study import Study
    from study_support import TroubledTable

    db = tmp_path / "s.db"
    cells = [NB201Cell(("none", op, "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"))
             for op in ("skip_connect", "nor_conv_1x1")]
    study = Study.create("bad", db)
    summary = study.optimize(FixedList(cells), TroubledTable(), 2)
    assert summary.counts["failed"] == 2
    assert _all_failed_status(argparse.Namespace(name="bad", db=str(db)), summary) == 1
    err = capsys.readouterr().err
    assert "no trial of study bad completed (2 failed" in err and "has no input edge" in err
    good = Study.create("good", db)
    summary = good.optimize(FixedList([NB201Cell(("skip_connect",) * 6)]), TroubledTable(), 1)
    assert _all_failed_status(argparse.Namespace(name="good", db=str(db)), summary) == 0


def test_ray_auto_without_a_cluster_is_refused_before_work(monkeypatch):
    pytest.importorskip("ray")
    from archspace.study import make_executor

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(UsageError, match="no running Ray cluster"):
        make_executor(use_ray=True, ray_address="auto")


def test_workers_zero_and_bad_options_are_refused_by_name(tmp_path, capsys):
    db = tmp_path / "s.db"
    for option, value in (("--workers", "0"), ("--threads", "0"), ("--seed", "-1"), ("--n", "0")):
        argv = ["study", "run", "s", "--space", "nb201", "--evaluator", "complexity", "--n", "3", "--db", str(db)]
        assert main([*argv, option, value]) == 2
        assert option in capsys.readouterr().err
    assert not db.exists()
    # design-study keeps its meaning of --workers 0 (train in the driver process)
    args = build_parser().parse_args(["design-study", "--workers", "0", "--dry-run"])
    from archspace.cli.options import check_options

    check_options(args)


def test_resume_compares_data_folders_not_their_spelling(tmp_path, monkeypatch):
    from archspace.experiments.population import PopulationStudyConfig

    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert PopulationStudyConfig("s", data_dir="data").data_dir == PopulationStudyConfig("s", data_dir="./data/").data_dir


def test_ranking_study_resume_compares_folders_not_their_spelling(tmp_path, monkeypatch):
    from archspace.experiments.ranking_study import _comparable

    monkeypatch.chdir(tmp_path)
    stored = {"out_dir": "runs/r", "data_dir": "data", "epochs": 3}
    assert _comparable(stored) == _comparable({"out_dir": "./runs/r/", "data_dir": str(tmp_path / "data"), "epochs": 3})
    assert _comparable(stored) != _comparable({**stored, "epochs": 4})
