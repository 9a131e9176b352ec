"""End-to-end committees on Fashion-MNIST: train a pool in a study, then select cascades.

    .venv/bin/python benchmarks/committee_fashion_mnist.py [--db runs/committee-fmnist.db]
        [--epochs 3] [--subset N] [--lr 0.05] [--workers 2] [--out docs/committees-fashion-mnist] [--dry-run]

1. Four RegNetX-style networks at four cost levels (RegNet parameters below, CIFAR-style stem for
   28x28 inputs), each trained twice (two seeds) with ``archspace.train`` under one recipe, as the
   trials of a study (``archspace.experiments.committees.train_pool``): interrupt and rerun to resume.
2. The trainer's validation logits (5,000 held-out training images) choose; its test logits
   (the 10,000 test images) report.
3. Select the cheapest cascade (<= 4 members) whose held-out accuracy matches the largest model's
   (the better of its two seeds on held-out), report its test accuracy and average-flops speedup,
   and write the committee figure and table to ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from archspace.committee.inputs import pools_from_study
from archspace.committee.selection import SelectionConfig
from archspace.experiments.committees import run_committees, train_pool, write_outputs
from archspace.families import family_for
from archspace.spaces.regnet import RegNetParams, regnet_to_anynet

LEVELS = {
    "xs": RegNetParams(depth=3, w0=8, wa=8.0, wm=2.0, group_width=8),
    "s": RegNetParams(depth=4, w0=16, wa=8.0, wm=2.0, group_width=8),
    "m": RegNetParams(depth=6, w0=24, wa=16.0, wm=2.2, group_width=8),
    "l": RegNetParams(depth=8, w0=32, wa=24.0, wm=2.4, group_width=16),
}


def pool_archs() -> dict[str, object]:
    return {level: regnet_to_anynet(p, block="X", stem_width=16, stem="res_stem_cifar", se_ratio=0.0)
            for level, p in LEVELS.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="runs/committee-fmnist.db")
    parser.add_argument("--study", default="committee-fmnist")
    parser.add_argument("--dataset", default="fashion-mnist", help="any archspace dataset name (digits: a quick check)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--subset", type=int, default=None, help="training images per model (default: all 55,000)")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate of the recipe (default 0.05)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path("docs/committees-fashion-mnist"))
    parser.add_argument("--dry-run", action="store_true", help="print the pool's flops and stop")
    args = parser.parse_args()

    archs = pool_archs()
    for level, arch in archs.items():
        cx = family_for(arch).complexity(arch, resolution=28, num_classes=10, in_channels=1)  # Fashion-MNIST
        print(f"{level:3s} flops {cx.flops / 1e6:7.2f} M  params {cx.params / 1e6:6.3f} M  {arch}")
    if args.dry_run:
        return

    from archspace.evaluators.training import TrainingEvaluator
    from archspace.study.executors import make_executor
    from archspace.train import Recipe

    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    evaluator = TrainingEvaluator(args.dataset, Recipe(epochs=args.epochs, subset=args.subset, lr=args.lr), device=args.device)
    executor = make_executor(workers=args.workers) if args.workers > 1 else None
    train_pool(args.study, args.db, list(archs.values()), evaluator, repeats=2, executor=executor, progress=True)

    heldout, test = pools_from_study(args.study, args.db)
    largest = heldout.costs.max()
    candidates = [i for i, c in enumerate(heldout.costs) if c == largest]
    best_large = max(candidates, key=lambda i: heldout.accuracies()[i])
    target = float(heldout.accuracies()[best_large])
    config = SelectionConfig(target_accuracy=target)
    report = run_committees(heldout, test, config)
    paths = write_outputs(report, args.out, f"{args.dataset}: RegNetX-style pool (4 sizes x 2 seeds)",
                          "average cost (analytic multiply-adds per image)")
    large_test = float(test.accuracies()[best_large])
    summary = {
        "dataset": args.dataset,
        "recipe": {"epochs": args.epochs, "subset": args.subset, "lr": args.lr},
        "members": {name: {"flops": float(c), "heldout_accuracy": float(a), "test_accuracy": float(t)}
                    for name, c, a, t in zip(heldout.names, heldout.costs, heldout.accuracies(), test.accuracies(),
                                             strict=True)},
        "largest_model": heldout.names[best_large],
        "target_heldout_accuracy": target,
        "largest_test_accuracy": large_test,
        "selected": report.to_dict()["selected"],
        "speedup_vs_largest": None if report.chosen is None else float(largest / report.chosen.average_cost),
        "search": report.selection.stats.to_dict(),
    }
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print("wrote", ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
