"""``archspace scale``: scale a base model by depth / width / resolution / pre-head / compound rules
to equal cost multipliers, train every variant as one Study, and report which rule wins.

    archspace scale resnet8_fmnist --rules depth,width,resolution,prehead,compound --cost flops \\
        --multipliers 2,4 --dataset fashion-mnist --seeds 2 --db scaling.db --out scaling/
    archspace scale resnet8_fmnist --multipliers 2,4,8 --plan-only --json     # variants only, no training
"""

from __future__ import annotations

import argparse
import time

from archspace.cli.common import add_db_option, add_json_flag, parse_list, print_json
from archspace.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "scale",
        help="scale a model by depth/width/resolution/pre-head/compound rules at equal cost and compare",
        description="Solve each scaling rule for each cost multiplier (the discrete setting nearest the "
        "target, achieved cost reported), train all variants as one resumable Study, and write "
        "report.html, summary.json and figures/ (error vs cost per rule, best rule per budget).",
    )
    parser.add_argument("base", metavar="BASE", help="zoo model name, JSON spec, or path of a JSON spec file")
    parser.add_argument("--rules", default="depth,width,resolution,prehead,compound",
                        help="comma-separated rules (default: all five)")
    parser.add_argument("--cost", default="flops", choices=("flops", "params", "latency"),
                        help="cost whose multipliers the variants hit (default flops)")
    parser.add_argument("--multipliers", default="2,4", help="cost multipliers of the base, e.g. 2,4,8 (default 2,4)")
    parser.add_argument("--prehead", default="stride,upsample",
                        help="how the prehead rule raises the pre-head resolution: stride (remove strides, "
                             "the thesis's A1), upsample (upsample a stage's input, A0+Upsample) or both "
                             "(default stride,upsample)")
    parser.add_argument("--upsample-mode", default="nearest", choices=("nearest", "bilinear"),
                        help="interpolation of the prehead rule's upsampling (default nearest)")
    parser.add_argument("--dataset", default="fashion-mnist", help="dataset name (default fashion-mnist)")
    parser.add_argument("--data-dir", default=None, help="where the dataset's files are")
    parser.add_argument("--resolution", type=int, default=None,
                        help="input resolution of the base (default: the dataset's; images are resized)")
    train = parser.add_argument_group("training (one recipe for every variant)")
    train.add_argument("--epochs", type=int, default=1)
    train.add_argument("--subset", type=int, default=4000, help="training images per model (default 4000)")
    train.add_argument("--val-size", type=int, default=2000, help="held-out validation images (default 2000)")
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=0.1)
    train.add_argument("--seeds", type=int, default=2, help="trials (seeds) per variant (default 2)")
    train.add_argument("--seed", type=int, default=0, help="study seed (default 0)")
    train.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    train.add_argument("--workers", type=int, default=None, help="worker processes (default: train in this process)")
    train.add_argument("--ray", action="store_true", help="train on Ray instead of local processes")
    measure = parser.add_argument_group("measured cost")
    measure.add_argument("--no-measure", action="store_true", help="do not measure latency/throughput/memory")
    measure.add_argument("--latency-batch-sizes", default="1,32", help="latency batch, throughput batch (default 1,32)")
    measure.add_argument("--latency-seconds", type=float, default=10.0,
                         help="time budget of one model's measurement (default 10 s)")
    measure.add_argument("--latency-threads", type=int, default=1, help="torch threads while timing on CPU (default 1)")
    measure.add_argument("--latency-clock", default="wall", choices=("wall", "cpu"),
                         help="solve --cost latency on wall-clock time (default) or process CPU time "
                              "(steadier on a shared CPU)")
    compare = parser.add_argument_group("comparison against another population (at equal flops)")
    compare.add_argument("--compare-csv", action="append", default=[], metavar="FILE",
                         help="CSV of models (repeat to join timm-style files on model)")
    compare.add_argument("--compare-db", metavar="FILE", help="database holding --compare-study studies")
    compare.add_argument("--compare-study", action="append", default=[], metavar="NAME")
    compare.add_argument("--compare-flops-unit", default="1", choices=("1", "K", "M", "G"),
                         help="unit of the CSV's flops column (G for timm's infer_gmacs; default 1)")
    compare.add_argument("--population", metavar="SPACE[:N]",
                         help="also train N (default 10) models of design space SPACE inside the variants' flops "
                              "range with the same recipe, and compare against them (e.g. regnetx:12)")
    add_db_option(parser, help_what="scaling study database")
    parser.add_argument("--study", default="scaling", help="study name (default scaling)")
    parser.add_argument("--out", default="scaling_report", metavar="DIR", help="report folder")
    parser.add_argument("--reps", type=int, default=2000, help="bootstrap draws over seeds (default 2000)")
    parser.add_argument("--plan-only", action="store_true", help="print the solved variants; train nothing")
    add_json_flag(parser)
    parser.set_defaults(handler=run)


