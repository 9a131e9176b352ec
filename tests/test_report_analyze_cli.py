"""``archspace analyze --csv`` on the real timm population (ImageNet accuracy, params, GMACs)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from archspace.cli import main


@pytest.fixture(scope="module")
def timm_report(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    timm = shared_data / "timm"
    out = tmp_path_factory.mktemp("timm_report")
    status = main([
        "analyze", "--csv", str(timm / "results-imagenet.csv"), "--csv", str(timm / "benchmark-infer-rtx4090.csv"),
        "--join-on", "model", "--key-before", ".", "--error-column", "top1_err",
        "--flops-column", "infer_gmacs", "--reps", "1000", "--out", str(out),
    ])
    assert status == 0
    return json.loads((out / "summary.json").read_text()), timm


def test_timm_population_joins_and_summarizes(timm_report) -> None:
    summary, timm = timm_report
    results = pd.read_csv(timm / "results-imagenet.csv")
    bench = pd.read_csv(timm / "benchmark-infer-rtx4090.csv")
    joined = results["model"].str.split(".", n=1).str[0].isin(set(bench["model"]))
    assert summary["models"] == int(joined.sum()) > 1000
    row = summary["design_space_summary"][0]
    assert row["min_error"] == pytest.approx(results.loc[joined, "top1_err"].min())


def test_timm_flops_pareto_front_is_sensible(timm_report) -> None:
    summary, _ = timm_report
    front = summary["pareto"]["flops"]
    flops = np.array([m["flops"] for m in front])
    errors = np.array([m["error"] for m in front])
    assert 15 <= len(front) <= 100
    assert np.all(np.diff(flops) > 0) and np.all(np.diff(errors) < 0)  # cheaper models are worse
    # The most accurate model ends the front; efficient families populate the low-cost end.
    assert errors[-1] == pytest.approx(summary["design_space_summary"][0]["min_error"])
    names = " ".join(m["name"] for m in front if m["flops"] < 1.0)
    assert any(family in names for family in ("mobilenet", "efficientnet", "ghostnet", "tinynet"))
    assert any(m["flops"] < 0.1 for m in front) and errors.max() > 25 and errors.min() < 12


def test_timm_equal_cost_table_and_params_front(timm_report) -> None:
    summary, _ = timm_report
    rows = summary["equal_cost"]["flops"]
    assert sum(r["n"] for r in rows) == summary["models"]
    means = [r["mean_error"] for r in rows]
    assert means[0] > means[-1]  # more compute, lower error on average
    assert len(summary["pareto"]["params"]) >= 10


def test_analyze_reports_bad_input_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "t.csv"
    table.write_text("model,score\na,1\n")
    assert main(["analyze", "--csv", str(table), "--out", str(tmp_path / "o")]) == 2
    assert "no error or accuracy column found" in capsys.readouterr().err
    assert main(["analyze", "--csv", str(table), "--error-column", "score", "--statistics", "nope",
                 "--out", str(tmp_path / "o")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["analyze", "s1", "--csv", str(table), "--out", str(tmp_path / "o")]) == 2
    assert main(["analyze", "--db", str(tmp_path / "none.db"), "x", "--out", str(tmp_path / "o")]) == 2
