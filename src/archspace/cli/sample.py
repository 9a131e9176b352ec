"""`archspace sample`: draw distinct models from a design space inside a complexity regime."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from archspace.cli.common import add_json_flag, parse_range, print_json
from archspace.errors import UsageError
from archspace.spaces.base import Regime
from archspace.spaces.registry import get_space

SAMPLE_SPACES = ("anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e", "regnetx", "regnety")


def regime_from_args(args: argparse.Namespace) -> Regime:
    return Regime(
        flops=parse_range(args.flops, "--flops") if args.flops else None,
        params=parse_range(args.params, "--params") if args.params else None,
        acts=parse_range(args.acts, "--acts") if args.acts else None,
    )


def run(args: argparse.Namespace) -> int:
    if args.space not in SAMPLE_SPACES:
        raise UsageError(f"unknown space {args.space!r}; choose one of {', '.join(SAMPLE_SPACES)}")
    if args.n < 1:
        raise UsageError(f"--n must be >= 1, got {args.n}")
    if args.resolution < 1 or args.classes < 1:
        raise UsageError(f"--resolution and --classes must be >= 1, got {args.resolution} and {args.classes}")
    space = get_space(args.space)
    input_spec = {"resolution": args.resolution, "num_classes": args.classes}
    archs = space.sample_distinct(args.n, args.seed, regime_from_args(args), complexity_kwargs=input_spec)
    records = [{"hash": a.spec_hash(), **space.complexity(a, **input_spec).to_dict(), "arch": a.to_dict()}
               for a in archs]
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
        print(f"wrote {len(records)} models to {args.out}", file=sys.stderr)
    elif args.json:
        print_json(records)
    else:
        for record in records:
            print(json.dumps(record, sort_keys=True))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample", help="sample distinct models from a design space in a complexity regime",
        description="Rejection-sample N distinct models; a model is kept when every given regime bound holds. "
                    "Bounds accept k/M/G suffixes, e.g. --flops 360M:400M. Same seed, same output.")
    parser.add_argument("space", metavar="SPACE", help=f"one of {', '.join(SAMPLE_SPACES)}")
    parser.add_argument("--n", type=int, required=True, help="number of distinct models")
    parser.add_argument("--flops", help="flops regime LO:HI")
    parser.add_argument("--params", help="params regime LO:HI")
    parser.add_argument("--acts", help="acts regime LO:HI")
    parser.add_argument("--seed", type=int, required=True, help="random seed")
    parser.add_argument("--resolution", type=int, default=224, help="input size for the regime (default 224)")
    parser.add_argument("--classes", type=int, default=1000, help="classes for the regime (default 1000)")
    parser.add_argument("--out", help="write JSON lines to this file instead of stdout")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    add_json_flag(parser)
    parser.set_defaults(handler=run, path_options={"out": "new-file"})
