"""The design-study report's significance numbers: pairwise KS tests and bootstrap intervals."""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest

from archspace.analysis.edf import ks_distance
from archspace.analysis.significance import bootstrap_interval, ks_test, pairwise_ks
from archspace.errors import DataError, UsageError
from archspace.report.build import ReportConfig, analyze_table
from archspace.report.html import render_html


def test_ks_test_exact_p_values_on_known_samples() -> None:
    a, b = np.arange(5.0), np.arange(5.0) + 10  # disjoint: D = 1
    distance, pvalue = ks_test(a, b)
    assert distance == 1.0
    assert pvalue == pytest.approx(2 / comb(10, 5))  # exact two-sided: 2 of the C(10,5) splits
    distance, pvalue = ks_test(a, a.copy())
    assert distance == 0.0 and pvalue == pytest.approx(1.0)


def test_ks_statistic_is_the_edf_distance() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(20, 3, 32), rng.normal(22, 3, 32)
    assert ks_test(a, b)[0] == pytest.approx(ks_distance(a, b))


def test_pairwise_ks_covers_every_pair_once_in_order() -> None:
    rng = np.random.default_rng(1)
    populations = {name: rng.normal(mu, 2, 32) for name, mu in (("A", 20), ("B", 20.5), ("C", 30))}
    tests = pairwise_ks(populations)
    assert [(t.a, t.b) for t in tests] == [("A", "B"), ("A", "C"), ("B", "C")]
    by_pair = {(t.a, t.b): t for t in tests}
    assert by_pair[("A", "C")].pvalue < 1e-6 and by_pair[("B", "C")].pvalue < 1e-6
    assert by_pair[("A", "B")].pvalue > 0.05
    assert by_pair[("A", "B")].n_a == 32


def test_bootstrap_interval_brackets_the_statistic_and_is_seeded() -> None:
    values = np.random.default_rng(2).normal(25, 4, 40)
    mean = bootstrap_interval(values, "mean", reps=4000, seed=3)
    median = bootstrap_interval(values, "median", reps=4000, seed=3)
    assert mean.low < values.mean() < mean.high and mean.value == pytest.approx(values.mean())
    assert median.low <= np.median(values) <= median.high
    # the normal-theory half-width of the mean, 1.96 s / sqrt(n), to within 15%
    half = 1.96 * values.std(ddof=1) / np.sqrt(values.size)
    assert (mean.high - mean.low) / 2 == pytest.approx(half, rel=0.15)
    assert bootstrap_interval(values, "mean", reps=4000, seed=3) == mean
    constant = bootstrap_interval(np.full(10, 7.0), "median", reps=100)
    assert (constant.low, constant.value, constant.high) == (7.0, 7.0, 7.0)


def test_bad_input_is_refused_by_name() -> None:
    with pytest.raises(UsageError, match="statistic"):
        bootstrap_interval(np.ones(3), "mode")
    with pytest.raises(DataError, match="finite"):
        ks_test(np.array([1.0, np.nan]), np.ones(2))


def test_report_has_the_ks_table_and_the_intervals(tmp_path) -> None:
    rng = np.random.default_rng(4)
    table = pd.DataFrame({"group": ["A"] * 20 + ["B"] * 20,
                          "error": np.concatenate([rng.normal(20, 2, 20), rng.normal(30, 2, 20)])})
    content = analyze_table(table, ReportConfig(reps=500))
    (test,) = content.summary["ks_test"]
    assert (test["a"], test["b"], test["statistic"]) == ("A", "B", 1.0) and test["pvalue"] < 1e-6
    intervals = content.summary["error_intervals"]
    assert set(intervals) == {"A", "B"} and set(intervals["A"]) == {"mean", "median"}
    assert intervals["A"]["mean"]["high"] < intervals["B"]["mean"]["low"]
    page = render_html(content, {name: {"png": _png(tmp_path, name, fig)} for name, (fig, _) in content.figures.items()})
    assert "Two-sample KS tests" in page and "Mean and median error (bootstrap)" in page


def _png(folder, name, figure):
    path = folder / f"{name}.png"
    figure.savefig(path)
    return path
