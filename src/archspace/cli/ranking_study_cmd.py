"""`archspace ranking-study`: supernet-vs-ground-truth ranking correlation over a grid of variations.

Trains one supernet per (variation, seed), ranks the ground-truth cells with each, and writes
``report.json``, figures and ``report.html`` to ``--out``. Re-running the same command resumes:
finished stand-alone trainings, supernets and rankings are reused.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from archspace.cli.common import add_json_flag, check_seeds, print_json, print_table
from archspace.cli.supernet_cmd import add_data_args, add_supernet_args, apply_threads, spos_recipe
from archspace.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ranking-study", help="ranking correlation of supernets vs ground truth, per variation",
                              description=__doc__)
    p.add_argument("--out", required=True, help="output directory (study.db, supernets/, report.*)")
    add_data_args(p)
    add_supernet_args(p)
    p.add_argument("--variations", default="baseline,masked-none,fair",
                   help="comma-separated variation names, each may join switches with + (e.g. masked-none+fair)")
    p.add_argument("--seeds", default="0,1", help="supernet seeds, comma-separated")
    p.add_argument("--ground-truth", default="train", help="train (stand-alone training) or table:<metric>")
    p.add_argument("--gt-cells", type=int, default=30, help="ground-truth cells (default 30)")
    p.add_argument("--gt-ops", default=None, help="ops of the ground-truth space (default: ops all variations allow)")
    p.add_argument("--gt-epochs", type=int, default=3)
    p.add_argument("--gt-batch-size", type=int, default=128)
    p.add_argument("--gt-lr", type=float, default=0.05)
    p.add_argument("--gt-seed", type=int, default=0, help="seed of the ground-truth cell sample")
    p.add_argument("--bn-batches", type=int, default=4, help="BN recompute batches per cell (0 = off)")
    p.add_argument("--bn-batch-size", type=int, default=128)
    p.add_argument("--variation-list", action="store_true", help="list the known variation switches and exit")
    add_json_flag(p)
    p.set_defaults(handler=run, path_options={"out": "dir"})


def run(args: argparse.Namespace) -> int:
    seeds = check_seeds([int(s) for s in args.seeds.split(",") if s.strip() and _is_int(s, "--seeds")])
    if not seeds and not args.variation_list:
        raise UsageError(f"--seeds: no seed given, got {args.seeds!r}")
    from archspace.experiments.ranking_study import (
        VARIATIONS,
        RankingStudyConfig,
        run_ranking_study,
    )
    from archspace.families.nb201.supernet import PRESETS
    from archspace.parsing import parse_list
    from archspace.train import Recipe

    if args.variation_list:
        print_table(["variation", "switches"], [[k, str(v)] for k, v in VARIATIONS.items()])
        return 0
    apply_threads(args)
    n, c = PRESETS[args.preset]
    config = RankingStudyConfig(
        out_dir=args.out, dataset=args.dataset, data_dir=args.data_dir, val_size=args.val_size,
        split_seed=args.split_seed, train_subset=args.train_subset,
        cells_per_stage=args.cells_per_stage or n, channels=args.channels or c,
        supernet_recipe=spos_recipe(args), variations=parse_list(args.variations, "--variations variation"), seeds=seeds,
        ground_truth=args.ground_truth, gt_cells=args.gt_cells,
        gt_ops=None if args.gt_ops is None else parse_list(args.gt_ops, "--gt-ops operation"),
        gt_recipe=Recipe(epochs=args.gt_epochs, batch_size=args.gt_batch_size, lr=args.gt_lr),
        gt_seed=args.gt_seed, bn_batches=args.bn_batches, bn_batch_size=args.bn_batch_size, device=args.device,
    )
    command = "archspace " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else None
    report = run_ranking_study(config, log=lambda m: print(m, file=sys.stderr), command_line=command,
                               progress=not args.json)
    if args.json:
        print_json({"out": args.out, "results": {v: r["aggregate"] for v, r in report["results"].items()}})
        return 0
    rows = []
    for variation, result in report["results"].items():
        agg = result["aggregate"]
        rows.append([variation, agg["count"], _pm(agg["all"]["kendall"]), _pm(agg["all"]["spearman"]),
                     _pm(agg["all"]["pearson"]), _pm(agg["tau_a"])])
    print_table(["variation", "cells", "Kendall tau", "Spearman", "Pearson", "tau_a"], rows,
                title=f"ranking study in {args.out} (mean +- std over seeds {list(seeds)})")
    print(f"report: {args.out}/report.html")
    return 0


def _pm(stat: dict[str, Any]) -> str:
    return f"{stat['mean']:+.3f} +- {stat['std']:.3f}"


def _is_int(text: str, option: str) -> bool:
    try:
        int(text)
    except ValueError:
        raise UsageError(f"{option}: expected integers, got {text!r}") from None
    return True
