"""Helpers shared by CLI commands: error handling, JSON output, tables.

Range, number and list parsing live in ``archspace.parsing`` (workflows read the same values from
YAML); they are re-exported here for the commands.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from typing import Any

from archspace.cli.options import (
    check_device,
    check_options,
    check_output_dir,
    check_output_file,
    check_seeds,
    make_output_dir,
    read_json_file,
    read_text_file,
)
from archspace.errors import ArchspaceError
from archspace.parsing import parse_list, parse_number, parse_range

__all__ = ["DB_ENV", "DEFAULT_DB", "add_db_option", "add_json_flag", "check_device", "check_options",
           "check_output_dir", "check_output_file", "check_seeds", "make_output_dir", "parse_list", "parse_number",
           "parse_range", "print_json", "print_table", "read_json_file", "read_text_file", "run_handler"]

DEFAULT_DB = "studies.db"
DB_ENV = "ARCHSPACE_STUDY_DB"


def add_db_option(parser: Any, *, required: bool = False, help_what: str = "study database") -> None:
    """The one ``--db FILE`` option of every command that reads or writes studies.

    Default ``studies.db`` (or ``$ARCHSPACE_STUDY_DB``); ``parser`` may be a parser or an argument
    group (e.g. a mutually exclusive group, where no default is set so the group can tell it was
    given). The value is a file path or a ``sqlite:///`` URL; stores key studies on the resolved path.
    """
    kwargs: dict[str, Any] = {"metavar": "FILE", "dest": "db"}
    if required:
        kwargs["required"] = True
        help_text = f"{help_what}: SQLite file or sqlite:/// URL"
    elif isinstance(parser, argparse._MutuallyExclusiveGroup):
        help_text = f"{help_what}: SQLite file or sqlite:/// URL"
    else:
        kwargs["default"] = os.environ.get(DB_ENV) or DEFAULT_DB
        help_text = f"{help_what}: SQLite file or sqlite:/// URL (default {DEFAULT_DB}, or ${DB_ENV})"
    parser.add_argument("--db", help=help_text, **kwargs)


def run_handler(args: argparse.Namespace) -> int:
    """Check every option (``archspace.cli.options``), then run ``args.handler``; user errors
    become one line on stderr and exit status 2."""
    try:
        check_options(args)
        status = args.handler(args)
    except ArchspaceError as exc:
        print(f"archspace: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("archspace: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (`archspace ... | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    return int(status or 0)


def one_line(message: str) -> str:
    """A message on one line (YAML and JSON parsers report over several)."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(data: Any) -> None:
    """Strict JSON on stdout: NaN and infinities become null (RFC 8259 has no bare NaN)."""
    json.dump(strict_json(data), sys.stdout, indent=2, sort_keys=False, allow_nan=False, default=_json_default)
    sys.stdout.write("\n")


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float (also inside lists, dicts, numpy scalars) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return strict_json(value.tolist())
    return value


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
