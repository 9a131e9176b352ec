"""The report's numbers and figures on a synthetic population with known structure."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from archspace.errors import DataError, UsageError
from archspace.families.anynet.spec import AnyNetArch
from archspace.report.build import ReportConfig, analyze_table
from archspace.report.html import write_report


def synthetic_population(groups: dict[str, float], n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` models per group; error grows with the group's offset and with distance from depth 8."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, offset in groups.items():
        for _ in range(n):
            depths = rng.integers(1, 5, 4).tolist()
            widths = (np.sort(rng.integers(2, 32, 4)) * 8).tolist()
            arch = AnyNetArch.from_lists(depths, widths, bottleneck_ratios=[1.0] * 4, group_widths=[8] * 4)
            flops = float(sum(d * w * w for d, w in zip(depths, widths, strict=True)) * 100)
            error = 10 + offset + 0.2 * (sum(depths) - 8) ** 2 + rng.normal(0, 0.5)
            rows.append({"group": group, "arch": arch.to_json(), "error": error, "flops": flops,
                         "params": flops / 50, "name": f"{group}-{len(rows)}"})
    return pd.DataFrame(rows)


GROUPS = {"anynetx_a": 2.0, "anynetx_e": 0.0, "regnetx": 0.5}


@pytest.fixture(scope="module")
def content():
    table = synthetic_population(GROUPS, n=20)
    config = ReportConfig(reps=500, space_summaries={"anynetx_a": {"dimension": 16, "size": 1.8e18}})
    return table, analyze_table(table, config)


def test_summary_holds_every_section(content) -> None:
    table, report = content
    summary = report.summary
    assert summary["groups"] == list(GROUPS) and summary["models"] == 60
    assert set(summary) >= {"design_space_summary", "edf", "normalized_edf", "ks_distance", "bootstrap",
                            "random_search", "pareto", "equal_cost"}
    rows = {r["group"]: r for r in summary["design_space_summary"]}
    for name in GROUPS:
        errors = table.loc[table["group"] == name, "error"]
        assert rows[name]["models"] == 20
        assert rows[name]["min_error"] == pytest.approx(errors.min())
        assert summary["edf"][name]["mean"] == pytest.approx(errors.mean())
    assert rows["anynetx_a"]["dimension"] == 16
    json.dumps(summary)  # JSON-ready throughout


def test_numbers_reflect_the_constructed_structure(content) -> None:
    _, report = content
    summary = report.summary
    ks = summary["ks_distance"]
    assert ks["regnetx"]["regnetx"] == 0.0
    assert ks["anynetx_a"]["anynetx_e"] == ks["anynetx_e"]["anynetx_a"] > 0.3  # offset of 2 errors
    for name in GROUPS:  # error is lowest at depth 8: the bootstrap band must cover it
        best = summary["bootstrap"]["depth"][name]
        assert best["low"] <= 8 <= best["high"]
    assert {"depth", "w_last", "b", "g", "e_fit", "flops", "params"} <= set(summary["bootstrap"])
    curve = summary["random_search"]["anynetx_e"]
    assert curve["k"][0] == 1 and curve["mean"][0] == pytest.approx(summary["edf"]["anynetx_e"]["mean"])
    front = summary["pareto"]["flops"]
    assert np.all(np.diff([m["flops"] for m in front]) > 0) and np.all(np.diff([m["error"] for m in front]) < 0)


def test_figures_cover_edfs_trends_widths_search_and_pareto(content) -> None:
    _, report = content
    names = set(report.figures)
    assert {"edf", "normalized_edf", "random_search", "pareto_flops", "pareto_params", "bootstrap_depth",
            "bootstrap_e_fit", "widths_anynetx_a", "widths_regnetx"} <= names


def test_write_report_writes_html_json_png_and_svg(tmp_path: Path) -> None:
    table = synthetic_population({"a": 0.0, "b": 1.0}, n=12, seed=1)
    paths = write_report(table, tmp_path, ReportConfig(reps=200, statistics=["depth", "flops"]))
    summary = json.loads(paths.summary.read_text())
    assert set(summary["bootstrap"]) == {"depth", "flops"}
    for name, files in paths.figures.items():
        assert files["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        assert files["svg"].read_text().lstrip().startswith("<?xml")
        assert summary["figures"][name]["png"] == f"figures/{name}.png"
    page = paths.html.read_text()
    assert page.count("data:image/png;base64,") == len(paths.figures)
    assert "src=\"http" not in page and "<link" not in page  # self-contained


def test_bad_configuration_is_reported() -> None:
    table = synthetic_population({"a": 0.0}, n=5)
    with pytest.raises(DataError, match="statistic"):
        analyze_table(table, ReportConfig(reps=10, statistics=["nope"]))
    with pytest.raises(UsageError, match="reps"):
        ReportConfig(reps=0)
