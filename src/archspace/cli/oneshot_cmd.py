"""`archspace oneshot search|train-derived|genotypes`: differentiable architecture search (DARTS,
second-order DARTS, GDAS, NA-DARTS; PC-DARTS and DARTS-ES as options) on the NB201 or DARTS cell
space, stand-alone training of the cells it derives, and the published DARTS genotypes with their
exact cost.

``search`` validates every option before loading data, shows progress on stderr, resumes from
``--checkpoint`` when the file exists (same options), and prints the selected architecture and the
per-epoch record (``--json``: everything, alpha included; ``--out FILE`` writes the same JSON).
``train-derived RESULT...`` trains the architecture each result file (``search --out``; a folder:
every result in it) selected, one trial each, in a study of ``--db`` (resumed when rerun), at the
search network's size unless ``--channels`` / ``--cells`` say otherwise.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from archspace.cli.common import add_db_option, add_json_flag, print_json, print_table, strict_json
from archspace.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("oneshot", help="gradient-based one-shot search (DARTS, GDAS, NA-DARTS)",
                                   description=__doc__)
    sub = parser.add_subparsers(dest="oneshot_command", metavar="SUBCOMMAND")
    sub.required = True
    _register_search(sub)
    _register_train_derived(sub)
    _register_genotypes(sub)


def _register_search(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="run (or resume) one differentiable search")
    p.add_argument("--space", choices=("nb201", "darts", "darts_s3"), default="nb201")
    p.add_argument("--method", choices=("darts", "darts2", "gdas", "na-darts"), default="darts")
    p.add_argument("--channels", type=int, default=16, help="initial channels C (default 16)")
    p.add_argument("--cells", type=int, default=None, help="nb201: cells per stage (default 5); darts: cells (default 8)")
    p.add_argument("--ops", default=None, help="op mask, comma-separated (darts_s3: sep_conv_3x3,skip_connect,none)")
    p.add_argument("--pc", type=int, default=1, metavar="K", help="PC-DARTS partial channels 1/K (default 1 = off)")
    p.add_argument("--edge-norm", action="store_true", help="PC-DARTS edge normalization")
    p.add_argument("--early-stop", type=int, default=0, metavar="K",
                   help="DARTS-ES: stop when the Hessian eigenvalue grows, keep the cell of K epochs before (0 = off)")
    p.add_argument("--rule", choices=("darts", "nb201"), default=None, help="derivation rule (default per space)")
    p.add_argument("--n-nbr", type=int, default=10, help="NA: neighbors per step, alpha included (default 10)")
    p.add_argument("--distance", type=int, default=1, help="NA: edges changed per neighbor (default 1)")
    p.add_argument("--neighbors", choices=("additive", "multiplicative"), default="additive")
    p.add_argument("--eps", type=float, default=0.3, help="NA additive noise bound, in (0, 1) (default 0.3)")
    p.add_argument("--aggregate", choices=("mean", "max"), default="mean")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--subset", type=int, default=None, help="training images used (before halving)")
    p.add_argument("--eval-images", type=int, default=1000, help="validation images scoring the supernet per epoch")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--val-size", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--checkpoint", default=None, help="checkpoint file (resumed when it exists)")
    p.add_argument("--out", default=None, help="write the full JSON result to this file")
    add_json_flag(p)
    p.set_defaults(handler=run_search_cmd)


def _register_train_derived(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train-derived", help="train the cells searches derived, stand-alone, in a study")
    p.add_argument("results", nargs="+", metavar="RESULT",
                   help="result file of oneshot search --out, or a folder of them")
    add_db_option(p)
    p.add_argument("--study", default=None, help="study name (default: oneshot-derived-<space>-C<c>-<cells>-<dataset>)")
    p.add_argument("--channels", type=int, default=None, help="stand-alone initial channels (default: the search's)")
    p.add_argument("--cells", type=int, default=None,
                   help="stand-alone nb201 cells per stage / darts cells (default: the search's)")
    p.add_argument("--dataset", default=None, help="default: the searches' dataset")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--subset", type=int, default=None, help="training images used (seeded subset)")
    p.add_argument("--no-augment", action="store_true", help="no random crop / flip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads of every trial (default 1)")
    add_json_flag(p)
    p.set_defaults(handler=run_train_derived)


def run_train_derived(args: argparse.Namespace) -> int:
    from archspace.evaluators.training import TrainingEvaluator
    from archspace.oneshot.handoff import (
        default_study_name,
        load_results,
        plan_handoff,
        train_derived,
    )
    from archspace.train.recipe import Recipe

    plan = plan_handoff(load_results(args.results), args.channels, args.cells, args.dataset)
    recipe = Recipe(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, subset=args.subset,
                    augment=not args.no_augment)
    evaluator = TrainingEvaluator(plan.dataset, recipe, data_dir=args.data_dir or plan.data_dir,
                                  val_size=plan.val_size, keep_predictions=False, space=plan.space,
                                  space_options=plan.space_options, threads=args.threads)
    name = args.study or default_study_name(plan)
    study = train_derived(plan.specs, args.db, name, evaluator, seed=args.seed, progress=True)
    trials = {t.arch_hash: t for t in study.trials()}
    rows = []
    for cell in plan.cells:
        t = trials.get(cell.spec.spec_hash())
        rows.append({"source": cell.source, "label": cell.label, "search_seed": cell.seed, "arch": cell.text,
                     "state": None if t is None else t.state, "val_error": None if t is None else t.objective,
                     "test_error": None if t is None else t.metrics.get("test_error"),
                     "params": None if t is None else t.cost.get("params"),
                     "seconds": None if t is None else t.duration_s})
    if args.json:
        print_json({"study": name, "db": args.db, "space": plan.space, "space_options": plan.space_options,
                    "dataset": plan.dataset, "recipe": recipe.to_dict(), "cells": rows})
        return 0
    print_table(["search", "seed", "state", "val error %", "test error %", "params", "s", "architecture"],
                [[r["label"], r["search_seed"], r["state"], _pct(r["val_error"]), _pct(r["test_error"]),
                  "" if r["params"] is None else f"{int(r['params']):,}",
                  "" if r["seconds"] is None else f"{r['seconds']:.0f}", r["arch"]] for r in rows],
                title=f"study {name!r}: derived cells trained stand-alone ({plan.space} {plan.space_options}, "
                      f"{plan.dataset}, {args.epochs} epochs)")
    return 0


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _register_genotypes(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("genotypes", help="the published DARTS genotypes with params / flops")
    p.add_argument("--channels", type=int, default=36)
    p.add_argument("--cells", type=int, default=20)
    p.add_argument("--text", action="store_true", help="print the Genotype(...) text too")
    add_json_flag(p)
    p.set_defaults(handler=run_genotypes)


def config_from_args(args: argparse.Namespace) -> Any:
    from archspace.oneshot.bilevel import SearchRecipe
    from archspace.oneshot.search import OneShotConfig, check_config
    from archspace.parsing import parse_list

    if not 0.0 < args.eps < 1.0:
        raise UsageError(f"--eps must be in (0, 1), got {args.eps:g}")
    ops = tuple(parse_list(args.ops, "--ops operation")) if args.ops else None
    recipe = SearchRecipe(epochs=args.epochs, batch_size=args.batch_size, subset=args.subset,
                          eval_images=args.eval_images, es_k=args.early_stop)
    config = OneShotConfig(args.space, args.method, args.channels, args.cells, ops, args.pc, args.edge_norm, args.rule,
                           args.n_nbr, args.distance, args.neighbors, args.eps, args.aggregate, dataset=args.dataset,
                           data_dir=args.data_dir, val_size=args.val_size, seed=args.seed, recipe=recipe)
    check_config(config)
    return config


def run_search_cmd(args: argparse.Namespace) -> int:
    config = config_from_args(args)  # every check before any data or torch work
    if args.out and Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a directory; give a file path")
    from archspace.cli.supernet_cmd import apply_threads
    from archspace.oneshot.search import run_search
    from archspace.progress import ProgressBar

    apply_threads(args)
    with ProgressBar(f"oneshot {config.label} on {config.space}") as bar:
        result = run_search(config, args.checkpoint,
                            progress=lambda step, total, loss: bar.update(completed=step, total=total,
                                                                          status=f"loss {loss:.3f}"))
    if args.out:
        Path(args.out).write_text(json.dumps(strict_json(result), allow_nan=False))
    if args.json:
        print_json(result)
        return 0
    rows = [[h["epoch"], f"{h['train_loss']:.3f}", f"{h['arch_loss']:.3f}", f"{h['val_accuracy']:.1f}",
             f"{h['derived'].get('parameter_free_share', 0):.2f}",
             "" if h["eigenvalue"] is None else f"{h['eigenvalue']:.4f}"] for h in result["history"]]
    print_table(["epoch", "train loss", "arch loss", "supernet val acc %", "param-free share", "eigenvalue"], rows,
                title=f"{config.label} on {config.space} (seed {config.seed})")
    derived = result["derived"] or {}
    print(f"selected epoch {result['selected_epoch']}: {derived.get('text') or derived.get('spec')}")
    return 0


def run_genotypes(args: argparse.Namespace) -> int:
    from archspace.families.darts.family import DartsFamily
    from archspace.families.darts.genotypes import genotype_names, get_genotype

    plain, aux = DartsFamily(args.channels, args.cells), DartsFamily(args.channels, args.cells, auxiliary=True)
    rows = []
    for name in genotype_names():
        g = get_genotype(name)
        cx = plain.complexity(g)
        rows.append({"name": name, "params": cx.params, "params_with_auxiliary": aux.complexity(g).params,
                     "flops": cx.flops, "acts": cx.acts, **({"text": g.to_string()} if args.text else {})})
    if args.json:
        print_json(rows)
        return 0
    print_table(["genotype", "params", "params (+aux head)", "flops (MACs)", "acts"],
                [[r["name"], f"{r['params']:,}", f"{r['params_with_auxiliary']:,}", f"{r['flops']:,}", f"{r['acts']:,}"]
                 for r in rows], title=f"DARTS genotypes at C={args.channels}, {args.cells} cells, 32x32, 10 classes")
    if args.text:
        for r in rows:
            print(f"{r['name']} = {r['text']}")
    return 0
