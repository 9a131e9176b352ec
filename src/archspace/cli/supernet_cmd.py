"""`archspace supernet train|rank`: train an NB201 single-path supernet; rank cells with its weights.

``train`` resumes from ``--checkpoint`` when the file exists (same arguments). ``rank`` scores cells
with inherited weights inside a Study (``--db``/``--study``), so an interrupted ranking resumes
where it stopped; ``--ground-truth table:<metric>`` adds correlations against NAS-Bench-201. The
study stores the experiment (checkpoint, data, split, BN recompute): a rerun with other settings is
refused with the differing option named (give another ``--study``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from archspace.cli.common import (
    add_db_option,
    add_json_flag,
    check_device,
    parse_list,
    print_json,
    print_table,
    read_text_file,
)
from archspace.configs import check_same_config
from archspace.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("supernet", help="train NB201 single-path supernets and rank cells with them",
                                   description=__doc__)
    sub = parser.add_subparsers(dest="supernet_command", metavar="SUBCOMMAND")
    sub.required = True
    _register_train(sub)
    _register_rank(sub)


def add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", default="fashion-mnist", help="dataset name or .npz path (default fashion-mnist)")
    parser.add_argument("--data-dir", default=None, help="directory of the dataset files")
    parser.add_argument("--val-size", type=int, default=1000, help="validation images held out (default 1000)")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation split")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (1 is fastest on a machine shared by many processes)")


def apply_threads(args: argparse.Namespace) -> None:
    if args.threads is not None:
        if args.threads < 1:
            raise UsageError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)


def add_supernet_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", choices=("small", "medium"), default="small",
                        help="macro size: small = 2 cells/stage, 32 channels; medium = 4, 64")
    parser.add_argument("--cells-per-stage", type=int, default=None, help="override the preset's N")
    parser.add_argument("--channels", type=int, default=None, help="override the preset's C")
    parser.add_argument("--epochs", type=int, default=None, help="supernet epochs (default 50)")
    parser.add_argument("--batch-size", type=int, default=None, help="batch size (default 256)")
    parser.add_argument("--lr", type=float, default=None, help="base learning rate (default 0.025)")
    parser.add_argument("--scale-lr", action="store_true", help="scale lr linearly with batch size / 256")
    parser.add_argument("--train-subset", type=int, default=None, help="train on this many training images")


def _register_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train (or resume) a supernet and write its checkpoint")
    add_data_args(p)
    add_supernet_args(p)
    p.add_argument("--checkpoint", required=True, help="checkpoint file (resumed when it exists)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ops", default=None, help="allowed ops, comma-separated (op masking; default all five)")
    p.add_argument("--linear-transformers", default="", help="skip_connect and/or avg_pool_3x3, comma-separated")
    p.add_argument("--sampler", choices=("uniform", "fair"), default="uniform")
    p.add_argument("--no-topology-sharing", action="store_true", help="each cell samples its own path in training")
    p.add_argument("--warmup-epochs", type=float, default=0.0)
    p.add_argument("--grad-clip", type=float, default=None)
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument("--augment", choices=("none", "standard", "strong"), default="standard")
    add_json_flag(p)
    p.set_defaults(handler=run_train, path_options={"checkpoint": "file"})


def _register_rank(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rank", help="score cells with inherited weights in a resumable study")
    add_data_args(p)
    p.add_argument("--checkpoint", required=True, help="a `supernet train` checkpoint")
    add_db_option(p)
    p.add_argument("--storage", dest="db", help=argparse.SUPPRESS)  # the former name of --db
    p.add_argument("--study", default=None, help="study name (default: rank-<checkpoint stem>)")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--cells", type=int, default=100, help="rank this many distinct random cells (default 100)")
    group.add_argument("--cells-file", default=None, help="file with one cell string or benchmark index per line")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the random cell sample")
    p.add_argument("--split", choices=("val", "test"), default="val")
    p.add_argument("--eval-images", type=int, default=None, help="score on the first N images of the split")
    p.add_argument("--bn-batches", type=int, default=4, help="BN recompute batches per cell (0 = off)")
    p.add_argument("--bn-batch-size", type=int, default=128)
    p.add_argument("--ground-truth", default=None, help="table:<metric>, e.g. table:cifar10_valid_200")
    p.add_argument("--top", type=int, default=10, help="rows to print")
    add_json_flag(p)
    p.set_defaults(handler=run_rank)


def parse_ops(text: str | None, default: tuple[str, ...], option: str = "--ops") -> tuple[str, ...]:
    """Comma-separated op names; ``default`` when the option is not given (None or empty)."""
    return parse_list(text, f"{option} operation") if text else default


def supernet_config(args: argparse.Namespace) -> Any:
    from archspace.families.nb201.supernet import SupernetConfig
    from archspace.families.nb201.table import OPS

    overrides: dict[str, Any] = {"ops": parse_ops(getattr(args, "ops", None), OPS),
                                 "linear_transformers": parse_ops(getattr(args, "linear_transformers", ""), (),
                                                                  "--linear-transformers")}
    for name in ("cells_per_stage", "channels"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    return SupernetConfig.preset(args.preset, **overrides)


def spos_recipe(args: argparse.Namespace, **extra: Any) -> Any:
    from archspace.train.supernet import SPOSRecipe

    changes = {name: getattr(args, name) for name in ("epochs", "batch_size", "lr") if getattr(args, name) is not None}
    changes.update(scale_lr=args.scale_lr, subset=args.train_subset, **extra)
    return SPOSRecipe().replace(**changes)


def run_train(args: argparse.Namespace) -> int:
    from archspace.data import load_dataset
    from archspace.progress import ProgressBar
    from archspace.train.supernet import train_supernet

    apply_threads(args)
    config = supernet_config(args)
    recipe = spos_recipe(args, sampler=args.sampler, share_topology=not args.no_topology_sharing,
                         warmup_epochs=args.warmup_epochs, grad_clip=args.grad_clip,
                         label_smoothing=args.label_smoothing, augment=args.augment)
    check_device(args.device)
    data = load_dataset(args.dataset, data_dir=args.data_dir, seed=args.split_seed, val_size=args.val_size)
    with ProgressBar("supernet") as bar:
        def progress(event: Any) -> None:
            bar.update(total=event.total_steps, completed=event.step,
                       status=f"epoch {event.epoch} loss {event.loss:.3f} lr {event.lr:.4f}")

        run = train_supernet(config, data, recipe, seed=args.seed, device=args.device,
                             checkpoint=args.checkpoint, progress=progress)
    summary = {"checkpoint": args.checkpoint, "steps": run.steps, "total_steps": run.total_steps,
               "resumed_from_step": run.resumed_from_step, "train_seconds": round(run.train_seconds, 2),
               "config": run.config.to_dict(), "recipe": recipe.to_dict(),
               "history": [vars(h) for h in run.history]}
    if args.json:
        print_json(summary)
    else:
        rows = [[h.epoch, f"{h.loss:.4f}", f"{h.train_error:.2f}", f"{h.lr:.5f}", f"{h.seconds:.1f}"] for h in run.history]
        print_table(["epoch", "loss", "train err %", "lr", "seconds"], rows,
                    title=f"supernet {args.checkpoint}: {run.steps}/{run.total_steps} steps")
    return 0


def read_cells(path: str) -> list[Any]:
    from archspace.families.nb201.index import parse_cell

    text = read_text_file(path, "--cells-file")
    cells = [parse_cell(line.strip()) for line in text.splitlines() if line.strip()]
    if not cells:
        raise UsageError(f"--cells-file {path} lists no cells")
    return list(dict.fromkeys(cells))


def rank_experiment(args: argparse.Namespace, meta: dict[str, Any]) -> dict[str, Any]:
    """Everything that decides a ranking's numbers; stored with its study, compared on a rerun."""
    return {"kind": "supernet ranking", "checkpoint": str(Path(args.checkpoint).expanduser().resolve()),
            "supernet_step": int(meta["step"]), "supernet_seed": meta.get("seed"),
            "dataset": args.dataset, "data_dir": args.data_dir, "val_size": args.val_size,
            "split_seed": args.split_seed, "split": args.split, "eval_images": args.eval_images,
            "bn_batches": args.bn_batches, "bn_batch_size": args.bn_batch_size,
            "threads": args.threads or 1, "cells_file": args.cells_file}


