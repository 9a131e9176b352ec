"""`archspace fit`: the quantized linear (RegNet) fit of a model's per-block widths, and e_fit."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from archspace.cli.common import add_json_flag, print_json
from archspace.errors import UsageError
from archspace.families.anynet.spec import AnyNetArch, validate_anynet
from archspace.spaces.registry import resolve_arch
from archspace.spaces.regnet import fit_regnet


def run(args: argparse.Namespace) -> int:
    arch = resolve_arch(args.spec)
    if not isinstance(arch, AnyNetArch):
        raise UsageError(f"fit takes an AnyNet spec, got kind {arch.kind!r}")
    validate_anynet(arch)
    fit = fit_regnet(arch)
    out = {"depth": arch.depth, "block_widths": arch.block_widths(), **asdict(fit)}
    if args.json:
        print_json(out)
    else:
        print(f"e_fit = {fit.e_fit:.4f}   w0 = {fit.w0:g}   wa = {fit.wa:.2f}   wm = {fit.wm:.3f}   (depth {arch.depth})")
        print(f"observed  widths: {arch.block_widths()}")
        print(f"predicted widths: {fit.predicted_widths}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fit", help="fit the quantized linear width model (e_fit) to a spec",
        description="Grid-search (w0, wa, wm) for the model's depth minimizing e_fit, the mean "
                    "|log(predicted/observed)| per-block width.")
    parser.add_argument("spec", metavar="SPEC_JSON", help="JSON spec, path to a JSON file, or zoo name")
    add_json_flag(parser)
    parser.set_defaults(handler=run)
