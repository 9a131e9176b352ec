"""``archspace bench``: compare search algorithms on the NAS-Bench-201 table.

    archspace bench nb201 --algorithms rs,re,ls,iso-bo,tpe,optuna-gp --budget 100 --runs 100 \\
        --protocol mean --dataset cifar10 --seed 0 --workers 2 --out results/nb201 [--json]
    archspace bench nb201-grid --algorithms rs,re,ls,iso-bo,tpe,hyperopt-tpe \\
        --protocols mean,sample,valid12 --budgets 50,100,300 --datasets cifar10,cifar100,imagenet16 \\
        --runs 100 [--runs-for optuna-gp=30] [--cells-for optuna-gp=mean/cifar10/100] --out DIR
    archspace bench nb201-na --inner rs --signals valid_200,sample,valid12 --criteria median,mean \\
        --centers 100 --n-nbr 10 --runs 100 --out DIR

``nb201`` writes ``summary.json``, ``curves.png``/``curves.svg`` and ``runs.jsonl`` (one line per
finished run; rerunning the same command resumes from it) into ``--out``; ``nb201-grid`` one
such folder per cell plus ``grid_summary.json``; ``nb201-na`` one per (signal, criterion) plus
``na_summary.json``.
"""

from __future__ import annotations

import argparse
from typing import Any

from archspace.cli.common import add_json_flag, parse_list, print_json, print_table
from archspace.errors import UsageError

DEFAULT_ALGORITHMS = "rs,re,ls,bo,iso-bo,na-rs,tpe"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark search algorithms on tabular benchmarks",
        description="Compare search algorithms on a tabular benchmark, many independent runs each.",
    )
    group = parser.add_subparsers(dest="bench_command", metavar="BENCHMARK")
    group.required = True
    _register_nb201(group)
    _register_grid(group)
    _register_na(group)


def _register_nb201(group: Any) -> None:
    nb201 = group.add_parser(
        "nb201",
        help="NAS-Bench-201: best-so-far curves and final test accuracy per algorithm",
        description="Run every algorithm `--runs` times for `--budget` table evaluations each.",
    )
    nb201.add_argument("--algorithms", default=DEFAULT_ALGORITHMS,
                       help="comma-separated: rs, re, ls, bo, bo-learned, iso-bo, tpe, optuna-gp, "
                            "optuna-gp-deterministic, hyperopt-tpe, smac-bb, smac-hpo, na-<any> "
                            "(default: %(default)s)")
    nb201.add_argument("--budget", type=int, default=100, help="evaluations per run (default 100)")
    nb201.add_argument("--runs", type=int, default=100, help="independent runs per algorithm (default 100)")
    nb201.add_argument("--protocol", default=None, choices=("mean", "sample", "valid12"),
                       help="mean: <dataset>_valid_200 mean over seeds; sample: one seed per evaluation; "
                            "valid12: the 12-epoch fidelity (overrides --search-metric/--seed-mode)")
    nb201.add_argument("--dataset", default="cifar10", help="dataset of --protocol (default cifar10)")
    nb201.add_argument("--search-metric", default="cifar10_valid_200",
                       help="table column searched on (default cifar10_valid_200)")
    nb201.add_argument("--seed-mode", default="mean", choices=("mean", "sample"),
                       help="mean over the benchmark's seeds, or one seed drawn per evaluation")
    nb201.add_argument("--seed", type=int, default=0)
    nb201.add_argument("--workers", type=int, default=1, help="processes running searches in parallel")
    nb201.add_argument("--ops", default=None, help="comma-separated allowed ops (op masking; at least two)")
    nb201.add_argument("--n-nbr", type=int, default=None, help="neighbors per proposal for na-* (default 3)")
    nb201.add_argument("--criterion", default=None, help="na-* criterion: mean, median, max, std")
    nb201.add_argument("--kernels", type=int, default=None, help="learned kernels per BO step (default 8)")
    nb201.add_argument("--out", default=None, help="folder for summary.json, curves.png/.svg, runs.jsonl")
    add_json_flag(nb201)
    nb201.set_defaults(handler=run_nb201, path_options={"out": "dir"},
                       option_limits={"budget": (1, 15_625)})  # no search needs more than every cell


