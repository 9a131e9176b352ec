"""`archspace complexity`: analytic (and optionally measured) cost of a model or spec."""

from __future__ import annotations

import argparse

from archspace.cli.common import add_json_flag, print_json, print_table
from archspace.errors import UsageError
from archspace.families import family_for
from archspace.spaces.registry import resolve_arch
from archspace.spaces.zoo import get_entry


def _default_input(text: str) -> tuple[int, int]:
    try:
        entry = get_entry(text)
    except UsageError:
        return 224, 1000
    return entry.resolution, entry.num_classes


def run(args: argparse.Namespace) -> int:
    arch = resolve_arch(args.model)
    resolution, classes = _default_input(args.model)
    resolution = resolution if args.resolution is None else args.resolution
    classes = classes if args.classes is None else args.classes
    if resolution < 1 or classes < 1 or args.in_channels < 1:
        raise UsageError("--resolution, --classes and --in-channels must be >= 1")
    space = family_for(arch)
    space.validate(arch)
    cx = space.complexity(arch, resolution=resolution, num_classes=classes, in_channels=args.in_channels)
    out = {"model": args.model if not args.model.strip().startswith("{") else arch.spec_hash(),
           "resolution": resolution, "classes": classes, **cx.to_dict()}
    if args.measure:
        from archspace.complexity.measure import measure_complexity

        module = space.build(arch, num_classes=classes, in_channels=args.in_channels)
        measured = measure_complexity(module, (args.in_channels, resolution, resolution))
        out["measured"] = measured.to_dict()
        out["agree"] = measured == cx
    if args.json:
        print_json(out)
    else:
        rows = [["analytic", cx.flops, cx.params, cx.acts]]
        if args.measure:
            m = out["measured"]
            rows.append(["measured", m["flops"], m["params"], m["acts"]])
        print_table(["count", "flops", "params", "acts"], rows, title=f"{out['model']} @ {resolution}x{resolution}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "complexity", help="flops/params/acts of a zoo model or a JSON spec",
        description="Analytic complexity (flops = multiply-adds of conv/linear layers) computed from the spec; "
                    "--measure also builds the model and counts with torch's flop counter.")
    parser.add_argument("model", metavar="NAME_OR_SPEC_JSON", help="zoo name, JSON spec, or path to a JSON file")
    parser.add_argument("--resolution", type=int, default=None, help="input size (default: the model's, else 224)")
    parser.add_argument("--classes", type=int, default=None, help="number of classes (default: the model's, else 1000)")
    parser.add_argument("--in-channels", type=int, default=3, help="input channels (default 3)")
    parser.add_argument("--measure", action="store_true", help="also build the model and measure")
    add_json_flag(parser)
    parser.set_defaults(handler=run)
