"""`archspace nss ...` end to end (in process) and NSS spaces inside studies: one-line errors with
exit status 2 for bad input, strict JSON, a resumable search run directory, and
`archspace study run --space nss:<space-id>`."""

from __future__ import annotations

import json

import pytest

from archspace.cli import main
from archspace.errors import UsageError
from archspace.nss.workflow import NSSRunSettings, describe_plan

pytest.importorskip("torch")

TINY = ["--max-depth", "2", "--max-width", "8", "--depth-bins", "2", "--width-bins", "2"]


def _run(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_space_prints_its_exact_distribution(capsys):
    status, out, _ = _run(capsys, "nss", "space", "d1-2w1-4_d1-1w1-4_d1-1w1-2", "--json")
    data = json.loads(out)
    assert status == 0 and data["size"] == 2 * 4 * 4 * 2 == sum(data["flops"]["counts"])
    assert data["flops"]["exact"] is True and data["name"] == "nss:d1-2w1-4_d1-1w1-4_d1-1w1-2"


@pytest.mark.parametrize("argv, message", [
    (["nss", "space", "d1-20w1-4_d1-1w1-4_d1-1w1-2"], "stage 1 depth range 1-20 lies outside the expanded space"),
    (["nss", "space", "d3-2w1-4_d1-1w1-4_d1-1w1-2"], "stage 1 depth range 3-2 is empty"),
    (["nss", "search", "--flops", "1G", "--dataset", "digits", *TINY, "--out", "OUT"],
     "no network of space nss has flops in regime 1GF"),
    (["nss", "search", "--flops", "50k", "--tau-end", "0", "--dataset", "digits", *TINY, "--out", "OUT"],
     "temperatures > 0"),
    (["nss", "table", "--max-depth", "16", "--depth-bins", "3"], "depth_bins=3 must be >= 1 and divide"),
    (["nss", "table", "--flops", "9M:1M"], "0 <= LO <= HI"),
    (["nss", "table", "--flops", "1k"],
     "no network of space nss has flops in regime 0.001MF (900..1000); reachable flops are 6.217e+05..9.922e+10 at 32x32"),
    (["nss", "search", "--flops", "400M", "--max-width", "600", "--out", "OUT"],
     "width edges end at 600, outside the expanded space (1-512)"),
    (["nss", "search", "--flops", "50k", "--tau-start", "0", "--dataset", "digits", *TINY, "--out", "OUT"],
     "temperatures > 0"),
    (["nss", "regimes", "--max-depth", "17"], "stage 1 depth range 1-17 lies outside the expanded space (1-16)"),
    (["nss", "search", "--flops", "400M", "--preset", "reference", "--epochs", "8", "--out", "OUT"],
     "--preset reference is the full-size search and fixes --epochs: drop it"),
    (["nss", "search", "--flops", "400M", "--preset", "reference", *TINY, "--out", "OUT", "--dry-run"],
     "fixes --max-depth, --max-width, --depth-bins, --width-bins: drop them"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, message):
    argv = [str(tmp_path / "run") if a == "OUT" else a for a in argv]
    status, out, err = _run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()  # refused before any work


def _largest_params(stem: int = 16, width: int = 512, depth: int = 16, classes: int = 100) -> int:
    """Parameters of the expanded space's largest network, counted by hand: 3x3 convs, BN (2 per
    channel), a 1x1 projection + BN on each stage's first block (width or stride change), FC."""
    def stage(w_in: int) -> int:
        first = 9 * w_in * width + 9 * width * width + 4 * width + w_in * width + 2 * width
        return first + (depth - 1) * (2 * 9 * width * width + 4 * width)
    return 27 * stem + 2 * stem + stage(stem) + 2 * stage(width) + width * classes + classes


def test_reference_preset_plan_is_the_full_size_search(capsys, tmp_path):
    out = tmp_path / "ref"
    status, text, _ = _run(capsys, "nss", "search", "--dataset", "cifar100", "--flops", "400M", "--preset",
                           "reference", "--out", str(out), "--dry-run", "--json")
    plan = json.loads(text)
    config = plan["config"]
    assert status == 0 and not out.exists()  # a plan: nothing trained, nothing written
    assert (config["epochs"], config["warmup_epochs"], config["batch_size"], plan["search_epochs"]) == (50, 15, 64, 35)
    assert (config["lr"], config["lr_min"], config["momentum"], config["weight_decay"]) == (0.025, 0.001, 0.9, 3e-4)
    assert (config["arch_lr"], config["arch_betas"], config["tau_start"], config["tau_end"]) == (3e-4, [0.5, 0.999], 5, 0.001)
    assert config["regime"] == {"name": "400MF", "low": 3.6e8, "high": 4e8} and config["hard"] is False
    assert plan["expanded_space"]["size"] == (16 * 512) ** 3 and plan["spaces"] == 32 ** 3
    assert plan["largest_network"]["arch"] == {"kind": "nss", "depths": [16, 16, 16], "widths": [512, 512, 512]}
    assert plan["largest_network"]["params"] == _largest_params() == 224_892_468
    with pytest.raises(UsageError, match="unknown NSS search preset 'fast'; known: reference"):
        describe_plan(NSSRunSettings(flops="400M", preset="fast"))


def test_search_stores_and_resumes_its_run(capsys, tmp_path):
    run = tmp_path / "run"
    argv = ["nss", "search", "--flops", "20k:60k", "--dataset", "digits", *TINY, "--epochs", "2", "--warmup-epochs", "1",
            "--steps-per-epoch", "2", "--batch-size", "32", "--val-size", "200", "--threads", "1", "--out", str(run),
            "--json"]
    status, out, _ = _run(capsys, *argv)
    elite = json.loads(out)
    assert status == 0 and elite["space"].startswith("nss:d") and elite["flops"]["exact"] is True
    stored = json.loads((run / "result.json").read_text())
    assert stored["elite"] == elite and len(stored["history"]) == 2 and (run / "checkpoint.pt").is_file()
    status, again, _ = _run(capsys, *argv)  # finished: resumes from the checkpoint, same answer
    assert status == 0 and json.loads(again) == elite
    assert json.loads((run / "result.json").read_text())["resumed_from_step"] == 4


def test_table_for_user_regimes(capsys):
    status, out, _ = _run(capsys, "nss", "table", *TINY, "--resolution", "8", "--classes", "10", "--channels", "1",
                          "--flops", "50k,100k", "--json")
    rows = json.loads(out)
    assert status == 0 and [r["regime"] for r in rows] == ["0.05MF", "0.1MF"]
    for row in rows:
        assert row["elite"]["in_band"] >= row["expanded"]["in_band"]


def test_study_run_trains_a_population_of_a_network_space(capsys, tmp_path):
    db = tmp_path / "s.db"
    status, out, err = _run(capsys, "study", "run", "pop", "--space", "nss:d1-2w1-8_d1-1w4-8_d1-2w2-8", "--n", "4",
                            "--evaluator", "complexity", "--dataset", "cifar10", "--db", str(db), "--json")
    assert status == 0, err
    from archspace.spaces.registry import get_space
    from archspace.study import Study

    study = Study.load("pop", str(db))
    trials = study.trials()
    assert len(trials) == 4
    space = get_space("nss:d1-2w1-8_d1-1w4-8_d1-2w2-8")
    for trial in trials:
        space.validate(trial.arch)
