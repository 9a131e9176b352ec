"""``archspace study``: run, resume, inspect and export persistent studies.

    archspace study run NAME --space regnetx --flops LO:HI --n 100 --dataset fashion-mnist
        [--epochs E] [--subset N] [--evaluator train|nb201|complexity]
        [--workers [N] | --ray [ADDRESS]] [--db FILE]
    archspace study list | show NAME | export NAME [--format csv|parquet|jsonl] | retry-failed NAME

Running the same ``study run`` again resumes (options left out are taken from the stored study;
options given must match it, except ``--n``, which may grow the population, and the execution
options). The study is a population study: n distinct models sampled from the space within the
regime; the policies (resume, small-input stem, input sizes) live in
``archspace.experiments.population``, this module only parses and prints. Ctrl-C stops
gracefully; rerun to continue.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from archspace.cli.common import (
    DEFAULT_DB,
    add_db_option,
    add_json_flag,
    check_output_file,
    parse_range,
    print_json,
    print_table,
)
from archspace.errors import UsageError

__all__ = ["DEFAULT_DB", "register"]
EVALUATORS = ("train", "nb201", "complexity")  # = archspace.experiments.population.EVALUATOR_KINDS
# The flags of `study run` that set a PopulationStudyConfig field of the same name.
CONFIG_FLAGS = ("space", "n", "flops", "params", "acts", "dataset", "evaluator", "epochs", "subset", "seed",
                "resolution", "device", "data_dir", "stem", "stem_width", "threads")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("study", help="persistent, resumable studies (populations of trained models)")
    commands = parser.add_subparsers(dest="study_command", metavar="SUBCOMMAND")
    commands.required = True

    run = commands.add_parser("run", help="run or resume a population study")
    run.add_argument("name")
    run.add_argument("--space", help="design space (e.g. regnetx, anynetx_e, nb201)")
    for bound in ("flops", "params", "acts"):
        run.add_argument(f"--{bound}", metavar="LO:HI", help=f"{bound} regime, e.g. 360M:400M")
    run.add_argument("--n", type=int, help="number of models (trials) in the study")
    run.add_argument("--dataset", help="dataset to train on (default fashion-mnist)")
    run.add_argument("--evaluator", choices=EVALUATORS,
                     help="train (default), nb201 (table lookup) or complexity (analytic cost only)")
    run.add_argument("--epochs", type=int, help="training epochs per model")
    run.add_argument("--subset", type=int, help="train on this many training examples")
    run.add_argument("--seed", type=int, help="study seed (sampling and per-trial seeds; default 0)")
    run.add_argument("--resolution", type=int, help="input resolution of the regime (default: the dataset's)")
    run.add_argument("--stem", help="AnyNet/RegNet stem (default: res_stem_cifar below 64x64 inputs, "
                                    "else the space's own simple_stem_in)")
    run.add_argument("--stem-width", dest="stem_width", type=int, help="stem width (default 16 / 32)")
    run.add_argument("--device", help="cpu (default), cuda or auto")
    run.add_argument("--data-dir", dest="data_dir", help="directory holding the dataset files")
    run.add_argument("--threads", type=int, help="torch threads per training (default 1; stored with the "
                                                 "study, since the thread count changes CPU rounding)")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, nargs="?", const=os.cpu_count() or 1,
                       help="local worker processes (default when given without N: all cores)")
    where.add_argument("--ray", nargs="?", const="", metavar="ADDRESS",
                       help="run on Ray: an existing cluster ADDRESS, or a local Ray when omitted")
    run.add_argument("--no-progress", action="store_true", help="no live progress bar")
    _add_db(run)
    add_json_flag(run)
    run.set_defaults(handler=run_study)

    listing = commands.add_parser("list", help="studies in a database")
    _add_db(listing)
    add_json_flag(listing)
    listing.set_defaults(handler=list_studies)

    show = commands.add_parser("show", help="a study's counts, best trials, failures")
    show.add_argument("name")
    show.add_argument("--top", type=int, default=10, help="best trials to list (default 10)")
    _add_db(show)
    add_json_flag(show)
    show.set_defaults(handler=show_study)

    export = commands.add_parser("export", help="write a study's trial table")
    export.add_argument("name")
    export.add_argument("--format", choices=("csv", "parquet", "jsonl"), default="csv")
    export.add_argument("--out", help="output file (default NAME.FORMAT; '-' = stdout for csv/jsonl)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    _add_db(export)
    export.set_defaults(handler=export_study)

    retry = commands.add_parser("retry-failed", help="re-queue failed trials (rerun `study run` to evaluate)")
    retry.add_argument("name")
    _add_db(retry)
    retry.set_defaults(handler=retry_failed)


def _add_db(parser: argparse.ArgumentParser) -> None:
    add_db_option(parser)


# --- run -----------------------------------------------------------------------------------------
def run_study(args: argparse.Namespace) -> int:
    """Parse the options into a population-study config, run it, print the summary."""
    from archspace.experiments.population import PopulationStudyConfig, run_population_study
    from archspace.study import make_executor

    config = PopulationStudyConfig(args.name, **{key: _flag_value(args, key) for key in CONFIG_FLAGS})
    executor = make_executor(workers=args.workers, use_ray=args.ray is not None, ray_address=args.ray or None)
    summary = run_population_study(config, args.db, executor=executor,
                                   progress=not (args.no_progress or args.json))
    if args.json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)
    return _all_failed_status(args, summary)


def _all_failed_status(args: argparse.Namespace, summary: Any) -> int:
    """1 with the reason on stderr when trials finished but none completed, else 0."""
    counts = summary.counts
    if summary.finished == 0 or counts["complete"] > 0:
        return 0
    failed = [t for t in _load(args).trials(("failed", "diverged")) if t.error] or [None]
    reason = "-" if failed[0] is None else _last_line(failed[-1].error)
    print(f"archspace: error: no trial of study {args.name} completed ({counts['failed']} failed, "
          f"{counts['diverged']} diverged); last error: {reason}", file=sys.stderr)
    return 1


def _flag_value(args: argparse.Namespace, key: str) -> Any:
    """The option's value (None when left out); regime bounds parsed from LO:HI."""
    value = getattr(args, key)
    if key in ("flops", "params", "acts") and value is not None:
        return parse_range(value, f"--{key}")
    return value