def _register_grid(group: Any) -> None:
    grid = group.add_parser(
        "nb201-grid",
        help="NAS-Bench-201: algorithms x protocols x budgets x datasets, resumable",
        description="Run the comparison in every cell protocol/dataset/budget; our best vs the best peer per cell.",
    )
    grid.add_argument("--algorithms", default="rs,re,ls,iso-bo,na-rs,tpe,hyperopt-tpe")
    grid.add_argument("--protocols", default="mean,sample,valid12")
    grid.add_argument("--budgets", default="50,100,300")
    grid.add_argument("--datasets", default="cifar10,cifar100,imagenet16")
    grid.add_argument("--runs", type=int, default=100)
    grid.add_argument("--runs-for", default=None, help="per-algorithm run counts, e.g. optuna-gp=30,smac-hpo=5")
    grid.add_argument("--cells-for", default=None,
                      help="restrict algorithms to cells, e.g. optuna-gp=mean/cifar10/100+sample/cifar10/100")
    grid.add_argument("--seed", type=int, default=0)
    grid.add_argument("--ops", default=None, help="comma-separated allowed ops (op masking; at least two)")
    grid.add_argument("--workers", type=int, default=1)
    grid.add_argument("--out", default=None)
    grid.add_argument("--only-finished", action="store_true",
                      help="run nothing: summarize the runs already in --out (an interrupted grid)")
    add_json_flag(grid)
    grid.set_defaults(handler=run_grid_command, path_options={"out": "dir"})


def _register_na(group: Any) -> None:
    na = group.add_parser(
        "nb201-na",
        help="neighborhood-aware search as the thesis runs it (T centers x n_nbr evaluations vs the plain search)",
        description="na-X against X with centers x n_nbr evaluations each, per signal and criterion.",
    )
    na.add_argument("--inner", default="rs", help="comma-separated inner strategies X (default rs)")
    na.add_argument("--signals", default="valid_200,sample,valid12")
    na.add_argument("--criteria", default="median,mean")
    na.add_argument("--centers", type=int, default=100)
    na.add_argument("--n-nbr", type=int, default=10, help="cells per neighborhood, center included (default 10)")
    na.add_argument("--distance", type=int, default=1)
    na.add_argument("--runs", type=int, default=100)
    na.add_argument("--dataset", default="cifar10")
    na.add_argument("--seed", type=int, default=0)
    na.add_argument("--workers", type=int, default=1)
    na.add_argument("--out", default=None)
    na.add_argument("--only-finished", action="store_true",
                    help="run nothing: report the runs already in --out (an interrupted harness)")
    add_json_flag(na)
    na.set_defaults(handler=run_na_command, path_options={"out": "dir"})


def _quiet_optuna() -> None:
    """Optuna logs every trial at INFO; the progress bar says enough (workers mirror this)."""
    try:
        import optuna
    except ImportError:
        return
    optuna.logging.set_verbosity(optuna.logging.WARNING)


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


def _key_values(text: str | None, option: str) -> dict[str, str]:
    """``a=x,b=y`` -> {a: x, b: y}; a clear UsageError for a malformed item."""
    if not text:
        return {}
    out = {}
    for item in parse_list(text, option):
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise UsageError(f"{option}: expected NAME=VALUE items, got {item!r}")
        out[name.strip()] = value.strip()
    return out


