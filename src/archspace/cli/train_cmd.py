"""`archspace train`: train a zoo model or a JSON spec on a dataset and report its errors."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from archspace.cli.common import add_json_flag, print_json, print_table
from archspace.errors import UsageError
from archspace.progress import ProgressBar


def _recipe(args: argparse.Namespace) -> Any:
    from archspace.train import Recipe

    recipe = Recipe.load(args.recipe) if args.recipe else Recipe()
    overrides = {name: getattr(args, name) for name in ("epochs", "subset", "batch_size", "lr")
                 if getattr(args, name) is not None}
    if args.no_augment:
        overrides["augment"] = False
    return recipe.replace(**overrides)


def _check_outputs(args: argparse.Namespace) -> None:
    for option, path in (("--out", args.out), ("--predictions", args.predictions)):
        if path is not None and not Path(path).expanduser().resolve().parent.is_dir():
            raise UsageError(f"{option}: directory of {path} does not exist")
    if args.predictions is not None and not args.predictions.endswith(".npz"):
        raise UsageError(f"--predictions must name a .npz file, got {args.predictions!r}")


def _trainer_events_onto(bar: ProgressBar) -> Callable[[Any], None]:
    """A trainer progress callback moving ``bar`` over all steps of all epochs; the status shows
    loss, train error, the last epoch's validation error and speed."""
    val = "-"

    def update(event: Any) -> None:
        nonlocal val
        if event.epoch_end:
            val = f"{event.val_error:.2f}%" if event.val_error is not None else "-"
        bar.update(total=event.epochs * event.steps_per_epoch,
                   completed=(event.epoch - 1) * event.steps_per_epoch + event.step,
                   description=f"epoch {event.epoch}/{event.epochs}",
                   status=f"loss {event.loss:.4f}  err {event.train_error:.2f}%  val {val}  "
                          f"{event.images_per_s:.0f} img/s")

    return update


def run(args: argparse.Namespace) -> int:
    from archspace.data import load_dataset
    from archspace.families import family_for
    from archspace.spaces.registry import resolve_arch
    from archspace.train import train

    recipe = _recipe(args)
    _check_outputs(args)
    arch = resolve_arch(args.model)
    family_for(arch).validate(arch)
    dataset = load_dataset(args.dataset, data_dir=args.data_dir, seed=args.split_seed, val_size=args.val_size)
    with ProgressBar(f"epoch 1/{recipe.epochs}", enabled=not args.no_progress, transient=False) as bar:
        result = train(arch, dataset, recipe, seed=args.seed, device=args.device,
                       progress=_trainer_events_onto(bar) if bar.enabled else None, progress_every=10)
    report = {"model": args.model if not args.model.strip().startswith("{") else arch.spec_hash(),
              "arch": arch.to_dict(), "dataset": dataset.summary(), "recipe": recipe.to_dict(),
              **result.to_dict()}
    if args.out:
        Path(args.out).expanduser().write_text(json.dumps(report, indent=2) + "\n")
    if args.predictions and result.predictions():
        np.savez_compressed(Path(args.predictions).expanduser(), **result.predictions())
    _print(report, args.json)
    return 0 if result.status == "complete" else 1


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    def fmt(value: Any) -> Any:
        return "-" if value is None else value
    rows = [[report["status"], fmt(report["val_error"]), fmt(report["test_error"]), report["epochs"],
             report["train_seconds"], report["images_per_s"], fmt(report["flops"]), fmt(report["params"])]]
    print_table(["status", "val err %", "test err %", "epochs", "train s", "img/s", "flops", "params"], rows,
                title=f"{report['model']} on {report['dataset']['name']}")
    if report["message"]:
        print(report["message"])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a zoo model or JSON spec on a dataset",
        description="Train under a recipe (default: SGD 0.9, batch 128, lr 0.05, cosine, wd 5e-5, 10 epochs) "
                    "and report validation/test top-1 error, time, images/s and cost. Exit status 1 when "
                    "training diverged or ran out of memory.")
    parser.add_argument("model", metavar="MODEL_OR_SPEC", help="zoo name, JSON spec, or path to a JSON file")
    parser.add_argument("--dataset", default="fashion-mnist",
                        help="fashion-mnist (default), mnist, cifar10, cifar100, digits, or a .npz path")
    parser.add_argument("--data-dir", default=None, help="directory holding the dataset's files")
    parser.add_argument("--recipe", default=None, help="recipe YAML file (options below override it)")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 10)")
    parser.add_argument("--subset", type=int, default=None, help="train on N examples of the training split")
    parser.add_argument("--batch-size", type=int, default=None, help="batch size (default 128)")
    parser.add_argument("--lr", type=float, default=None, help="base learning rate (default 0.05)")
    parser.add_argument("--no-augment", action="store_true", help="no random crop / flip")
    parser.add_argument("--seed", type=int, default=0, help="seed of initialization, batch order, augmentation")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the train/validation split")
    parser.add_argument("--val-size", type=int, default=None, help="validation examples (dataset default)")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    parser.add_argument("--out", default=None, help="write the full result (history, cost) as JSON here")
    parser.add_argument("--predictions", default=None, help="write val/test logits and labels to this .npz")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_json_flag(parser)
    parser.set_defaults(handler=run)
