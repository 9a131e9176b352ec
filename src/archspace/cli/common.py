"""Helpers shared by CLI commands: error handling, JSON output, tables.

Range, number and list parsing live in ``archspace.parsing`` (workflows read the same values from
YAML); they are re-exported here for the commands.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from archspace.errors import ArchspaceError
from archspace.parsing import parse_list, parse_number, parse_range

__all__ = ["add_json_flag", "parse_list", "parse_number", "parse_range", "print_json", "print_table", "run_handler"]


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