def run_nb201(args: argparse.Namespace) -> int:
    from archspace.experiments.nb201_search import (
        SUMMARY_COLUMNS,
        BenchConfig,
        protocol_metric,
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
    metric, seed_mode = args.search_metric, args.seed_mode
    if args.protocol is not None:
        from archspace.bench.nb201 import canonical_dataset

        metric, seed_mode = protocol_metric(args.protocol, canonical_dataset(args.dataset))
    config = BenchConfig(
        algorithms=tuple(algorithms), budget=args.budget, runs=args.runs,
        search_metric=metric, seed=args.seed, seed_mode=seed_mode, ops=ops,
        options=_options(args, algorithms),
    ).checked()
    _quiet_optuna()
    records = run_comparison(config, workers=args.workers, out=args.out, progress=not args.json)
    summary = summarize(records, config)
    if args.out is not None:
        summary["files"] = [str(p) for p in write_report(summary, args.out)]
    if args.json:
        print_json(summary)
        return 0
    print_table(SUMMARY_COLUMNS, summary_rows(summary),
                title=f"NAS-Bench-201, {config.budget} evaluations on {config.search_metric} ({config.seed_mode}), "
                      f"final selected cell (mean ± 95% CI over {config.runs} runs)")
    comparisons = summary["comparisons"]
    if comparisons.get("against"):
        leader = comparisons["best_algorithm"]
        parts = [f"{name}: {c['difference']:+.2f} (p={c['p_value']:.2g})"
                 for name, c in comparisons["against"].items()]
        print(f"best on {summary['headline_metric']}: {leader}; difference vs " + ", ".join(parts))
    versus = summary["ours_vs_peers"]
    if versus:
        print(f"our best {versus['our_best']} vs best peer {versus['best_peer']}: {versus['difference']:+.3f} "
              f"(Welch p={versus['p_value']:.2g}): {versus['verdict']}")
    print(f"best cell: CIFAR-10 {summary['best_cell']['cifar10_test_200']:.2f}, "
          f"CIFAR-100 {summary['best_cell']['cifar100_test_200']:.2f}, "
          f"ImageNet16-120 {summary['best_cell']['imagenet16_test_200']:.2f}")
    return 0


def run_grid_command(args: argparse.Namespace) -> int:
    from archspace.experiments.nb201_grid import GridConfig, grid_rows, run_grid
    from archspace.parsing import parse_list as plain_list

    runs_for = {}
    for name, value in _key_values(args.runs_for, "--runs-for").items():
        if not value.isdigit():
            raise UsageError(f"--runs-for: {name}={value!r} is not a positive integer")
        runs_for[name] = int(value)
    cells_for = {name: tuple(v for v in value.split("+") if v)
                 for name, value in _key_values(args.cells_for, "--cells-for").items()}
    budgets = []
    for text in plain_list(args.budgets, "budget"):
        if not text.isdigit():
            raise UsageError(f"--budgets: {text!r} is not a positive integer")
        budgets.append(int(text))
    config = GridConfig(
        algorithms=tuple(plain_list(args.algorithms, "search algorithm")),
        protocols=tuple(plain_list(args.protocols, "protocol")), budgets=tuple(budgets),
        datasets=tuple(plain_list(args.datasets, "dataset")), runs=args.runs, seed=args.seed,
        ops=tuple(parse_list(args.ops, "--ops operation")) if args.ops else None,
        runs_for=runs_for, cells_for=cells_for,
    ).checked()
    _quiet_optuna()
    grid = run_grid(config, workers=args.workers, out=args.out, progress=not args.json,
                    only_finished=args.only_finished)
    if args.json:
        print_json(grid)
        return 0
    columns, rows = grid_rows(grid)
    print_table(columns, rows, title="NAS-Bench-201 grid: headline test accuracy of the selected cell "
                                     "(mean over runs; n= runs when not the default)")
    print(f"wall {grid['seconds']['wall']:.0f} s, CPU {grid['seconds']['cpu']:.0f} s")
    totals = grid["cost"]["full_grid_cpu"]
    if totals["ours"] is not None:
        peers = f", with the peers {totals['ours'] + totals['peers']:.0f} s" if totals["peers"] is not None else ""
        print(f"the full configuration at the measured CPU per run: ours {totals['ours']:.0f} s{peers}")
    return 0


def run_na_command(args: argparse.Namespace) -> int:
    from archspace.experiments.nb201_na import NAConfig, run_na
    from archspace.parsing import parse_list as plain_list

    config = NAConfig(
        inner=tuple(plain_list(args.inner, "search algorithm")), signals=tuple(plain_list(args.signals, "signal")),
        criteria=tuple(plain_list(args.criteria, "criterion")), centers=args.centers, n_nbr=args.n_nbr,
        distance=args.distance, runs=args.runs, seed=args.seed, dataset=args.dataset,
    ).checked()
    _quiet_optuna()
    result = run_na(config, workers=args.workers, out=args.out, progress=not args.json,
                    only_finished=args.only_finished)
    if args.json:
        print_json(result)
        return 0
    rows = [[r["signal"], r["criterion"], f"na-{r['inner']} vs {r['inner']}", r["evaluations"],
             f"{r['na']['mean']:.2f} ± {r['na']['ci95']:.2f}", f"{r['plain']['mean']:.2f} ± {r['plain']['ci95']:.2f}",
             f"{r['difference']:+.3f}", f"{r['p_value']:.2g}"] for r in result["rows"]]
    print_table(["signal", "criterion", "comparison", "evaluations", "NA", "plain", "NA - plain", "Welch p"], rows,
                title=f"Neighborhood-aware search: {config.centers} centers x {config.n_nbr} cells "
                      f"(distance {config.distance}) vs the same evaluations, {config.runs} runs")
    return 0
