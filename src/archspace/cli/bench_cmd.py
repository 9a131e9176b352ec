"""``archspace bench nb201``: compare search algorithms on the NAS-Bench-201 table.

    archspace bench nb201 --algorithms rs,re,ls,bo,bo-learned,na-rs,tpe --budget 100 --runs 200 \\
        --search-metric cifar10_valid_200 --seed 0 --workers 2 --out results/nb201 [--json]

Writes ``summary.json``, ``curves.png``/``curves.svg`` and ``runs.jsonl`` (one line per finished
run; rerunning the same command resumes from it) into ``--out``.
"""

from __future__ import annotations

import argparse
from typing import Any

from archspace.cli.common import add_json_flag, parse_list, print_json, print_table
from archspace.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark search algorithms on tabular benchmarks",
        description="Compare search algorithms on a tabular benchmark, many independent runs each.",
    )
    group = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    group.required = True
    nb201 = group.add_parser(
        "nb201",
        help="NAS-Bench-201: best-so-far curves and final test accuracy per algorithm",
        description="Run every algorithm `--runs` times for `--budget` table evaluations each.",
    )
    nb201.add_argument("--algorithms", default="rs,re,ls,bo,bo-learned,na-rs,tpe",
                       help="comma-separated: rs, re, ls, bo, bo-learned, na-rs, tpe, na-<any> "
                            "(default: %(default)s)")
    nb201.add_argument("--budget", type=int, default=100, help="evaluations per run (default 100)")
    nb201.add_argument("--runs", type=int, default=200, help="independent runs per algorithm (default 200)")
    nb201.add_argument("--search-metric", default="cifar10_valid_200",
                       help="table column searched on (default cifar10_valid_200)")
    nb201.add_argument("--seed-mode", default="mean", choices=("mean", "sample"),
                       help="mean over the benchmark's seeds, or one seed drawn per evaluation")
    nb201.add_argument("--seed", type=int, default=0)
    nb201.add_argument("--workers", type=int, default=1, help="processes running searches in parallel")
    nb201.add_argument("--ops", default=None, help="comma-separated allowed ops (op masking)")
    nb201.add_argument("--n-nbr", type=int, default=None, help="neighbors per proposal for na-* (default 3)")
    nb201.add_argument("--criterion", default=None, help="na-* criterion: mean, median, max, std")
    nb201.add_argument("--kernels", type=int, default=None, help="learned kernels per BO step (default 8)")
    nb201.add_argument("--out", default=None, help="folder for summary.json, curves.png/.svg, runs.jsonl")
    add_json_flag(nb201)
    nb201.set_defaults(handler=run_nb201)


def _options(args: argparse.Namespace, algorithms: list[str]) -> dict[str, dict[str, Any]]:
    options: dict[str, dict[str, Any]] = {}
    for name in algorithms:
        opts: dict[str, Any] = {}
        if name.startswith("na-"):
            if args.n_nbr is not None:
                opts["n_nbr"] = args.n_nbr
            if args.criterion is not None:
                opts["criterion"] = args.criterion
        if name.removeprefix("na-") == "bo-learned" and args.kernels is not None:
            opts["n_kernels"] = args.kernels
        if opts:
            options[name] = opts
    return options


def run_nb201(args: argparse.Namespace) -> int:
    from archspace.experiments.nb201_search import (
        SUMMARY_COLUMNS,
        BenchConfig,
        run_comparison,
        summarize,
        summary_rows,
        write_report,
    )
    from archspace.search.neighborhood import check_criterion
    from archspace.search.registry import parse_strategy_names

    algorithms = parse_strategy_names(args.algorithms)
    if args.criterion is not None:
        check_criterion(args.criterion)
    if args.n_nbr is not None and args.n_nbr < 0:
        raise UsageError(f"--n-nbr must be >= 0, got {args.n_nbr}")
    if args.kernels is not None and args.kernels < 1:
        raise UsageError(f"--kernels must be >= 1, got {args.kernels}")
    ops = parse_list(args.ops, "--ops operation") if args.ops else None
    config = BenchConfig(
        algorithms=tuple(algorithms), budget=args.budget, runs=args.runs,
        search_metric=args.search_metric, seed=args.seed, seed_mode=args.seed_mode, ops=ops,
        options=_options(args, algorithms),
    ).checked()
    config.space()  # unknown ops -> UsageError before any run
    try:  # Optuna logs every TPE trial at INFO; the progress bar says enough (workers mirror this)
        import optuna
    except ImportError:
        pass
    else:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    records = run_comparison(config, workers=args.workers, out=args.out, progress=not args.json)
    summary = summarize(records, config)
    if args.out is not None:
        summary["files"] = [str(p) for p in write_report(summary, args.out)]
    if args.json:
        print_json(summary)
        return 0
    print_table(SUMMARY_COLUMNS, summary_rows(summary),
                title=f"NAS-Bench-201, {config.budget} evaluations on {config.search_metric}, "
                      f"final selected cell (mean ± 95% CI over {config.runs} runs)")
    comparisons = summary["comparisons"]
    if comparisons.get("against"):
        leader = comparisons["best_algorithm"]
        parts = [f"{name}: {c['difference']:+.2f} (p={c['p_value']:.2g})"
                 for name, c in comparisons["against"].items()]
        print(f"best on CIFAR-10 test: {leader}; difference vs " + ", ".join(parts))
    print(f"best cell: CIFAR-10 {summary['best_cell']['cifar10_test_200']:.2f}, "
          f"CIFAR-100 {summary['best_cell']['cifar100_test_200']:.2f}, "
          f"ImageNet16-120 {summary['best_cell']['imagenet16_test_200']:.2f}")
    return 0
