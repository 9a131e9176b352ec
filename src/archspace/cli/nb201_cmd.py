"""``archspace nb201``: the NAS-Bench-201 command group (cell lookups, table info).

    archspace nb201 lookup '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|'
    archspace nb201 lookup 6111 --json
    archspace nb201 info

Adding a subcommand to the group from another module (how ``nb201 flatness`` plugs in): write
``archspace/cli/<module>.py`` with ``register(nb201_subparsers)`` — the same contract as top-level
commands: add one parser to the given subparsers action and ``set_defaults(handler=fn)`` with
``fn(args) -> int`` — then add ``"<module>"`` to ``NB201_SUBCOMMAND_MODULES`` below (a one-line
edit, like ``COMMAND_MODULES`` in ``archspace/cli/__init__.py``). Errors raised as
``ArchspaceError`` become one line and exit status 2, as everywhere in the CLI.
"""

from __future__ import annotations

import argparse
import importlib
import time
from typing import Any

from archspace.cli.common import add_json_flag, print_json, print_table

# Modules under archspace.cli whose `register(nb201_subparsers)` adds a subcommand to `nb201`.
NB201_SUBCOMMAND_MODULES: tuple[str, ...] = ("nb201_flatness_cmd",)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "nb201",
        help="NAS-Bench-201: look cells up in the packaged table, describe it",
        description="NAS-Bench-201 cell space and its tabular benchmark (all 15,625 cells).",
    )
    group = parser.add_subparsers(dest="nb201_command", metavar="SUBCOMMAND")
    group.required = True
    _register_lookup(group)
    _register_info(group)
    for name in NB201_SUBCOMMAND_MODULES:
        importlib.import_module(f"archspace.cli.{name}").register(group)


def _register_lookup(group: argparse._SubParsersAction) -> None:
    parser = group.add_parser(
        "lookup",
        help="every recorded result of one cell, its isomorphism class and analytic cost",
        description="Look a cell up by benchmark string or benchmark index (0..15624).",
    )
    parser.add_argument("cell", metavar="CELL_OR_INDEX", help="cell string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' or index")
    add_json_flag(parser)
    parser.set_defaults(handler=run_lookup)


def _register_info(group: argparse._SubParsersAction) -> None:
    parser = group.add_parser("info", help="the packaged table: size, source, columns, best cells")
    add_json_flag(parser)
    parser.set_defaults(handler=run_info)


def lookup(cell_text: str) -> dict[str, Any]:
    """Everything known about one cell, as plain data."""
    from archspace.bench.nb201 import NB201Table
    from archspace.families.nb201.index import isomorphism_class_ids, parse_cell, unique_string
    from archspace.spaces.nb201 import NB201Space

    space = NB201Space()
    cell = parse_cell(cell_text)
    index = space.index_of(cell)
    canonical = space.canonical(cell)
    classes = isomorphism_class_ids()
    table = NB201Table.load()
    record = table.row(index)
    record.pop("arch")
    cost = space.complexity(cell)
    return {
        "index": index,
        "arch": cell.to_string(),
        "ops": list(cell.ops),
        "unique": unique_string(cell),
        "canonical": canonical.to_string(),
        "canonical_index": space.index_of(canonical),
        "isomorphic_cells": int((classes == classes[index]).sum()),
        "complexity_cifar10": cost.to_dict(),
        "cifar10_test_rank": int((table.column("cifar10_test_200") > record["cifar10_test_200"]).sum()) + 1,
        "results": {k: v for k, v in record.items() if k != "index"},
    }


def run_lookup(args: argparse.Namespace) -> int:
    data = lookup(args.cell)
    if args.json:
        print_json(data)
        return 0
    print(f"cell {data['index']}: {data['arch']}")
    print(f"canonical: {data['canonical']} (index {data['canonical_index']}, {data['isomorphic_cells']} isomorphic cells)")
    cost = data["complexity_cifar10"]
    print(f"CIFAR-10 network: {cost['params']:,} params, {cost['flops']:,} flops, {cost['acts']:,} acts; "
          f"rank {data['cifar10_test_rank']:,} of 15,625 on CIFAR-10 test")
    results = data["results"]
    datasets = ("cifar10", "cifar100", "imagenet16")
    rows: list[list[Any]] = [
        [label, *(results[f"{d}_{suffix}"] for d in datasets)]
        for label, suffix in (("valid 200", "valid_200"), ("test 200", "test_200"), ("valid 12", "valid_12"),
                              ("test 12", "test_12"), ("train s (200)", "train_seconds_200"))
    ]
    rows.insert(1, ["valid seeds", *(" ".join(f"{v:.2f}" for v in results[f"{d}_valid_200_seeds"]) for d in datasets)])
    print_table(["", *datasets], rows)
    return 0


def info() -> dict[str, Any]:
    """The packaged table's provenance, size, load time and best cells."""
    from archspace.bench.nb201 import ACCURACY_METRICS, NB201Table, _read_table
    from archspace.families.nb201.index import benchmark_cell_at, table_path
    from archspace.spaces.nb201 import NB201Space

    started = time.perf_counter()
    _read_table(table_path())  # an uncached read, to report its cost
    load_seconds = time.perf_counter() - started
    table = NB201Table.load()
    best = {}
    for metric in ACCURACY_METRICS:
        index, value = table.best(metric)
        best[metric] = {"index": index, "value": value, "arch": benchmark_cell_at(index).to_string()}
    return {
        "resource": str(table_path()),
        "resource_bytes": len(table_path().read_bytes()),
        "load_seconds": load_seconds,
        "source": table.meta.get("source"),
        "source_sha256": table.meta.get("source_sha256"),
        "cells": len(table),
        "space": NB201Space().summary(),
        "columns": table.metric_names + [f"{d}_valid_200_seeds" for d in sorted(table.valid_seeds)],
        "best": best,
    }


def run_info(args: argparse.Namespace) -> int:
    data = info()
    if args.json:
        print_json(data)
        return 0
    print(f"{data['cells']:,} cells, {data['space']['isomorphism_classes']:,} isomorphism classes; "
          f"{data['resource']} ({data['resource_bytes'] / 1e6:.2f} MB, read in {data['load_seconds'] * 1e3:.0f} ms)")
    print(f"source: {data['source']} sha256 {data['source_sha256']}")
    rows = [[metric, entry["value"], entry["index"], entry["arch"]] for metric, entry in data["best"].items()]
    print_table(["metric", "best", "index", "cell"], rows, title="best cell per metric")
    return 0
