"""The NAS-Bench-201 comparison harness and its CLI, on the real packaged table."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from archspace.analysis.statistics import mean_ci
from archspace.bench.nb201 import NB201Table
from archspace.cli import main
from archspace.errors import UsageError
from archspace.experiments.nb201_search import (
    BenchConfig,
    load_records,
    run_comparison,
    run_search,
    summarize,
)
from archspace.report.nb201_search import write_report

SMALL = BenchConfig(algorithms=("rs", "re", "ls", "na-rs"), budget=25, runs=4, seed=7)


def test_run_records_best_so_far_and_selection() -> None:
    record = run_search("rs", 0, SMALL.checked())
    table = NB201Table.load()
    valid = table.column("cifar10_valid_200")
    assert len(record.evaluated) == len(record.observed) == len(record.selected) == 25
    assert np.allclose(record.observed, valid[record.evaluated])
    best_so_far = [record.evaluated[int(np.argmax(record.observed[: t + 1]))] for t in range(25)]
    assert record.selected == best_so_far  # random search selects its best observation
    assert run_search("rs", 0, SMALL.checked()).evaluated == record.evaluated


def test_parallel_runs_equal_serial_runs() -> None:
    config = BenchConfig(algorithms=("rs", "re"), budget=15, runs=3, seed=1)
    serial = run_comparison(config, workers=1)
    parallel = run_comparison(config, workers=2)
    assert [(r.algorithm, r.run, r.evaluated, r.selected) for r in serial] == [
        (r.algorithm, r.run, r.evaluated, r.selected) for r in parallel
    ]


def test_comparison_resumes_from_its_run_log(tmp_path) -> None:
    first = run_comparison(SMALL, out=tmp_path)
    log = tmp_path / "runs.jsonl"
    lines = log.read_text().splitlines()
    assert len(lines) == 16
    log.write_text("\n".join(lines[:10]) + "\n" + lines[10][:40])  # interrupted mid-write
    again = run_comparison(SMALL, out=tmp_path)
    assert [r.evaluated for r in again] == [r.evaluated for r in first]
    assert len(load_records(log)) == 16  # 10 kept + 6 re-run; the torn line is ignored
    other = BenchConfig(algorithms=("rs",), budget=25, runs=4, seed=8)  # new seed: nothing reused
    assert [r.evaluated for r in run_comparison(other, out=tmp_path)] != [r.evaluated for r in first[:4]]


def test_summary_numbers_and_files(tmp_path) -> None:
    records = run_comparison(SMALL)
    summary = summarize(records, SMALL)
    assert summary["best_cell"]["cifar10_test_200"] == pytest.approx(94.37, abs=0.005)
    assert summary["best_cell"]["cifar100_test_200"] == pytest.approx(73.51, abs=0.005)
    assert summary["best_cell"]["imagenet16_test_200"] == pytest.approx(47.31, abs=0.005)
    table = NB201Table.load()
    rs = [r for r in records if r.algorithm == "rs"]
    finals = table.column("cifar10_test_200")[[r.final for r in rs]]
    entry = summary["algorithms"]["rs"]["cifar10_test_200"]
    assert entry["mean"] == pytest.approx(finals.mean())
    assert entry["regret"] == pytest.approx(summary["best_cell"]["cifar10_test_200"] - finals.mean())
    curve = summary["algorithms"]["re"]["curve"]["best_so_far_search"]["mean"]
    assert len(curve) == 25 and all(b >= a for a, b in zip(curve, curve[1:], strict=False))
    assert summary["comparisons"]["best_algorithm"] in SMALL.algorithms
    paths = write_report(summary, tmp_path)
    assert {p.name for p in paths} == {"summary.json", "curves.png", "curves.svg"}
    assert json.loads((tmp_path / "summary.json").read_text())["config"]["budget"] == 25


def test_worker_processes_log_optuna_at_the_callers_level() -> None:
    """The library never sets Optuna's log level; its spawned workers copy the caller's."""
    pytest.importorskip("optuna")
    script = textwrap.dedent("""
        import sys
        import optuna
        from archspace.experiments.nb201_search import BenchConfig, run_comparison

        config = BenchConfig(algorithms=("tpe",), budget=3, runs=2)
        for level in (optuna.logging.INFO, optuna.logging.WARNING):
            optuna.logging.set_verbosity(level)
            print(f"=== caller level {level}", file=sys.stderr, flush=True)
            run_comparison(config, workers=2)
            assert optuna.logging.get_verbosity() == level
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    _, at_info, at_warning = result.stderr.split("=== caller level ")
    assert "A new study created" in at_info
    assert "A new study created" not in at_warning


def test_mean_ci_known_values() -> None:
    mean, half = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5
    assert half == pytest.approx(3.182446 * np.std([1, 2, 3, 4], ddof=1) / 2, rel=1e-5)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"budget": 0}, "budget must be a positive integer"),
        ({"runs": 0}, "runs must be a positive integer"),
        ({"algorithms": ("rs", "hill")}, "unknown search algorithm 'hill'"),
        ({"search_metric": "cifar10_valid_100"}, "epochs must be one of"),
        ({"search_metric": "mnist_valid_200"}, "unknown NAS-Bench-201 dataset"),
        ({"seed_mode": "sample", "search_metric": "cifar10_test_200"}, "seed_mode='sample'"),
        ({"options": {"bo": {"n_init": 3}}}, "options given for algorithms not being run"),
    ],
)
def test_bad_configs_fail_before_any_run(changes: dict, message: str) -> None:
    data = {**SMALL.__dict__, **changes}
    with pytest.raises(UsageError, match=message):
        BenchConfig(**data).checked()


def test_cli_bench_nb201_json_and_errors(tmp_path, capsys) -> None:
    status = main(["bench", "nb201", "--algorithms", "rs,ls", "--budget", "12", "--runs", "3",
                   "--out", str(tmp_path), "--json"])
    assert status == 0
    summary = json.loads(capsys.readouterr().out)
    assert set(summary["algorithms"]) == {"rs", "ls"}
    assert (tmp_path / "curves.svg").is_file() and (tmp_path / "runs.jsonl").is_file()
    for argv, message in [
        (["--algorithms", "rs,xx"], "unknown search algorithm 'xx'"),
        (["--budget", "0"], "--budget must be an integer >= 1"),
        (["--search-metric", "cifar10_valid"], "unknown NAS-Bench-201 metric"),
        (["--ops", "nor_conv_5x5"], "unknown op"),
        (["--algorithms", "na-rs", "--criterion", "mode"], "unknown neighborhood criterion"),
    ]:
        assert main(["bench", "nb201", "--runs", "2", "--budget", "5", *argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err


def test_cli_nb201_flatness(capsys) -> None:
    assert main(["nb201", "flatness", "--top", "50", "--random", "200", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["flat_vs_sharp"]["top"] == 50
    assert report["criterion_correlations"]["cells"] == 200
    assert main(["nb201", "flatness", "--metric", "cifar10_loss_200"]) == 2
    assert "cifar10_loss_200" in capsys.readouterr().err
