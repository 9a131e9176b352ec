"""`archspace demo`: the README's main job."""

from __future__ import annotations

import argparse

from archspace.cli.models import print_zoo


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="the main job: print the model zoo",
                                   description="The README's main job.")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")
    parser.set_defaults(handler=lambda args: print_zoo(args.json))
