"""Helpers shared by CLI commands: error handling, JSON output, range parsing, tables."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from archspace.errors import ArchspaceError, UsageError


def run_handler(args: argparse.Namespace) -> int:
    """Run ``args.handler``; user errors become one line on stderr and exit status 2."""
    try:
        status = args.handler(args)
    except ArchspaceError as exc:
        print(f"archspace: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archspace: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=_json_default)
    sys.stdout.write("\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def parse_range(text: str, option: str) -> tuple[float, float]:
    """Parse ``LO:HI`` with optional unit suffixes k, M, G (e.g. ``360M:400M``)."""
    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(f"{option} expects LO:HI (e.g. 360M:400M), got {text!r}")
    low, high = (parse_number(p, option) for p in parts)
    if not 0 <= low <= high:
        raise UsageError(f"{option} expects 0 <= LO <= HI, got {text!r}")
    return low, high


_SUFFIXES = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}


def parse_number(text: str, option: str) -> float:
    text = text.strip()
    scale = 1.0
    if text and text[-1] in _SUFFIXES:
        scale, text = _SUFFIXES[text[-1]], text[:-1]
    try:
        return float(text) * scale
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a number") from None


def print_table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    """A rich table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(_format_cell(v) for v in row))
    Console().print(table)


def _format_cell(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
