"""Trial tables: the one DataFrame shape every analysis function reads.

A trial table has one row per trained (or looked-up) model and these columns:

- ``error`` (required): the number to minimize, e.g. top-1 error in percent;
- ``group``: the population the model belongs to (design space, study name ...);
- ``flops``, ``params``, ``acts``, ``time``, ``latency_ms``, ``throughput`` (optional): cost
  statistics, any consistent unit (``throughput`` is images/s: higher is better, see
  ``HIGHER_IS_BETTER``; the measured ones come from ``archspace.evaluators.measured``);
- anything else (``name``, ``arch``, ``depth``, ``w4``, ``b``, ``g``, ``e_fit`` ...) is carried along.

Tables come from a study's ``trials_dataframe()`` or from any CSV with an error or accuracy column.
Missing or non-numeric columns are reported before any analysis runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from archspace.errors import DataError, UsageError

COST_COLUMNS: tuple[str, ...] = ("flops", "params", "acts", "time", "latency_ms", "throughput")
# Cost columns where more is better (a Pareto front over them maximizes the cost).
HIGHER_IS_BETTER: frozenset[str] = frozenset({"throughput"})

# Column names recognized without being named explicitly, tried in order.
ERROR_CANDIDATES: tuple[str, ...] = ("error", "top1_err", "err", "objective", "val_error", "test_error", "value")
ACCURACY_CANDIDATES: tuple[str, ...] = ("accuracy", "top1", "acc", "test_accuracy", "val_accuracy")
NAME_CANDIDATES: tuple[str, ...] = ("name", "model", "model_name", "arch_name")
COST_CANDIDATES: dict[str, tuple[str, ...]] = {
    "flops": ("flops", "cost_flops", "cost.flops", "macs", "gmacs", "infer_gmacs", "mflops", "gflops"),
    "params": ("params", "cost_params", "cost.params", "param_count", "num_params", "parameters"),
    "acts": ("acts", "cost_acts", "cost.acts", "activations", "infer_macts", "macts"),
    "time": ("time", "cost_seconds", "cost.seconds", "seconds", "infer_step_time", "train_seconds"),
    "latency_ms": ("latency_ms", "cost_latency_ms", "cost.latency_ms", "latency"),
    "throughput": ("throughput", "cost_throughput", "cost.throughput", "infer_samples_per_sec", "samples_per_sec"),
}


@dataclass(frozen=True)
class ColumnMap:
    """Which source column feeds each standard column (None = detect by name)."""

    error: str | None = None
    accuracy: str | None = None
    group: str | None = None
    name: str | None = None
    costs: Mapping[str, str] = field(default_factory=dict)


def normalize_table(frame: pd.DataFrame, columns: ColumnMap | None = None, group: str | None = None) -> pd.DataFrame:
    """Return a trial table (see the module docstring) built from ``frame``.

    ``group`` labels every row when the frame has no group column. Rows whose error is missing
    (failed trials) are dropped; a frame without any usable row is an error.
    """
    columns = columns or ColumnMap()
    if not isinstance(frame, pd.DataFrame):
        raise UsageError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    error = _error_series(frame, columns)
    table = frame.copy()
    table["error"] = error
    table["group"] = _group_series(frame, columns, group)
    name = columns.name or next((c for c in NAME_CANDIDATES if c in frame.columns), None)
    if name is not None:
        _require(frame, name, "name column")
        table["name"] = frame[name].astype(str)
    for cost in COST_COLUMNS:
        source = columns.costs.get(cost)
        if source is not None:
            _require(frame, source, f"{cost} column")
            table[cost] = _numeric(frame[source], source)
            continue
        # Detected by name: a column that happens to be called e.g. "time" but holds text is skipped.
        for candidate in (c for c in COST_CANDIDATES[cost] if c in frame.columns):
            try:
                table[cost] = _numeric(frame[candidate], candidate)
            except DataError:
                continue
            break
        else:
            if cost in table.columns:  # keep a text column of that name, out of the cost's way
                table = table.rename(columns={cost: f"{cost}_raw"})
    if "arch" not in table.columns and "arch_json" in frame.columns:  # a study's exported table
        table["arch"] = frame["arch_json"]
    table = table[table["error"].notna()].reset_index(drop=True)
    if table.empty:
        raise DataError("no rows with an error value (all trials missing or failed)")
    return table


def load_csv(
    paths: str | Path | Sequence[str | Path],
    columns: ColumnMap | None = None,
    join_on: str | None = None,
    key_before: str | None = None,
) -> pd.DataFrame:
    """Read one CSV, or several joined on ``join_on``, and normalize it into a trial table.

    ``key_before`` truncates the join key at the first occurrence of that text (timm's results
    and benchmark files name the same model ``resnet50.a1_in1k`` and ``resnet50``: join with
    ``key_before='.'``). When files share a column, the first file's copy is kept.
    """
    path_list = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    if not path_list:
        raise UsageError("no CSV file given")
    frames = [_read_csv(p) for p in path_list]
    if len(frames) == 1:
        frame = frames[0]
    else:
        if join_on is None:
            raise UsageError("several CSV files need a join column (--join-on)")
        frame = join_frames(frames, join_on, key_before, [str(p) for p in path_list])
    return normalize_table(frame, columns)


def join_frames(
    frames: Sequence[pd.DataFrame], join_on: str, key_before: str | None, labels: Sequence[str]
) -> pd.DataFrame:
    """Inner-join frames on ``join_on`` (optionally truncated at ``key_before``)."""
    keyed = []
    for frame, label in zip(frames, labels, strict=True):
        if join_on not in frame.columns:
            raise DataError(f"{label}: join column {join_on!r} not found; columns are {_listing(frame)}")
        frame = frame.copy()
        key = frame[join_on].astype(str)
        frame["_join_key"] = key.str.split(key_before, n=1, regex=False).str[0] if key_before else key
        # The first file keeps every row; later files contribute one row per key.
        keyed.append(frame if not keyed else frame.drop_duplicates("_join_key"))
    joined = keyed[0]
    for other in keyed[1:]:
        fresh = [c for c in other.columns if c not in joined.columns or c == "_join_key"]
        joined = joined.merge(other[fresh], on="_join_key", how="inner")
    if joined.empty:
        raise DataError(f"joining on {join_on!r} matched no rows")
    return joined.drop(columns="_join_key").reset_index(drop=True)


def table_from_study_frame(frame: pd.DataFrame, group: str, columns: ColumnMap | None = None) -> pd.DataFrame:
    """Trial table of one study's ``trials_dataframe()``: complete trials, ``objective`` as error.

    The spec JSON becomes the ``arch`` column (for width profiles and model statistics) and the
    trial's training time the ``time`` cost when no cost column says otherwise.
    """
    require_columns(frame, ["state", "objective", "arch_json"], f"study {group!r}")
    done = frame[frame["state"] == "complete"].copy()
    if done.empty:
        raise DataError(f"study {group!r} has no complete trial yet")
    done["arch"] = done["arch_json"]
    if "time" not in done.columns and "train_seconds" not in done.columns and "duration_s" in done.columns:
        done["time"] = done["duration_s"]
    columns = columns or ColumnMap()
    if columns.error is None and columns.accuracy is None:
        columns = ColumnMap("objective", None, columns.group, columns.name, columns.costs)
    if "name" not in done.columns and columns.name is None:
        done["name"] = [f"{group}#{n}" for n in done["number"]]
    return normalize_table(done, columns, group=group)


def load_studies(names: Sequence[str], storage: str | Path, columns: ColumnMap | None = None) -> pd.DataFrame:
    """One trial table holding the complete trials of each named study (group = study name)."""
    from archspace.study.study import Study

    if not names:
        raise UsageError("name at least one study")
    frames = [table_from_study_frame(Study.load(name, storage).trials_dataframe(), name, columns) for name in names]
    return pd.concat(frames, ignore_index=True)


def require_columns(table: pd.DataFrame, names: Sequence[str], purpose: str) -> None:
    """Raise ``DataError`` naming every missing column ``purpose`` needs."""
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise DataError(f"{purpose} needs column(s) {', '.join(missing)}; table has {_listing(table)}")


def groups(table: pd.DataFrame) -> list[str]:
    """Group names in order of first appearance."""
    return list(dict.fromkeys(table["group"].astype(str))) if "group" in table.columns else ["all"]


def numeric_column(table: pd.DataFrame, name: str) -> np.ndarray:
    """Column ``name`` as a float array, with a clear error when absent or not numeric."""
    require_columns(table, [name], f"statistic {name!r}")
    return _numeric(table[name], name).to_numpy(dtype=float)


# --- helpers ---------------------------------------------------------------------------------


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"CSV file not found: {path}")
    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from None


def _error_series(frame: pd.DataFrame, columns: ColumnMap) -> pd.Series:
    if columns.error is not None and columns.accuracy is not None:
        raise UsageError("give an error column or an accuracy column, not both")
    if columns.error is not None:
        _require(frame, columns.error, "error column")
        return _numeric(frame[columns.error], columns.error)
    if columns.accuracy is not None:
        _require(frame, columns.accuracy, "accuracy column")
        return _accuracy_to_error(_numeric(frame[columns.accuracy], columns.accuracy))
    found = next((c for c in ERROR_CANDIDATES if c in frame.columns), None)
    if found is not None:
        return _numeric(frame[found], found)
    found = next((c for c in ACCURACY_CANDIDATES if c in frame.columns), None)
    if found is not None:
        return _accuracy_to_error(_numeric(frame[found], found))
    raise DataError(
        f"no error or accuracy column found (looked for {', '.join(ERROR_CANDIDATES + ACCURACY_CANDIDATES)}); "
        f"columns are {_listing(frame)}; name one with --error-column or --accuracy-column"
    )


def _accuracy_to_error(accuracy: pd.Series) -> pd.Series:
    """Error in the accuracy's own scale: 100 - acc for percentages, 1 - acc for fractions."""
    top = accuracy.max(skipna=True)
    return (100.0 if top > 1.0 else 1.0) - accuracy


