"""``archspace design-study``: compare AnyNetX_A..E and RegNetX populations trained on Fashion-MNIST.

    archspace design-study                                  # 6 spaces x 32 models, ~12 min on 2 idle cores (estimate)
    archspace design-study --n 20 --epochs 3 --workers 4 --out report/
    archspace design-study --config study.yaml --n 50       # YAML fields, overridden by flags

Rerunning the same command resumes every study and rewrites the report.
"""

from __future__ import annotations

import argparse
from typing import Any

from archspace.cli.common import (
    add_json_flag,
    check_output_dir,
    print_json,
    print_table,
    read_text_file,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "design-study",
        help="sample, train and compare design spaces (AnyNetX_A..E, RegNetX) and write the report",
        description="Run the design-space study of 'Designing Network Design Spaces' at CPU scale: n models "
        "per space in one flop regime, a short recipe, one study per space in --db, then the report in --out.",
    )
    parser.add_argument("--config", metavar="FILE", help="YAML file with any of the fields below")
    parser.add_argument("--n", type=int, help="models per design space (default 32)")
    parser.add_argument("--regime", "--flops", dest="flops", metavar="LO:HI",
                        help="flops regime per image, e.g. 1M:4M (default)")
    parser.add_argument("--spaces", metavar="A,B,...", help="design spaces in order (default anynetx_a..e,regnetx; NSS network spaces as nss:<space-id>)")
    parser.add_argument("--epochs", type=int, help="training epochs per model (default 1)")
    parser.add_argument("--subset", type=int, help="training images per model (default 6000)")
    parser.add_argument("--val-size", type=int, help="held-out validation images (default 2000)")
    parser.add_argument("--batch-size", type=int, help="batch size (default 64)")
    parser.add_argument("--lr", type=float, help="learning rate (default 0.1)")
    parser.add_argument("--dataset", help="dataset name (default fashion-mnist)")
    parser.add_argument("--data-dir", help="folder holding the dataset files")
    parser.add_argument("--workers", type=int, help="worker processes; 0 trains in this process (default 2)")
    parser.add_argument("--db", help="study database (default design_study.db)")
    parser.add_argument("--out", help="report folder (default design_study_report)")
    parser.add_argument("--prefix", help="prefix of the study names (default none: studies are named by space)")
    parser.add_argument("--stem", help="stem given to every model (default res_stem_cifar, stride 1)")
    parser.add_argument("--stem-width", type=int, help="stem width (default 16)")
    parser.add_argument("--seed", type=int, help="sampling / training seed (default 0)")
    parser.add_argument("--device", help="cpu (default), cuda or auto")
    parser.add_argument("--reps", type=int, help="bootstrap repetitions of the report (default 10000)")
    parser.add_argument("--no-progress", action="store_true", help="no live progress bars")
    parser.add_argument("--dry-run", action="store_true", help="print the resolved config and exit")
    add_json_flag(parser)
    parser.set_defaults(handler=run, option_limits={"workers": (0, 1024)})  # 0 = train in this process


def resolve_config(args: argparse.Namespace) -> Any:
    """YAML (if given), then the flags that were given, into one validated config."""
    from archspace.experiments.design_study import (
        DesignStudyConfig,
        field_names,
        parse_flops,
        parse_spaces,
    )

    if args.config:
        read_text_file(args.config, "--config")  # missing, non-UTF-8 or empty: one line, before work
    config = DesignStudyConfig.load(args.config) if args.config else DesignStudyConfig()
    changes: dict[str, Any] = {}
    for name in field_names():
        value = getattr(args, name, None)
        if value is None:
            continue
        if name == "flops":
            value = parse_flops(value)
        elif name == "spaces":
            value = parse_spaces(value)
        changes[name] = value
    return config.replace(**changes) if changes else config


def run(args: argparse.Namespace) -> int:
    from archspace.experiments.design_study import (
        design_study_command,
        run_design_study,
        small_input_space,
    )

    config = resolve_config(args)
    check_output_dir(config.out, "--out")
    for name in config.spaces:  # unknown or non-AnyNet/NSS spaces fail here, in a dry run too
        small_input_space(name, config)
    if args.dry_run:
        if args.json:
            print_json(config.to_dict())
        else:
            print(config.to_yaml(), end="")
            print(f"# reproduce with: {design_study_command(config)}")
        return 0
    outcome = run_design_study(config, progress=not (args.no_progress or args.json))
    if args.json:
        print_json({"studies": outcome.studies, "seconds": outcome.seconds, "html": str(outcome.report_html),
                    "summary": str(outcome.summary_json), "design_space_summary": outcome.summary_table})
        return 0
    rows = [[r["group"], r["models"], r["min_error"], r["median_error"], r["mean_error"]] for r in outcome.summary_table]
    print_table(["space", "models", "min error", "median error", "mean error"], rows, title="design-space summary")
    print(f"report: {outcome.report_html} (numbers in {outcome.summary_json}; trials in {config.db})")
    return 0

