"""``archspace analyze``: a design-space report (HTML + summary.json + figures) from studies or CSV.

    archspace analyze anynetx_a anynetx_b --db runs/design.db --out report/
    archspace analyze --csv results.csv --csv bench.csv --join-on model --key-before . --out report/
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from archspace.cli.common import (
    add_db_option,
    add_json_flag,
    check_output_dir,
    make_output_dir,
    parse_list,
    print_json,
    read_text_file,
)
from archspace.errors import UsageError

# The cost columns a --<cost>-column flag can name (archspace.analysis.table.COST_COLUMNS).
COST_FLAGS: tuple[str, ...] = ("flops", "params", "acts", "time", "latency_ms", "throughput")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="compare populations of models: EDFs, bootstrap trends, Pareto fronts (HTML report)",
        description="Analyze one or more studies (--db) or a CSV table of models (--csv) and write "
        "report.html (figures embedded), summary.json (every number) and figures/ (PNG + SVG).",
    )
    parser.add_argument("studies", nargs="*", metavar="STUDY", help="study names in --db (one population each)")
    source = parser.add_mutually_exclusive_group(required=True)
    add_db_option(source)
    source.add_argument("--csv", metavar="FILE", action="append", help="CSV of models; repeat to join several files")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder")
    columns = parser.add_argument_group("CSV columns (detected by name when not given)")
    columns.add_argument("--error-column", help="column with the error to minimize (e.g. top1_err)")
    columns.add_argument("--accuracy-column", help="column with accuracy; error = 100 - accuracy (or 1 - accuracy)")
    columns.add_argument("--group-column", help="column naming each model's population")
    columns.add_argument("--name-column", help="column naming each model")
    for cost in COST_FLAGS:
        columns.add_argument(f"--{cost.replace('_', '-')}-column", metavar="COLUMN", help=f"column holding {cost}")
    columns.add_argument("--join-on", metavar="COLUMN", help="join several --csv files on this column")
    columns.add_argument("--key-before", metavar="TEXT",
                         help="cut join keys at the first TEXT (timm: --key-before . joins resnet50.a1_in1k to resnet50)")
    analysis = parser.add_argument_group("analysis")
    analysis.add_argument("--statistics", metavar="A,B,...",
                          help="statistics to bootstrap (default: depth, w_last, b, g, e_fit, flops, params, acts when present)")
    analysis.add_argument("--reps", type=int, default=10_000, help="bootstrap repetitions (default 10000)")
    analysis.add_argument("--fraction", type=float, default=0.25, help="fraction of models per bootstrap draw (default 0.25)")
    analysis.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    analysis.add_argument("--bins", type=int, default=10, help="flops bins of the normalized EDF (default 10)")
    analysis.add_argument("--cost-bins", type=int, default=5, help="cost bins of the equal-cost table (default 5)")
    analysis.add_argument("--title", default=None, help="report title")
    add_json_flag(parser)
    parser.set_defaults(handler=run, path_options={"out": "dir"})


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    check_output_dir(args.out, "--out")
    for path in args.csv or ():
        read_text_file(path, "--csv")
    from archspace.report.build import ReportConfig
    from archspace.report.html import write_report

    table, space_summaries, source = load_table(args)
    config = ReportConfig(
        title=args.title or f"archspace analysis of {source}",
        statistics=_split(args.statistics),
        reps=args.reps,
        fraction=args.fraction,
        seed=args.seed,
        edf_bins=args.bins,
        cost_bins=args.cost_bins,
        space_summaries=space_summaries,
        notes={"source": source},
    )
    paths = write_report(table, make_output_dir(args.out), config)
    seconds = time.perf_counter() - started
    if args.json:
        print_json({"html": str(paths.html), "summary": str(paths.summary), "models": len(table), "seconds": seconds})
    else:
        print(f"analyzed {len(table)} models in {seconds:.1f} s: {paths.html} (numbers in {paths.summary})")
    return 0


def load_table(args: argparse.Namespace) -> tuple[Any, dict[str, dict[str, Any]], str]:
    """The trial table, space summaries per group, and a one-line description of the source."""
    from archspace.analysis.table import ColumnMap, load_csv, load_studies

    costs = {c: getattr(args, f"{c}_column") for c in COST_FLAGS if getattr(args, f"{c}_column")}
    columns = ColumnMap(args.error_column, args.accuracy_column, args.group_column, args.name_column, costs)
    if args.csv:
        if args.studies:
            raise UsageError("STUDY names go with --db; with --csv use --group-column to split populations")
        table = load_csv(args.csv, columns, join_on=args.join_on, key_before=args.key_before)
        return table, {}, ", ".join(args.csv)
    if not args.studies:
        raise UsageError("name at least one STUDY in --db (archspace study list shows them)")
    table = load_studies(args.studies, args.db, columns)
    return table, study_space_summaries(args.studies, args.db), f"{args.db}: {', '.join(args.studies)}"


def study_space_summaries(names: list[str], db: str) -> dict[str, dict[str, Any]]:
    """Space summary (dimension, size) of each study whose config names a registered space."""
    from archspace.study.study import Study

    summaries = {}
    for name in names:
        space_name = Study.load(name, db).config.get("space")
        if not space_name:
            continue
        from archspace.spaces.registry import get_space

        summaries[name] = get_space(space_name).summary()
    return summaries


def _split(text: str | None) -> list[str] | None:
    """The ``--statistics`` column names (None = the report's defaults)."""
    return None if text is None else list(parse_list(text, "--statistics column"))
