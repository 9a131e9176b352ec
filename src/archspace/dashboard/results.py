"""Results folders (``archspace dashboard --results DIR``): whatever JSON, JSONL and CSV files hold.

Kept generic on purpose: ``archspace bench nb201`` writes ``summary.json`` (mean best-so-far
curves per algorithm) and ``runs.jsonl``; a one-shot run writes its alpha trajectories; other
workflows write CSV tables. ``list_results`` finds the files; ``read_result`` turns one into a
table (CSV, JSONL: the first rows, numeric columns as series) or a tree (JSON) plus every numeric
array found in it as a line series (a list of numbers is one line; a list of equal-length rows,
such as alphas per step, is one line per column; a list of records, such as a one-shot run's
per-epoch ``history``, gives one trajectory per number or array element found in every record:
``history[*].arch.cell`` is one line per alpha), so a curve or a trajectory plots without code for
its format. Paths are confined to the folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from archspace.errors import DataError, UsageError

SUFFIXES = (".json", ".jsonl", ".csv")
MAX_FILES = 500
MAX_BYTES = 50 << 20
MAX_ROWS = 500
MAX_SERIES = 40
MAX_LINES_PER_SERIES = 48


def check_folder(folder: str | Path) -> Path:
    """The results folder, resolved; a clear error when it is not a folder."""
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise UsageError(f"results folder {folder} does not exist or is not a folder")
    return path


def list_results(folder: Path) -> list[dict[str, Any]]:
    """Result files under ``folder`` (relative path, size, kind), at most ``MAX_FILES``."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() in SUFFIXES and path.is_file() and not any(p.startswith(".") for p in path.parts):
            found.append({"path": path.relative_to(folder).as_posix(), "bytes": path.stat().st_size,
                          "kind": path.suffix.lower().lstrip(".")})
            if len(found) >= MAX_FILES:
                break
    return found


def resolve_result(folder: Path, relative: str) -> Path | None:
    """The file ``relative`` inside ``folder``; None if it is outside, missing or not a result file."""
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder) or not path.is_file() or path.suffix.lower() not in SUFFIXES:
        return None
    return path


def read_result(path: Path) -> dict[str, Any]:
    """The table or tree of one result file and the line series found in it."""
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{path.name} is larger than {MAX_BYTES >> 20} MB; open it with pandas instead")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _table_result(_read_csv(path))
    if suffix == ".jsonl":
        return _table_result(_read_jsonl(path))
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name} is not valid JSON ({exc})") from None
    return {"kind": "json", "tree": data, "series": list(_series(data, ""))[:MAX_SERIES]}


def _read_csv(path: Path) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"{path.name} is not a readable CSV ({exc})") from None


def _read_jsonl(path: Path) -> Any:
    import pandas as pd

    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path.name} line {number} is not JSON ({exc})") from None
    return pd.json_normalize([r if isinstance(r, dict) else {"value": r} for r in rows])


def _table_result(frame: Any) -> dict[str, Any]:
    import pandas as pd

    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])]
    shown = frame.head(MAX_ROWS).astype(object).where(frame.head(MAX_ROWS).notna(), None)
    rows = [[_plain(v) for v in row] for row in shown.itertuples(index=False)]
    series = [{"name": str(c), "lines": [{"name": str(c), "y": _floats(frame[c].to_numpy(dtype=float))}]}
              for c in numeric[:MAX_SERIES]]
    return {"kind": "table", "columns": [str(c) for c in frame.columns], "rows": rows, "total_rows": len(frame),
            "series": series}


def _series(node: Any, path: str) -> Iterator[dict[str, Any]]:
    """Line series of every numeric vector or matrix in a JSON tree, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _series(value, f"{path}.{key}" if path else str(key))
        return
    if not isinstance(node, list) or not node:
        return
    if len(node) >= 2 and all(isinstance(item, dict) for item in node):
        yield from _record_series(node, path)
        return
    array = _numeric_array(node)
    if array is not None and array.ndim == 1 and array.size >= 2:
        yield {"name": path, "lines": [{"name": path.rsplit(".", 1)[-1], "y": _floats(array)}]}
    elif array is not None and array.ndim >= 2 and array.shape[0] >= 2:
        flat = array.reshape(array.shape[0], -1)[:, :MAX_LINES_PER_SERIES]
        labels = [",".join(map(str, i)) for i in np.ndindex(*array.shape[1:])][:flat.shape[1]]
        yield {"name": path, "lines": [{"name": f"[{label}]", "y": _floats(flat[:, j])} for j, label in enumerate(labels)]}
    elif array is None:
        for index, value in enumerate(node[:MAX_SERIES]):
            yield from _series(value, f"{path}[{index}]")


def _record_series(records: list[dict[str, Any]], path: str) -> Iterator[dict[str, Any]]:
    """A list of records (per epoch, per run ...): every number or numeric array found at the
    same place in each record becomes a trajectory over the records, e.g. a one-shot run's
    ``history[*].arch.cell`` (edges x ops alphas per epoch) is one line per alpha."""
    leaves = [dict(_numeric_leaves(record, "")) for record in records]
    shared = [key for key in leaves[0] if all(key in leaf for leaf in leaves[1:])]
    for key in shared[:MAX_SERIES]:
        values = [leaf[key] for leaf in leaves]
        if len({v.shape for v in values}) != 1:
            continue
        stacked = np.stack(values)
        name = f"{path}[*].{key}" if path else f"[*].{key}"
        if stacked.ndim == 1:
            yield {"name": name, "lines": [{"name": key.rsplit(".", 1)[-1], "y": _floats(stacked)}]}
            continue
        flat = stacked.reshape(len(records), -1)[:, :MAX_LINES_PER_SERIES]
        labels = [",".join(map(str, i)) for i in np.ndindex(*stacked.shape[1:])][:flat.shape[1]]
        yield {"name": name, "lines": [{"name": f"[{label}]", "y": _floats(flat[:, j])} for j, label in enumerate(labels)]}


def _numeric_leaves(node: Any, path: str) -> Iterator[tuple[str, np.ndarray]]:
    """(dotted path, array) of every number and numeric array below a record."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, (int, float)) and not isinstance(node, bool):
        yield path, np.asarray(float(node))
    elif isinstance(node, list) and node:
        array = _numeric_array(node)
        if array is not None:
            yield path, array


def _numeric_array(node: list[Any]) -> np.ndarray | None:
    first: Any = node
    while isinstance(first, list) and first:
        first = first[0]
    if isinstance(first, (str, bool)) or first is None:
        return None
    try:
        array = np.asarray(node, dtype=float)
    except (TypeError, ValueError):
        return None
    return array if array.dtype == float and array.size else None


def _floats(values: np.ndarray) -> list[float | None]:
    return [float(v) if np.isfinite(v) else None for v in values]


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer, np.floating)):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
