"""``archspace study``: run, resume, inspect and export persistent studies.

    archspace study run NAME --space regnetx --flops LO:HI --n 100 --dataset fashion-mnist
        [--epochs E] [--subset N] [--evaluator train|nb201|complexity]
        [--workers [N] | --ray [ADDRESS]] [--db FILE]
    archspace study list | show NAME | export NAME [--format csv|parquet|jsonl] | retry-failed NAME

Running the same ``study run`` again resumes (options left out are taken from the stored study;
options given must match it, except ``--n``, which may grow the population, and the execution
options). The study is a population study: n distinct models sampled from the space within the
regime (``archspace.search.population``). Ctrl-C stops gracefully; rerun to continue.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from archspace.cli.common import add_json_flag, parse_range, print_json, print_table
from archspace.errors import InvalidArchitecture, UsageError

DEFAULT_DB = "studies.db"
EVALUATORS = ("train", "nb201", "complexity")
# Input (resolution, channels, classes) per dataset, for costing models without loading data.
DATASET_INPUTS = {
    "fashion-mnist": (28, 1, 10), "mnist": (28, 1, 10), "cifar10": (32, 3, 10),
    "cifar100": (32, 3, 100), "digits": (8, 1, 10), "imagenet": (224, 3, 1000),
    "imagenet16": (16, 3, 120),
}
# Options that define a study (must match on resume); n may grow.
STUDY_KEYS = ("space", "flops", "params", "acts", "dataset", "evaluator", "epochs", "subset",
              "seed", "resolution", "device", "data_dir", "stem", "stem_width")
SMALL_INPUT = 64  # below this input size AnyNet/RegNet models get the stride-1 CIFAR stem by default


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
    _add_db(export)
    export.set_defaults(handler=export_study)

    retry = commands.add_parser("retry-failed", help="re-queue failed trials (rerun `study run` to evaluate)")
    retry.add_argument("name")
    _add_db(retry)
    retry.set_defaults(handler=retry_failed)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=os.environ.get("ARCHSPACE_STUDY_DB", DEFAULT_DB),
                        help=f"study database file or sqlite:/// URL (default {DEFAULT_DB}, or $ARCHSPACE_STUDY_DB)")


# --- run -----------------------------------------------------------------------------------------
def run_study(args: argparse.Namespace) -> int:
    from archspace.study import Storage, Study, make_executor
    from archspace.study.storage import path_from_url

    storage = Storage.open(args.db) if path_from_url(args.db).exists() else None
    existing = None if storage is None else _stored_config(storage, args.name)
    config = _merge_config(args, existing)
    strategy, evaluator = _build(config)  # every check happens here, before anything is stored
    storage = storage or Storage.open(args.db)
    study = Study.create(args.name, storage, seed=config["seed"], config=config, load_if_exists=True)
    if existing is not None and existing.get("n") != config["n"]:
        _store_config(study, config)
    executor = make_executor(workers=args.workers, use_ray=args.ray is not None,
                             ray_address=args.ray or None)
    show_progress = not (args.no_progress or args.json)
    summary = study.optimize(strategy, evaluator, config["n"], executor=executor, progress=show_progress)
    if args.json:
        print_json(summary.to_dict())
    else:
        _print_summary(summary)
    return 0


def _stored_config(storage: Any, name: str) -> dict[str, Any] | None:
    from archspace.study.records import loads

    rows = storage.query("SELECT config_json FROM studies WHERE name = ?", (name,))
    return loads(rows[0][0]) if rows else None


def _store_config(study: Any, config: dict[str, Any]) -> None:
    from archspace.study.records import dumps

    with study.storage.transaction() as db:
        db.execute("UPDATE studies SET config_json = ? WHERE study_id = ?", (dumps(config), study.study_id))
    study.config = config


def _merge_config(args: argparse.Namespace, stored: dict[str, Any] | None) -> dict[str, Any]:
    """Options given now, completed from the stored study (resume) or the defaults (new)."""
    given: dict[str, Any] = {key: getattr(args, key) for key in (*STUDY_KEYS, "n")}
    for bound in ("flops", "params", "acts"):
        if given[bound] is not None:
            given[bound] = list(parse_range(given[bound], f"--{bound}"))
    if stored is None:
        defaults = {"dataset": "fashion-mnist", "evaluator": "train", "seed": 0, "device": "cpu"}
        config = {key: given[key] if given[key] is not None else defaults.get(key) for key in given}
        if config["space"] is None:
            raise UsageError("study run: --space is required for a new study (e.g. --space regnetx)")
        if config["n"] is None:
            raise UsageError("study run: --n is required for a new study (number of models)")
        return config
    if "space" not in stored or "n" not in stored:
        raise UsageError(f"study {args.name!r} was not created by `archspace study run`; "
                         "resume it from Python with Study.load(...).optimize(...)")
    differing = [key for key in STUDY_KEYS if given[key] is not None and given[key] != stored.get(key)]
    if differing:
        key = differing[0]
        raise UsageError(f"study {args.name!r} was created with --{key.replace('_', '-')} "
                         f"{_show(stored.get(key))}, not {_show(given[key])}; rerun with the stored "
                         "options (or leave them out) or choose a new study name")
    config = dict(stored)
    if given["n"] is not None:
        if given["n"] < stored["n"]:
            raise UsageError(f"study {args.name!r} has n = {stored['n']}; --n can grow it, not shrink it")
        config["n"] = given["n"]
    return config


def _show(value: Any) -> str:
    if isinstance(value, list):
        return ":".join(f"{v:g}" for v in value)
    return str(value)


def _build(config: dict[str, Any]) -> tuple[Any, Any]:
    """The population strategy and evaluator for a study config (all input checks happen here)."""
    from archspace.search.population import PopulationStrategy
    from archspace.spaces.base import Regime

    if config["n"] < 1:
        raise UsageError(f"--n must be >= 1, got {config['n']}")
    evaluator, inputs = _make_evaluator(config)
    space = _get_space(config, inputs["resolution"])
    regime = Regime(**{b: tuple(config[b]) for b in ("flops", "params", "acts") if config[b] is not None})
    try:
        strategy = PopulationStrategy(space, config["n"], regime, seed=config["seed"], complexity_kwargs=inputs)
    except InvalidArchitecture as exc:
        raise UsageError(f"models of space {config['space']!r} do not fit {config['dataset']}'s "
                         f"{inputs['resolution']}x{inputs['resolution']} inputs ({exc.field}: {exc.detail})") from None
    return strategy, evaluator


def _get_space(config: dict[str, Any], resolution: int) -> Any:
    """The study's space; AnyNet/RegNet models on small inputs get a stride-1 stem so they fit.

    The stem actually used is written back into ``config`` so that it is stored with the study.
    """
    from archspace.families.anynet.table import STEM_TYPES
    from archspace.spaces.registry import get_space

    space = get_space(config["space"])
    if space.arch_class.kind != "anynet":
        if config.get("stem") or config.get("stem_width"):
            raise UsageError(f"--stem applies to AnyNet/RegNet spaces, not {config['space']!r}")
        return space
    stem = config.get("stem") or ("res_stem_cifar" if resolution < SMALL_INPUT else "simple_stem_in")
    if stem not in STEM_TYPES:
        raise UsageError(f"--stem must be one of {', '.join(STEM_TYPES)}, got {stem!r}")
    width = config.get("stem_width") or (16 if stem == "res_stem_cifar" else 32)
    if width < 1:
        raise UsageError(f"--stem-width must be >= 1, got {width}")
    config["stem"], config["stem_width"] = stem, width
    return get_space(config["space"], stem=stem, stem_width=width)


def _make_evaluator(config: dict[str, Any]) -> tuple[Any, dict[str, int]]:
    """(evaluator, input spec used to cost models for the regime)."""
    kind, dataset = config["evaluator"], config["dataset"]
    if kind == "nb201":
        from archspace.bench.nb201 import NUM_CLASSES as NB201_CLASSES
        from archspace.bench.nb201 import RESOLUTION, canonical_dataset
        from archspace.evaluators.nb201 import NB201Benchmark

        if config["space"] != "nb201":
            raise UsageError(f"--evaluator nb201 looks cells up in NAS-Bench-201: it needs --space nb201, not {config['space']!r}")
        key = canonical_dataset("cifar10" if dataset == "fashion-mnist" else dataset)
        inputs = {"resolution": config["resolution"] or RESOLUTION[key], "num_classes": NB201_CLASSES[key]}
        return NB201Benchmark(metric=f"{key}_valid_200", seed_mode="sample"), inputs
    if kind == "complexity":
        from archspace.evaluators.complexity import ComplexityEvaluator

        resolution, channels, classes = _dataset_inputs(dataset)
        resolution = config["resolution"] or resolution
        evaluator = ComplexityEvaluator(config["space"], resolution, classes, channels)
        return evaluator, {"resolution": resolution, "num_classes": classes, "in_channels": channels}
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.train.recipe import Recipe

    recipe_fields: dict[str, Any] = {}
    if config["epochs"] is not None:
        recipe_fields["epochs"] = config["epochs"]
    if config["subset"] is not None:
        recipe_fields["subset"] = config["subset"]
    evaluator = TrainingEvaluator(dataset, recipe=Recipe(**recipe_fields), device=config["device"],
                                  data_dir=config["data_dir"])
    data = evaluator.load()  # missing or corrupt data is reported now, before any trial starts
    inputs = {"resolution": config["resolution"] or data.resolution, "num_classes": data.num_classes,
              "in_channels": data.in_channels}
    return evaluator, inputs


def _dataset_inputs(dataset: str) -> tuple[int, int, int]:
    key = dataset.lower().replace("_", "-")
    if key not in DATASET_INPUTS:
        raise UsageError(f"unknown dataset {dataset!r} for --evaluator complexity; known: {sorted(DATASET_INPUTS)}")
    return DATASET_INPUTS[key]


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
    frame = _load(args).trials_dataframe()
    out = args.out or f"{args.name}.{args.format}"
    if args.format == "parquet":
        if out == "-":
            raise UsageError("--format parquet needs a file (--out FILE), not stdout")
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
