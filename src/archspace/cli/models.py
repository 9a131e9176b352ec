"""`archspace models`: the model zoo with analytic flops / params / acts."""

from __future__ import annotations

import argparse

from archspace.cli.common import add_json_flag, print_json, print_table
from archspace.families.anynet.cost import anynet_complexity
from archspace.spaces.zoo import list_models


def zoo_rows() -> list[dict]:
    rows = []
    for entry in list_models():
        cx = anynet_complexity(entry.arch, entry.resolution, entry.num_classes)
        rows.append({"name": entry.name, "resolution": entry.resolution, "classes": entry.num_classes,
                     "depth": entry.arch.depth, "flops": cx.flops, "params": cx.params, "acts": cx.acts,
                     "source": entry.source})
    return rows


def print_zoo(as_json: bool) -> int:
    rows = zoo_rows()
    if as_json:
        print_json(rows)
        return 0
    print_table(["model", "input", "depth", "flops", "params", "acts"],
                [[r["name"], r["resolution"], r["depth"], r["flops"], r["params"], r["acts"]] for r in rows],
                title="archspace model zoo (flops = multiply-adds)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list the model zoo with flops/params/acts",
                                   description="List every registered model with its analytic complexity.")
    add_json_flag(parser)
    parser.set_defaults(handler=lambda args: print_zoo(args.json))
