"""Committees of three real CIFAR-100 models: regenerate docs/committees-cifar100.md's numbers.

    .venv/bin/python benchmarks/committee_cifar100.py [--data DIR] [--out docs/committees-cifar100]

The predictions are ../shared/data/predictions/cifar100 (softmax outputs of LeNet-5,
WideResNet-16-4 and DenseNet-BC-100 on the 10,000 CIFAR-100 test images). Their costs are the
analytic flops (multiply-adds of conv and linear layers, archspace's convention) of the standard
CIFAR definitions of the three architectures, counted here with ``archspace.complexity.counts``:

- LeNet-5: conv5x5 3->6, maxpool 2, conv5x5 6->16, maxpool 2, fc 400-120-84-100 (biases counted);
- WideResNet-16-4 (Zagoruyko & Komodakis 2016): conv3x3 3->16, three groups of 2 pre-activation
  basic blocks of widths 64, 128, 256 (strides 1, 2, 2; 1x1 projection shortcuts where the width
  or stride changes), global pool, fc 256->100;
- DenseNet-BC-100, k=12 (Huang et al. 2017): conv3x3 3->24, three dense blocks of 16 bottleneck
  layers (1x1 to 48, 3x3 to 12), transitions halving the channels (1x1 conv + 2x2 avg pool),
  global pool, fc 342->100.

A seeded half of the test set (seed 0) is the held-out split for choosing, the other half reports.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from archspace.committee.inputs import pool_from_npz
from archspace.committee.selection import SelectionConfig
from archspace.complexity.counts import (
    Complexity,
    CostTracker,
    avgpool2d,
    batchnorm2d,
    conv2d,
    linear,
    maxpool2d,
)
from archspace.experiments.committees import run_committees, write_outputs

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "predictions" / "cifar100"


def lenet5(classes: int = 100) -> Complexity:
    cx = CostTracker(32, 32)
    conv2d(cx, 3, 6, 5, padding=0, bias=True)
    maxpool2d(cx, 6, 2, 2, padding=0)
    conv2d(cx, 6, 16, 5, padding=0, bias=True)
    maxpool2d(cx, 16, 2, 2, padding=0)
    for w_in, w_out in ((16 * 5 * 5, 120), (120, 84), (84, classes)):
        linear(cx, w_in, w_out)
    return cx.result()


def wide_resnet(depth: int = 16, widen: int = 4, classes: int = 100) -> Complexity:
    blocks = (depth - 4) // 6
    cx = CostTracker(32, 32)
    conv2d(cx, 3, 16, 3)
    w_in = 16
    for group, stride in enumerate((1, 2, 2)):
        w_out = 16 * 2**group * widen
        for block in range(blocks):
            s = stride if block == 0 else 1
            h, w = cx.height, cx.width
            batchnorm2d(cx, w_in)
            conv2d(cx, w_in, w_out, 3, stride=s)
            batchnorm2d(cx, w_out)
            conv2d(cx, w_out, w_out, 3)
            if w_in != w_out or s != 1:
                shortcut = CostTracker(h, w)
                conv2d(shortcut, w_in, w_out, 1, stride=s, padding=0)
                cx.flops, cx.params, cx.acts = cx.flops + shortcut.flops, cx.params + shortcut.params, cx.acts + shortcut.acts
            w_in = w_out
    batchnorm2d(cx, w_in)
    linear(cx, w_in, classes)
    return cx.result()


def densenet_bc(depth: int = 100, growth: int = 12, classes: int = 100) -> Complexity:
    layers = (depth - 4) // 6
    cx = CostTracker(32, 32)
    channels = 2 * growth
    conv2d(cx, 3, channels, 3)
    for block in range(3):
        for _ in range(layers):
            batchnorm2d(cx, channels)
            conv2d(cx, channels, 4 * growth, 1, padding=0)
            batchnorm2d(cx, 4 * growth)
            conv2d(cx, 4 * growth, growth, 3)
            channels += growth
        if block < 2:
            batchnorm2d(cx, channels)
            conv2d(cx, channels, channels // 2, 1, padding=0)
            channels //= 2
            avgpool2d(cx, 2, 2, padding=0)
    batchnorm2d(cx, channels)
    linear(cx, channels, classes)
    return cx.result()


COMPLEXITY = {
    "lenet-5-cifar-100": lenet5,
    "wideresnet-16-4-cifar-100": wide_resnet,
    "densenet-bc-100-cifar-100": densenet_bc,
}


def budget_sweep(heldout, test) -> list[dict]:
    """At several flops budgets: the single model and the cascade chosen on held-out, on test."""
    rows = []
    print("\nbudget (M) | single (held-out choice): test acc | cascade: test acc, avg M, worst M")
    cost = dict(zip(heldout.names, heldout.costs.tolist(), strict=True))
    densenet, wrn = cost["densenet-bc-100-cifar-100"], cost["wideresnet-16-4-cifar-100"]
    for budget in (50e6, 100e6, 200e6, densenet, 330e6, wrn, 500e6, sum(cost.values())):
        report = run_committees(heldout, test, SelectionConfig(target_cost=budget), fronts=False)
        single, chosen = report.reference_single, report.chosen
        row = {"budget": budget, "single": single.describe(), "single_test_accuracy": single.accuracy,
               "single_cost": single.average_cost,
               "cascade": chosen.describe() if chosen else None,
               "cascade_test_accuracy": chosen.accuracy if chosen else None,
               "cascade_average_cost": chosen.average_cost if chosen else None,
               "cascade_worst_case_cost": chosen.worst_case_cost if chosen else None,
               "exit_ratio": report.selection.heldout.exit_ratio.tolist() if chosen else None}
        rows.append(row)
        print(f"{budget / 1e6:8.1f} | {single.describe():28s} {100 * single.accuracy:6.2f} | "
              f"{chosen.describe() if chosen else '-'}: {100 * chosen.accuracy:.2f}, "
              f"{chosen.average_cost / 1e6:.1f}, {chosen.worst_case_cost / 1e6:.1f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("docs/committees-cifar100"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    counts = {name: build() for name, build in COMPLEXITY.items()}
    for name, c in counts.items():
        print(f"{name:28s} flops {c.flops / 1e6:9.2f} M   params {c.params / 1e6:6.3f} M")
    pool = pool_from_npz(args.data, costs={name: float(c.flops) for name, c in counts.items()})
    heldout, test = pool.split(0.5, seed=args.seed)
    results = {}
    best = int(heldout.accuracies().argmax())
    configs = {
        "match best single accuracy": SelectionConfig(target_accuracy=float(heldout.accuracies()[best])),
        "at best single cost": SelectionConfig(target_cost=float(heldout.costs[best])),
        "at best single cost, worst case <= 2x": SelectionConfig(target_cost=float(heldout.costs[best]),
                                                                worst_case_cost=2 * float(heldout.costs[best])),
    }
    for label, config in configs.items():
        report = run_committees(heldout, test, config, fronts=(label == "match best single accuracy"))
        if label == "match best single accuracy":
            write_outputs(report, args.out, "CIFAR-100: committees of LeNet-5, WRN-16-4, DenseNet-BC-100",
                          "average cost (analytic multiply-adds per image)")
        results[label] = report.to_dict()
        chosen = report.chosen
        print(f"\n{label}: {chosen.describe() if chosen else 'none'}")
        print(json.dumps({"test": chosen.to_dict() if chosen else None, "single": report.reference_single.to_dict(),
                          "gain": report.gain()}, indent=1))
    sweep = budget_sweep(heldout, test)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"flops": {n: c.to_dict() for n, c in counts.items()},
               "heldout_accuracy": dict(zip(heldout.names, heldout.accuracies().tolist(), strict=True)),
               "test_accuracy": dict(zip(test.names, test.accuracies().tolist(), strict=True)),
               "results": results, "budget_sweep": sweep}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
