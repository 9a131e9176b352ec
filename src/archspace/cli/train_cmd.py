"""`archspace train`: train a zoo model or a JSON spec on a dataset and report its errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from archspace.cli.common import (
    add_json_flag,
    check_device,
    check_output_file,
    print_json,
    print_table,
    read_text_file,
)
from archspace.errors import UsageError
from archspace.progress import ProgressBar


def _recipe(args: argparse.Namespace, text: str | None) -> Any:
    from archspace.train.recipe import Recipe

    recipe = Recipe.from_yaml(text) if text is not None else Recipe()
    overrides = {name: getattr(args, name) for name in ("epochs", "subset", "batch_size", "lr")
                 if getattr(args, name) is not None}
    if args.no_augment:
        overrides["augment"] = False
    return recipe.replace(**overrides)


def _check_outputs(args: argparse.Namespace) -> None:
    if args.out is not None:
        check_output_file(args.out, "--out")
    if args.predictions is not None:
        check_output_file(args.predictions, "--predictions", suffix=".npz")


def _with_stem(arch: Any, args: argparse.Namespace) -> tuple[Any, str | None]:
    """The small-input stem policy of ``study run`` (``archspace.experiments.population``) for a
    given spec: an AnyNet/RegNet spec with the paper's stride-2 ImageNet stem that does not fit
    inputs below 64 pixels (e.g. a zoo RegNet or a line of ``archspace sample`` on 28x28 images) gets
    the stride-1 CIFAR stem, unless ``--stem`` is given; ``--stem`` / ``--stem-width`` set it."""
    import dataclasses

    from archspace.data.inputs import known_input
    from archspace.experiments.population import (
        SMALL_INPUT,
        SMALL_INPUT_STEM,
        SMALL_INPUT_STEM_WIDTH,
    )
    from archspace.families.anynet.table import STEM_TYPES

    if getattr(arch, "kind", None) != "anynet":
        if args.stem or args.stem_width:
            raise UsageError(f"--stem and --stem-width apply to AnyNet/RegNet specs, not {arch.kind!r}")
        return arch, None
    if args.stem is not None and args.stem not in STEM_TYPES:
        raise UsageError(f"--stem must be one of {', '.join(STEM_TYPES)}, got {args.stem!r}")
    stem, width, note = args.stem, args.stem_width, None
    found = known_input(args.dataset)
    if (stem is None and arch.stem == "simple_stem_in" and found is not None and found.resolution < SMALL_INPUT
            and not _fits(arch, found.resolution)):
        stem, width = SMALL_INPUT_STEM, width or SMALL_INPUT_STEM_WIDTH
        note = (f"archspace: {found.resolution}x{found.resolution} inputs: using stem {stem} (width {width}) "
                "instead of the spec's stride-2 simple_stem_in (--stem simple_stem_in keeps it)")
    changes = {k: v for k, v in (("stem", stem), ("stem_width", width)) if v is not None}
    return (dataclasses.replace(arch, **changes) if changes else arch), note


def _fits(arch: Any, resolution: int) -> bool:
    from archspace.errors import InvalidArchitecture
    from archspace.families import family_for

    try:
        family_for(arch).complexity(arch, resolution=resolution)
    except InvalidArchitecture:
        return False
    return True


MAX_TRAIN_PARAMS = 1_000_000_000  # 12 GB of fp32 weights, gradients and momentum
MAX_TRAIN_ACTS = 1_000_000_000    # activations per image (x batch size x 4 bytes, kept for backward)


def _check_size(arch: Any, dataset: str) -> None:
    """Refuse, before any data is loaded, a model far too large to train here (limits named)."""
    from archspace.data.inputs import known_input
    from archspace.families import family_for

    found = known_input(dataset)
    inputs = {} if found is None else {"resolution": found.resolution, "num_classes": found.classes,
                                       "in_channels": found.channels}
    cost = family_for(arch).complexity(arch, **inputs)
    for name, value, limit in (("params", cost.params, MAX_TRAIN_PARAMS), ("acts", cost.acts, MAX_TRAIN_ACTS)):
        if value > limit:
            raise UsageError(f"the model has {value:,.0f} {name}, more than MAX_TRAIN_{name.upper()} = {limit:,} "
                             "that archspace train accepts")


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
    from archspace.families import family_for
    from archspace.spaces.registry import resolve_arch

    # every check first, before torch and the data are loaded
    _check_outputs(args)
    check_device(args.device)
    recipe_text = read_text_file(args.recipe, "--recipe") if args.recipe else None
    arch = family_for(spec := resolve_arch(args.model)).validate(spec)
    arch, note = _with_stem(arch, args)
    family_for(arch).validate(arch)
    _check_size(arch, args.dataset)
    recipe = _recipe(args, recipe_text)
    if note:
        print(note, file=sys.stderr)  # every check passed: say what changed, then start
    from archspace.data import load_dataset
    from archspace.train import train

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
    parser.add_argument("--stem", default=None,
                        help="AnyNet/RegNet stem (default: the spec's; res_stem_cifar replaces the stride-2 "
                             "simple_stem_in below 64x64 inputs, as in `study run`)")
    parser.add_argument("--stem-width", dest="stem_width", type=int, default=None, help="stem width")
    parser.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:N or auto")
    parser.add_argument("--out", default=None, help="write the full result (history, cost) as JSON here")
    parser.add_argument("--predictions", default=None, help="write val/test logits and labels to this .npz")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--overwrite", action="store_true", help="replace existing --out / --predictions files")
    add_json_flag(parser)
    parser.set_defaults(handler=run, path_options={"out": "new-file", "predictions": "new-file:.npz"})
