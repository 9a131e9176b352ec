"""The ``archspace`` command line: a thin layer over the Python API.

Each subcommand lives in its own module with ``register(subparsers)``; the module adds a parser
and sets ``handler`` (a function taking the parsed args and returning an exit status). Any
``ArchspaceError`` or bad argument becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from archspace.cli.common import run_handler

# Modules under archspace.cli that define `register(subparsers)`, in help order.
COMMAND_MODULES: tuple[str, ...] = (
    "models",
    "plugins_cmd",
    "complexity_cmd",
    "sample",
    "fit",
    "analyze_cmd",
    "design_study_cmd",
    "study_cmd",
    "dashboard_cmd",
    "nb201_cmd",
    "train_cmd",
    "committee_cmd",
    "bench_cmd",
    "supernet_cmd",
    "ranking_study_cmd",
    "scale_cmd",
    "compress_cmd",
    "nss_cmd",
    "oneshot_cmd",
    "attention_cmd",
)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"archspace: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    from archspace import __version__

    parser = _Parser(prog="archspace", description="Design, search and analyze neural-network design spaces.")
    parser.add_argument("--version", action="version", version=f"archspace {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"archspace.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