def _numbers(text: str, what: str, kind: type) -> tuple:
    values = []
    for item in parse_list(text, what):
        try:
            values.append(kind(item))
        except ValueError:
            raise UsageError(f"{what} must be numbers, got {item!r}") from None
    return tuple(values)


def _population(text: str | None) -> tuple[str | None, int]:
    """``SPACE[:N]`` -> (space, n); n defaults to 10."""
    if not text:
        return None, 10
    space, _, count = text.partition(":")
    if not space:
        raise UsageError(f"--population takes SPACE[:N], got {text!r}")
    try:
        return space, int(count) if count else 10
    except ValueError:
        raise UsageError(f"--population takes SPACE[:N] with an integer N, got {text!r}") from None


def config_from_args(args: argparse.Namespace):  # noqa: ANN201 - ScalingConfig, imported lazily
    from archspace.experiments.scaling import ScalingConfig

    population, population_n = _population(args.population)
    return ScalingConfig(
        base=args.base, rules=tuple(parse_list(args.rules, "--rules")), cost=args.cost,
        multipliers=_numbers(args.multipliers, "--multipliers", float), dataset=args.dataset,
        data_dir=args.data_dir, resolution=args.resolution, epochs=args.epochs, subset=args.subset,
        val_size=args.val_size, batch_size=args.batch_size, lr=args.lr, seeds=args.seeds, seed=args.seed,
        device=args.device, measure=not args.no_measure,
        latency_batch_sizes=_numbers(args.latency_batch_sizes, "--latency-batch-sizes", int),
        latency_seconds=args.latency_seconds, latency_threads=args.latency_threads,
        latency_clock=args.latency_clock, workers=args.workers or 0,
        prehead_strategies=tuple(parse_list(args.prehead, "--prehead")), upsample_mode=args.upsample_mode,
        use_ray=args.ray, db=args.db, study=args.study, out=args.out, reps=args.reps,
        compare_csv=tuple(args.compare_csv), compare_db=args.compare_db, compare_studies=tuple(args.compare_study),
        compare_flops_unit=args.compare_flops_unit, population=population, population_n=population_n,
    )


def run(args: argparse.Namespace) -> int:
    from archspace.experiments.scaling import make_plan, run_scaling

    config = config_from_args(args)
    if args.plan_only:
        plan = make_plan(config)
        if args.json:
            print_json(plan.to_dict())
        else:
            for variant in [plan.base, *plan.variants]:
                print(f"{variant.name:16s} {plan.cost_kind} x{variant.ratio:7.3f}  flops {variant.cost['flops']:.4g}  "
                      f"params {variant.cost['params']:.4g}  {variant.knobs}")
        return 0
    started = time.perf_counter()
    outcome = run_scaling(config, progress=not args.json)
    seconds = time.perf_counter() - started
    if args.json:
        print_json({"html": str(outcome.report_html), "summary": str(outcome.summary_json),
                    "variants": len(outcome.plan.unique_archs()), "seconds": seconds,
                    "verdict": outcome.summary.get("verdict"),
                    "best_rule_per_budget": outcome.summary.get("best_rule_per_budget")})
    else:
        print(f"scaled {config.base}: {len(outcome.plan.unique_archs())} variants x {config.seeds} seeds in "
              f"{seconds:.0f} s: {outcome.report_html}")
        print(outcome.summary.get("verdict", ""))
    return 0
