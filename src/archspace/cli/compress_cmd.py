"""`archspace compress`: compress a teacher (thesis ch. 2): look at its space, check a candidate,
run the search comparison. Parsing and printing only; the work is ``archspace.compress``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from archspace.cli.common import add_db_option, add_json_flag, print_json, print_table
from archspace.errors import UsageError
from archspace.parsing import parse_list

SPACE_FLAGS = ("remove_prob", "shrink_prob", "min_ratio", "skip_prob")


def _space(args: argparse.Namespace) -> Any:
    from archspace.spaces.teacher import TeacherSpace

    return TeacherSpace(_teacher_arg(args.teacher), resolution=args.resolution, in_channels=args.in_channels,
                        **_space_options(args))


def _teacher_arg(text: str) -> Any:
    """A teacher name, or a JSON graph / layer list (inline or a file)."""
    stripped = text.strip()
    if stripped.endswith(".json"):
        path = Path(stripped)
        if not path.is_file():
            raise UsageError(f"teacher file {path} does not exist")
        stripped = path.read_text().strip()
    if stripped.startswith(("{", "[")):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UsageError(f"teacher JSON is not valid: {exc}") from None
    return stripped


def _space_options(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in SPACE_FLAGS if getattr(args, name, None) is not None}


def run_space(args: argparse.Namespace) -> int:
    import numpy as np

    space = _space(args)
    teacher = space.complexity(space.teacher_graph, num_classes=args.classes)
    summary = {**space.summary(), "teacher_params": teacher.params, "teacher_flops": teacher.flops}
    samples = []
    if args.samples:
        archs = space.sample_batch(np.random.default_rng(args.seed), args.samples)
        for cx in space.complexity_many(archs, num_classes=args.classes):
            samples.append({"params": cx.params, "flops": cx.flops, "ratio": teacher.params / cx.params})
        summary["samples"] = samples
    if args.json:
        print_json(summary)
        return 0
    print_table(["field", "value"], [[k, v] for k, v in summary.items() if k != "samples"], title="teacher space")
    if samples:
        print_table(["#", "params", "flops", "ratio"],
                    [[i, s["params"], s["flops"], round(s["ratio"], 2)] for i, s in enumerate(samples)])
    return 0


def run_check(args: argparse.Namespace) -> int:
    from archspace.arch import arch_from_json
    from archspace.compress.reward import compression

    space = _space(args)
    text = args.candidate
    if text.strip().endswith(".json"):
        path = Path(text.strip())
        if not path.is_file():
            raise UsageError(f"candidate file {path} does not exist")
        text = path.read_text()
    arch = space.validate(arch_from_json(text))
    cx = space.complexity(arch, num_classes=args.classes)
    teacher = space.complexity(space.teacher_graph, num_classes=args.classes)
    out = {"valid": True, "layers": len(arch), "params": cx.params, "flops": cx.flops,
           "compression": float(compression(cx.params, teacher.params)), "ratio": teacher.params / cx.params}
    if args.json:
        print_json(out)
    else:
        print_table(["field", "value"], [[k, v] for k, v in out.items()], title="candidate")
    return 0


def run_search(args: argparse.Namespace) -> int:
    from archspace.compress.distill import DistillConfig
    from archspace.compress.report import markdown_table
    from archspace.compress.setup import CompressionSetup
    from archspace.compress.workflow import CompressionConfig, parse_methods, run_compression

    _check_input_flags(args)
    seeds = tuple(int(s) for s in parse_list(args.seeds, "seed"))
    methods = parse_methods(parse_list(args.methods, "method"), args.kernels, args.n_init, args.candidates,
                            args.transfer, args.save_kernels)
    setup = CompressionSetup(teacher=_teacher_arg(args.teacher), dataset=args.dataset, data_dir=args.data_dir,
                             train_subset=args.train_subset, val_size=args.val_size, split_seed=args.split_seed,
                             teacher_training=DistillConfig(epochs=args.teacher_epochs, loss="ce", lr=args.lr,
                                                            batch_size=args.batch_size),
                             cache_dir=args.cache_dir)
    training = DistillConfig(epochs=args.epochs, loss=args.loss, lr=args.lr, batch_size=args.batch_size)
    config = CompressionConfig(setup=setup, training=training,
                               space_options=_space_options(args), methods=methods, seeds=seeds,
                               n_trials=args.trials, top_k=args.top_k,
                               finetune=DistillConfig(epochs=args.finetune_epochs, loss="ce", lr=args.lr / 2,
                                                      batch_size=args.batch_size),
                               db=args.db)
    from archspace.study import make_executor

    make_executor(workers=args.workers, use_ray=args.ray is not None, ray_address=args.ray or None)  # checked now
    summary = run_compression(config, progress=not args.json, executor=lambda: make_executor(
        workers=args.workers, use_ray=args.ray is not None, ray_address=args.ray or None))
    if args.out:
        _write_outputs(summary, Path(args.out))
    if args.json:
        print_json({k: v for k, v in summary.items() if k != "curves"})
    else:
        print(markdown_table(summary), end="")
    return 0


def _check_input_flags(args: argparse.Namespace) -> None:
    """`run` takes the input shape from --dataset: a --resolution / --in-channels / --classes that
    contradicts a known dataset is refused instead of silently ignored."""
    from archspace.data.inputs import known_input

    found = known_input(args.dataset)
    if found is None:
        return  # a .npz file: its shape is known once it is read
    for flag, value, expected in (("--resolution", args.resolution, found.resolution),
                                  ("--in-channels", args.in_channels, found.channels),
                                  ("--classes", args.classes, found.classes)):
        if value is not None and value != expected:
            raise UsageError(f"{flag} {value} does not match {args.dataset} ({expected}); compress run takes the "
                             f"input shape from --dataset: leave {flag} out")


def _write_outputs(summary: dict[str, Any], out: Path) -> None:
    from archspace.compress.report import markdown_table, reward_over_time_figure

    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float))
    (out / "table.md").write_text(markdown_table(summary))
    reward_over_time_figure(summary).savefig(out / "reward_over_time.png")


def run_table(args: argparse.Namespace) -> int:
    from archspace.compress.report import markdown_table
    from archspace.compress.workflow import merge_summaries

    summaries = []
    for name in args.summary:
        path = Path(name)
        if not path.is_file():
            raise UsageError(f"summary file {path} does not exist (written by `archspace compress run --out DIR`)")
        try:
            summary = json.loads(path.read_text())
            if not isinstance(summary, dict) or not isinstance(summary.get("runs"), list):
                raise TypeError("no list of runs")
        except (json.JSONDecodeError, TypeError) as exc:
            raise UsageError(f"{path} is not a compression summary: {exc}") from None
        summaries.append(summary)
    try:
        summary = merge_summaries(summaries)
    except (KeyError, TypeError) as exc:
        raise UsageError(f"{' '.join(args.summary)}: not compression summaries: {exc}") from None
    if args.out:
        _write_outputs(summary, Path(args.out))
    print(markdown_table(summary), end="")
    return 0


def run_progress(args: argparse.Namespace) -> int:
    from archspace.compress.report import reward_over_time_figure, search_markdown
    from archspace.compress.workflow import search_summary

    search = search_summary(list(args.db), args.n_init)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "search.json").write_text(json.dumps(search, indent=1, default=float))
        (out / "search.md").write_text(search_markdown(search))
        reward_over_time_figure(search).savefig(out / "reward_over_time.png")
    if args.json:
        print_json(search)
    else:
        print(search_markdown(search), end="")
    return 0


def _add_space_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--teacher", default="resnet20",
                        help="teacher: resnet8/20/56, resnet18, vgg-small, vgg11, a zoo name, or a graph/layer-list JSON")
    parser.add_argument("--resolution", type=int, default=32, help="input size (default 32; run: the dataset's)")
    parser.add_argument("--in-channels", type=int, default=3, help="input channels (default 3; run: the dataset's)")
    parser.add_argument("--classes", type=int, default=10, help="classes (default 10; run: the dataset's)")
    parser.add_argument("--remove-prob", type=float, default=None, help="prior: probability of removing a layer")
    parser.add_argument("--shrink-prob", type=float, default=None, help="prior: probability of shrinking a width group")
    parser.add_argument("--min-ratio", type=float, default=None, help="smallest shrink ratio, in (0, 1]")
    parser.add_argument("--skip-prob", type=float, default=None, help="prior: probability of adding a skip pair")
    add_json_flag(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compress", help="compress a teacher: its space, candidates, the search comparison",
                                   description="Teacher compression by layer removal, shrinkage and skip additions "
                                               "(thesis ch. 2): reward f(x) = C(2 - C) A(x) / A(teacher).")
    commands = parser.add_subparsers(dest="compress_command", required=True)
    space = commands.add_parser("space", help="summary of a teacher's space, and sampled candidates' costs")
    _add_space_flags(space)
    space.add_argument("--samples", type=int, default=0, help="sample this many candidates and cost them")
    space.add_argument("--seed", type=int, default=0)
    space.set_defaults(handler=run_space)
    check = commands.add_parser("check", help="validate a user-given candidate graph against a teacher")
    check.add_argument("candidate", metavar="GRAPH_JSON", help="candidate graph JSON (inline or a .json file)")
    _add_space_flags(check)
    check.set_defaults(handler=run_check)
    run = commands.add_parser("run", help="random search vs TPE vs learned-kernel BO as Studies, then the final stage")
    _add_space_flags(run)
    run.set_defaults(resolution=None, in_channels=None, classes=None)  # the dataset's; checked if given
    run.add_argument("--dataset", default="fashion-mnist")
    run.add_argument("--data-dir", default=None)
    run.add_argument("--train-subset", type=int, default=None, help="train teacher and candidates on this many images")
    run.add_argument("--val-size", type=int, default=None, help="held-out validation images (A(x) is measured there)")
    run.add_argument("--split-seed", type=int, default=0)
    run.add_argument("--teacher-epochs", type=int, default=10)
    run.add_argument("--epochs", type=int, default=1, help="distillation epochs per candidate")
    run.add_argument("--loss", default="kl", choices=("kl", "mse"), help="distillation loss")
    run.add_argument("--lr", type=float, default=0.05, help="learning rate (fine-tuning uses half)")
    run.add_argument("--batch-size", type=int, default=128, help="batch size of every training run")
    run.add_argument("--methods", default="random,tpe,bo-learned",
                     help="random, tpe, bo-learned, bo-k1, bo-marginal, bo-euclidean, bo-evolution, bo-transfer")
    run.add_argument("--seeds", default="0,1,2")
    run.add_argument("--trials", type=int, default=40, help="evaluations per method and seed")
    run.add_argument("--kernels", type=int, default=8, help="K: kernels (= proposals) per BO step")
    run.add_argument("--n-init", type=int, default=8, help="random evaluations before BO's first step")
    run.add_argument("--candidates", type=int, default=1000, help="random candidates each kernel scores by EI")
    run.add_argument("--transfer", default=None, help="kernel file for bo-transfer (from --save-kernels of another run)")
    run.add_argument("--save-kernels", default=None, help="write bo-learned's last kernels here (seed order: last wins)")
    run.add_argument("--top-k", type=int, default=4, help="candidates fine-tuned in the final stage")
    run.add_argument("--finetune-epochs", type=int, default=3)
    run.add_argument("--cache-dir", default="runs/teachers", help="where the trained teacher is cached")
    run.add_argument("--out", default=None, help="directory for summary.json, table.md, reward_over_time.png")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="evaluate in N local worker processes")
    where.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS", help="evaluate on Ray")
    add_db_option(run, required=False)
    run.set_defaults(handler=run_search)
    table = commands.add_parser("table", help="the table and figure again from runs' summary.json (no training)")
    table.add_argument("summary", metavar="SUMMARY_JSON", nargs="+",
                       help="one or more summaries of the same setup (e.g. methods split across processes): merged")
    table.add_argument("--out", default=None, help="rewrite table.md, summary.json and the figure here")
    table.set_defaults(handler=run_table)
    progress = commands.add_parser("progress", help="the in-search comparison from the runs' databases (no "
                                                    "training; partial runs included)")
    progress.add_argument("--db", metavar="FILE", action="append", required=True,
                          help="a `compress run` database (repeat for runs split across processes)")
    progress.add_argument("--n-init", type=int, default=8, help="evaluations BO and random search share (default 8)")
    progress.add_argument("--out", default=None, help="write search.json, search.md and the f(x) figure here")
    add_json_flag(progress)
    progress.set_defaults(handler=run_progress)
