"""``archspace nb201 flatness``: flat vs sharp top cells, and neighborhood criteria vs test accuracy.

    archspace nb201 flatness [--metric cifar10_valid_200] [--top 200] [--random 1000]
                             [--n-nbr K] [--lam 1.0] [--seed 0] [--json]

Plugged into the ``nb201`` group through ``NB201_SUBCOMMAND_MODULES`` in ``cli/nb201_cmd.py``.
"""

from __future__ import annotations

import argparse

from archspace.cli.common import add_json_flag, print_json, print_table


def register(nb201_subparsers: argparse._SubParsersAction) -> None:
    parser = nb201_subparsers.add_parser(
        "flatness",
        help="neighborhood spread of the top cells; Kendall tau of neighborhood criteria",
        description="Thesis Tables 3.1 and 3.3 on the NAS-Bench-201 table.",
    )
    parser.add_argument("--metric", default="cifar10_valid_200", help="search metric (default %(default)s)")
    parser.add_argument("--top", type=int, default=200, help="top cells by the metric (default 200)")
    parser.add_argument("--random", type=int, default=1000, help="random cells for Kendall tau (default 1000)")
    parser.add_argument("--n-nbr", type=int, default=None, help="sampled neighbors per cell (default: all 24)")
    parser.add_argument("--lam", type=float, default=1.0, help="lambda of the f(a) + lambda std criterion")
    parser.add_argument("--seed", type=int, default=0)
    add_json_flag(parser)
    parser.set_defaults(handler=run_flatness)


def run_flatness(args: argparse.Namespace) -> int:
    from archspace.analysis.flatness import TEST_METRICS, FlatnessConfig, flatness_report

    config = FlatnessConfig(metric=args.metric, top=args.top, n_random=args.random,
                            n_nbr=args.n_nbr, lam=args.lam, seed=args.seed)
    report = flatness_report(config=config)
    if args.json:
        print_json(report)
        return 0
    flat = report["flat_vs_sharp"]
    columns = ["group", "cells", "nbr std", flat["metric"], "C10 test", "C100 test", "IN16 test"]
    rows = [[name, g["cells"], g["neighborhood_std"], g[flat["metric"]], *(g[m] for m in TEST_METRICS)]
            for name, g in flat["groups"].items()]
    print_table(columns, rows, title=f"Top {flat['top']} cells by {flat['metric']}: flat vs sharp halves")
    corr = report["criterion_correlations"]
    rows = [[label, *(taus[m] for m in TEST_METRICS)] for label, taus in corr["kendall_tau"].items()]
    print_table(["criterion", "C10 test", "C100 test", "IN16 test"], rows,
                title=f"Kendall tau vs test accuracy, {corr['cells']} random cells, {corr['neighbors']} neighbors")
    return 0
