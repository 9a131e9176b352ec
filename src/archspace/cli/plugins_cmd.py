"""`archspace plugins`: every registered family, space, search algorithm and evaluator."""

from __future__ import annotations

import argparse
from typing import Any

from archspace.cli.common import add_json_flag, print_json, print_table


def plugin_rows() -> list[dict[str, Any]]:
    """One row per registered plug-in: registry, name, description and metadata."""
    from archspace.evaluators.registry import EVALUATORS
    from archspace.families import FAMILIES
    from archspace.search.registry import STRATEGIES, strategy_metadata
    from archspace.spaces.registry import SPACES

    rows = [{"registry": "family", "name": e.name, "description": e.description, **e.metadata}
            for e in FAMILIES.entries()]
    rows += [{"registry": "space", "name": e.name, "description": e.description, **e.metadata}
             for e in SPACES.entries()]
    for name in STRATEGIES.names():
        meta = strategy_metadata(name)
        rows.append({"registry": "strategy", "name": name, "description": meta.pop("description"),
                     **{k: list(v) if isinstance(v, tuple) else v for k, v in meta.items()}})
    rows += [{"registry": "evaluator", "name": e.name, "description": e.description,
              **{k: list(v) if isinstance(v, tuple) else v for k, v in e.metadata.items()}}
             for e in EVALUATORS.entries()]
    return rows


def run(args: argparse.Namespace) -> int:
    rows = plugin_rows()
    if args.json:
        print_json(rows)
        return 0
    details = [", ".join(f"{k}={v}" for k, v in row.items() if k not in ("registry", "name", "description") and v)
               for row in rows]
    print_table(["registry", "name", "description", "metadata"],
                [[r["registry"], r["name"], r["description"], d] for r, d in zip(rows, details, strict=True)],
                title="registered plug-ins")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="list registered families, spaces, search algorithms, evaluators",
                                   description="Every registered plug-in with its metadata (what a strategy needs "
                                               "from a space, whether an evaluator trains a model, ...).")
    add_json_flag(parser)
    parser.set_defaults(handler=run)
