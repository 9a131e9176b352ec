"""Loading trial tables: column detection, accuracy conversion, joins, and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from archspace.analysis.summary import design_space_summary, format_size
from archspace.analysis.table import ColumnMap, load_csv, normalize_table, table_from_study_frame
from archspace.errors import DataError, UsageError


def test_error_column_is_detected_and_costs_renamed() -> None:
    frame = pd.DataFrame({"model": ["a", "b"], "top1_err": [20.0, 30.0], "param_count": ["1,014.5", "2"], "gmacs": [1, 2]})
    table = normalize_table(frame)
    assert table["error"].tolist() == [20.0, 30.0]
    assert table["params"].tolist() == [1014.5, 2.0]
    assert table["flops"].tolist() == [1.0, 2.0]
    assert table["name"].tolist() == ["a", "b"] and table["group"].tolist() == ["all", "all"]


def test_accuracy_becomes_error_in_its_own_scale() -> None:
    percent = normalize_table(pd.DataFrame({"accuracy": [75.0, 80.0]}))
    fraction = normalize_table(pd.DataFrame({"acc": [0.75, 0.8]}))
    np.testing.assert_allclose(percent["error"], [25.0, 20.0])
    np.testing.assert_allclose(fraction["error"], [0.25, 0.2])


def test_explicit_columns_and_missing_column_errors() -> None:
    frame = pd.DataFrame({"val": [1.0, 2.0], "space": ["x", "y"], "cost": [3.0, 4.0]})
    table = normalize_table(frame, ColumnMap(error="val", group="space", costs={"flops": "cost"}))
    assert table["group"].tolist() == ["x", "y"] and table["flops"].tolist() == [3.0, 4.0]
    with pytest.raises(DataError, match="no error or accuracy column"):
        normalize_table(pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DataError, match="error column 'nope' not found; columns are val, space, cost"):
        normalize_table(frame, ColumnMap(error="nope"))
    with pytest.raises(DataError, match="not numeric"):
        normalize_table(pd.DataFrame({"error": ["1.0", "bad"]}))
    with pytest.raises(UsageError, match="not both"):
        normalize_table(frame, ColumnMap(error="val", accuracy="val"))


def test_csv_join_keeps_every_row_of_the_first_file(tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    bench = tmp_path / "bench.csv"
    results.write_text("model,top1,param_count\nnet.a,70,1\nnet.b,72,1\nother.c,60,2\nmissing.d,50,3\n")
    bench.write_text("model,infer_gmacs,param_count\nnet,0.5,9\nother,0.25,9\n")
    table = load_csv([results, bench], join_on="model", key_before=".")
    assert table["name"].tolist() == ["net.a", "net.b", "other.c"]
    assert table["flops"].tolist() == [0.5, 0.5, 0.25]
    assert table["params"].tolist() == [1.0, 1.0, 2.0]  # the first file's copy of a shared column
    with pytest.raises(UsageError, match="join column"):
        load_csv([results, bench])
    with pytest.raises(DataError, match="not found"):
        load_csv(tmp_path / "absent.csv")


def test_study_frame_keeps_complete_trials_with_objective_as_error() -> None:
    frame = pd.DataFrame({
        "number": [0, 1, 2], "state": ["complete", "failed", "complete"],
        "arch_json": ['{"k":1}', '{"k":2}', '{"k":3}'], "objective": [12.0, np.nan, 10.0],
        "test_error": [99.0, 99.0, 99.0], "flops": [1e6, 2e6, 3e6], "duration_s": [5.0, 1.0, 7.0],
    })
    table = table_from_study_frame(frame, "anynetx_a")
    assert table["error"].tolist() == [12.0, 10.0]
    assert table["group"].tolist() == ["anynetx_a"] * 2
    assert table["time"].tolist() == [5.0, 7.0] and table["arch"].tolist() == ['{"k":1}', '{"k":3}']
    with pytest.raises(DataError, match="no complete trial"):
        table_from_study_frame(frame.assign(state="failed"), "x")


def test_text_column_named_like_a_cost_is_skipped_and_exported_studies_keep_specs() -> None:
    frame = pd.DataFrame({"objective": [5.0, 6.0], "test_error": [9.0, 9.0], "time": ["noon", "night"],
                          "train_seconds": [3.0, 4.0], "arch_json": ['{"k":1}', '{"k":2}']})
    table = normalize_table(frame)
    assert table["error"].tolist() == [5.0, 6.0]  # the optimized objective, not the test error
    assert table["time"].tolist() == [3.0, 4.0] and table["arch"].tolist() == ['{"k":1}', '{"k":2}']
    with pytest.raises(DataError, match="not numeric"):
        normalize_table(frame, ColumnMap(costs={"time": "time"}))
    alone = normalize_table(frame.drop(columns="train_seconds"))
    assert "time" not in alone.columns and alone["time_raw"].tolist() == ["noon", "night"]


def test_design_space_summary_rows() -> None:
    table = pd.DataFrame({"error": [3.0, 1.0, 2.0, 5.0], "group": ["a", "a", "b", "b"]})
    summary = design_space_summary(table, {"a": {"dimension": 16, "size": 1.8e18}})
    assert summary["group"].tolist() == ["a", "b"]
    assert summary["models"].tolist() == [2, 2]
    assert summary["min_error"].tolist() == [1.0, 2.0]
    assert summary["mean_error"].tolist() == [2.0, 3.5]
    assert summary["dimension"].iloc[0] == 16 and pd.isna(summary["dimension"].iloc[1])
    assert format_size(1.8e18) == "10^18.3" and format_size(1000) == "1,000" and format_size(None) == "-"