def run_rank(args: argparse.Namespace) -> int:
    if not Path(args.checkpoint).expanduser().is_file():
        raise UsageError(f"--checkpoint: no such file {args.checkpoint}")
    if args.cells_file:
        read_text_file(args.cells_file, "--cells-file")
    from archspace.analysis.ranking import ranking_summary
    from archspace.evaluators.supernet import SupernetEvaluator
    from archspace.families.nb201.index import benchmark_index_of
    from archspace.search.fixed import FixedList
    from archspace.spaces.nb201 import NB201Space
    from archspace.study import Study
    from archspace.train.supernet import read_checkpoint

    apply_threads(args)
    check_device(args.device)
    meta = read_checkpoint(args.checkpoint)
    space = NB201Space(meta["config"]["ops"])
    if args.cells_file:
        cells = read_cells(args.cells_file)
    else:
        if args.cells < 1:
            raise UsageError(f"--cells must be >= 1, got {args.cells}")
        cells = space.sample_distinct(args.cells, np.random.default_rng(args.sample_seed))
    for cell in cells:
        space.validate(cell)
    bench = None
    if args.ground_truth is not None:
        if not args.ground_truth.startswith("table:"):
            raise UsageError(f"--ground-truth must be table:<metric>, got {args.ground_truth!r}")
        from archspace.evaluators.nb201 import NB201Benchmark

        bench = NB201Benchmark(metric=args.ground_truth.removeprefix("table:"))
    evaluator = SupernetEvaluator(args.checkpoint, args.dataset, args.data_dir, args.val_size, args.split_seed,
                                  args.split, args.eval_images, args.bn_batches, args.bn_batch_size,
                                  device=args.device, threads=args.threads)
    name = args.study or f"rank-{Path(args.checkpoint).stem}"
    experiment = rank_experiment(args, meta)
    study = Study.create(name, args.db, seed=0, load_if_exists=True, config=experiment)
    check_same_config(study.config, experiment, f"study {name!r} in {args.db}",
                      may_change=("cells_file",))
    study.optimize(FixedList(cells), evaluator, len(cells), progress=not args.json)
    scores = {t.arch: 100.0 - t.objective for t in study.trials(("complete",))}
    order = sorted(cells, key=lambda c: -scores.get(c, -np.inf))
    out: dict[str, Any] = {"study": name, "db": args.db, "cells": len(cells),
                           "bn_recompute": None if evaluator.bn is None else evaluator.bn.describe(),
                           "ranking": [{"cell": c.to_string(), "supernet_accuracy": scores.get(c)} for c in order]}
    if bench is not None:
        truth = np.array([bench.accuracy(benchmark_index_of(c))[0] for c in order])
        predicted = np.array([scores[c] for c in order])
        out["ground_truth"] = args.ground_truth
        out["correlation"] = ranking_summary(predicted, truth)
        for row, value in zip(out["ranking"], truth, strict=True):
            row["ground_truth_accuracy"] = float(value)
    if args.json:
        print_json(out)
        return 0
    rows = [[i + 1, r["cell"], f"{r['supernet_accuracy']:.2f}"] + ([f"{r['ground_truth_accuracy']:.2f}"] if bench else [])
            for i, r in enumerate(out["ranking"][: args.top])]
    print_table(["rank", "cell", "supernet acc %"] + (["truth acc %"] if bench else []), rows,
                title=f"study {name}: {len(cells)} cells, BN recompute {'on' if evaluator.bn else 'off'}")
    if bench is not None:
        all_ = out["correlation"]["all"]
        print(f"Kendall tau {all_['kendall']:.3f}  Spearman {all_['spearman']:.3f}  Pearson {all_['pearson']:.3f}  "
              f"tau_a {out['correlation']['tau_a']:.3f}")
    return 0