def _group_series(frame: pd.DataFrame, columns: ColumnMap, group: str | None) -> pd.Series:
    if columns.group is not None:
        _require(frame, columns.group, "group column")
        return frame[columns.group].astype(str)
    if group is not None:
        return pd.Series([group] * len(frame), index=frame.index, dtype=object)
    if "group" in frame.columns:
        return frame["group"].astype(str)
    return pd.Series(["all"] * len(frame), index=frame.index, dtype=object)


def _numeric(series: pd.Series, name: str) -> pd.Series:
    if not pd.api.types.is_numeric_dtype(series):  # "1,014.45": thousands separators are common in published tables
        series = series.map(lambda v: v.replace(",", "").strip() if isinstance(v, str) else v)
    converted = pd.to_numeric(series, errors="coerce")
    bad = converted.isna() & series.notna()
    if bad.any():
        example = series[bad].iloc[0]
        raise DataError(f"column {name!r} is not numeric (e.g. {example!r} in row {int(bad.idxmax())})")
    return converted.astype(float)


def _require(frame: pd.DataFrame, column: str, what: str) -> None:
    if column not in frame.columns:
        raise DataError(f"{what} {column!r} not found; columns are {_listing(frame)}")


def _listing(frame: pd.DataFrame, limit: int = 20) -> str:
    names = [str(c) for c in frame.columns]
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")