def _print_summary(summary: Any) -> None:
    counts = summary.counts
    best = "-" if summary.best_objective is None else f"{summary.best_objective:.4g} (trial {summary.best_number})"
    print(f"study {summary.name}: {summary.finished}/{summary.n_trials} finished "
          f"({counts['complete']} complete, {counts['failed']} failed, {counts['diverged']} diverged); best {best}")


# --- list / show / export / retry ----------------------------------------------------------------
def _load(args: argparse.Namespace) -> Any:
    from archspace.study import Study

    return Study.load(args.name, args.db)


def list_studies(args: argparse.Namespace) -> int:
    from archspace.study import Study

    summaries = Study.list(args.db)
    if args.json:
        print_json([s.to_dict() for s in summaries])
        return 0
    rows = [[s.name, s.n_trials or 0, s.counts["complete"], s.counts["failed"], s.counts["diverged"],
             s.counts["waiting"] + s.counts["running"] + s.counts["interrupted"],
             "-" if s.best_objective is None else s.best_objective] for s in summaries]
    print_table(["study", "n", "complete", "failed", "diverged", "pending", "best"], rows, title=str(args.db))
    return 0


def show_study(args: argparse.Namespace) -> int:
    study = _load(args)
    summary = study.summary()
    frame = study.trials_dataframe()
    done = frame[frame["state"] == "complete"].sort_values(["objective", "number"]).head(max(args.top, 0))
    problems = frame[frame["state"].isin(["failed", "diverged"])]
    if args.json:
        print_json({**summary.to_dict(), "config": study.config,
                    "top": done[["number", "objective", "arch_json"]].to_dict("records"),
                    "problems": problems[["number", "state", "error"]].to_dict("records")})
        return 0
    _print_summary(summary)
    extra = [c for c in ("flops", "params", "test_error") if c in frame.columns]
    print_table(["trial", "objective", *extra, "arch"],
                [[int(r["number"]), r["objective"], *[r[c] for c in extra], r["arch_hash"]]
                 for _, r in done.iterrows()], title=f"best {len(done)} trials")
    if len(problems):
        print_table(["trial", "state", "reason"],
                    [[int(r["number"]), r["state"], _last_line(r["error"])] for _, r in problems.iterrows()],
                    title="failed and diverged trials")
    return 0


def _last_line(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        return "-"
    return text.strip().splitlines()[-1][:120]


def export_study(args: argparse.Namespace) -> int:
    out = args.out or f"{args.name}.{args.format}"
    if args.format == "parquet" and out == "-":
        raise UsageError("--format parquet needs a file (--out FILE), not stdout")
    if out != "-" and check_output_file(out, "--out").exists() and not args.overwrite:
        raise UsageError(f"--out {out} exists; pass --overwrite to replace it")
    frame = _load(args).trials_dataframe()
    if args.format == "parquet":
        try:
            frame.to_parquet(out, index=False)
        except ImportError:
            raise UsageError("parquet export needs pyarrow: pip install 'archspace[parquet]'") from None
    elif args.format == "jsonl":
        frame.to_json(sys.stdout if out == "-" else out, orient="records", lines=True)
    else:
        frame.to_csv(sys.stdout if out == "-" else out, index=False)
    if out != "-":
        print(f"wrote {len(frame)} trials to {out}", file=sys.stderr)
    return 0


def retry_failed(args: argparse.Namespace) -> int:
    numbers = _load(args).retry_failed()
    print(f"re-queued {len(numbers)} failed trials of {args.name}; rerun `archspace study run {args.name}` "
          "to evaluate them")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m archspace.cli.study_cmd ...`` = ``archspace study ...`` (this command alone)."""
    from archspace.cli import _Parser
    from archspace.cli.common import run_handler

    parser = _Parser(prog="archspace")
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser)
    subparsers.required = True
    register(subparsers)
    return run_handler(parser.parse_args(["study", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
