"""``archspace dashboard``: a live web dashboard over a study database (read-only).

    archspace dashboard --db FILE [--host 127.0.0.1] [--port 8080] [--results DIR]

Serves the study list, per-study pages (progress, best so far, EDFs, Pareto fronts, spec
statistics, the trial table), trial pages and a compare page; ``--results`` adds the JSON / CSV
files of a results folder (``archspace bench nb201 --out DIR``, one-shot runs). Binds to loopback
unless ``--host`` says otherwise. A missing or non-archspace database, or a port in use, is one
line on stderr and exit status 2 before anything is served.
"""

from __future__ import annotations

import argparse

from archspace.cli.common import add_db_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dashboard", help="live web dashboard over a study database (read-only)")
    add_db_option(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default 8080)")
    parser.add_argument("--results", metavar="DIR",
                        help="also show the JSON / CSV result files in this folder (e.g. archspace bench nb201 --out)")
    parser.set_defaults(handler=run_dashboard)


def run_dashboard(args: argparse.Namespace) -> int:
    from archspace.dashboard import serve

    serve(args.db, host=args.host, port=args.port, results=args.results)
    return 0
