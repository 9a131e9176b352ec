"""Speed of exhaustive cascade selection (issue 7), measured side by side in one run.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_committee.py [--quick]

Pool: 8 members built from the three real CIFAR-100 models (../shared/data/predictions/cifar100,
all 10,000 test images used as the held-out split for choosing): the three models as they are;
WRN-16-4 at temperature 0.5 and DenseNet-BC-100 at temperature 2 (log-probabilities divided by T);
and each of the three with seeded Gaussian noise (sigma 1, seed 0/1/2) added to its
log-probabilities, which changes its per-example predictions like an independently trained member
would. Each member costs its original model's analytic flops (benchmarks/committee_cifar100.py).

Measured:
1. the issue's search: 8 models, n <= 4, ordered combinations *with* repeats (8^2+8^3+8^4 =
   4,672 of 2-4 members, plus the 8 singles), every threshold setting, no pruning; then the same
   with pruning, and the 2,072 (+8) combinations of distinct members with and without pruning;
2. scaling with pool size M in {4, 6, 8} and n in {2, 3, 4} (distinct members, no pruning);
3. the vectorized threshold search against a Python loop over the same thresholds
   (every setting evaluated one by one with numpy over the examples) on 2-model cascades.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from pathlib import Path

import numpy as np

from archspace.committee.cascade import Cascade, exits, stage_outputs
from archspace.committee.inputs import PredictionPool, pool_from_npz
from archspace.committee.selection import SelectionConfig, count_ordered, select_cascade

sys.path.insert(0, str(Path(__file__).parent))
from committee_cifar100 import COMPLEXITY, DATA  # noqa: E402


def eight_model_pool() -> PredictionPool:
    costs = {name: float(build().flops) for name, build in COMPLEXITY.items()}
    base = pool_from_npz(DATA, costs=costs)
    short = {"lenet-5-cifar-100": "lenet", "wideresnet-16-4-cifar-100": "wrn", "densenet-bc-100-cifar-100": "densenet"}
    names, logits, member_costs = [], [], []

    def add(name: str, values: np.ndarray, source: str) -> None:
        names.append(name)
        logits.append(values.astype(np.float32))
        member_costs.append(costs[source])

    for source in base.names:
        add(short[source], base.logits[base.index(source)], source)
    add("wrn-T0.5", base.logits[base.index("wideresnet-16-4-cifar-100")] / 0.5, "wideresnet-16-4-cifar-100")
    add("densenet-T2", base.logits[base.index("densenet-bc-100-cifar-100")] / 2.0, "densenet-bc-100-cifar-100")
    for seed, source in enumerate(base.names):
        noise = np.random.default_rng(seed).normal(size=base.logits.shape[1:])
        add(f"{short[source]}-noise", base.logits[base.index(source)] + noise, source)
    return PredictionPool(tuple(names), np.stack(logits), base.labels, np.asarray(member_costs))


def timed_search(pool: PredictionPool, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, selection): on a shared, overloaded machine the
    CPU time is the better estimate of the wall time on a free core."""
    start, cpu = time.perf_counter(), time.process_time()
    selection = select_cascade(pool, SelectionConfig(**kwargs))
    return time.perf_counter() - start, time.process_time() - cpu, selection


def python_loop_seconds_per_setting(pool: PredictionPool, pairs: int = 3, settings: int = 400) -> float:
    """Seconds per threshold setting when each setting is evaluated on its own (numpy over examples)."""
    total, count = 0.0, 0
    for first, second in list(itertools.permutations(range(pool.num_models), 2))[:pairs]:
        cascade = Cascade((pool.names[first], pool.names[second]), (1.0,))
        confidences, predictions = stage_outputs(pool, cascade)
        costs = np.cumsum(pool.costs[[first, second]])
        candidates = np.unique(confidences[0])[:settings]
        start = time.perf_counter()
        best = -1.0
        for threshold in candidates:
            stage = exits(confidences, (float(threshold),))
            accuracy = (predictions[stage, np.arange(pool.num_examples)] == pool.labels).mean()
            if costs[stage].mean() <= costs[1] and accuracy > best:
                best = accuracy
        total += time.perf_counter() - start
        count += candidates.size
    return total / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the scaling table")
    args = parser.parse_args()
    pool = eight_model_pool()
    budget = float(pool.costs[pool.index("wrn")])
    print(f"pool: {pool.num_models} models x {pool.num_examples} examples x {pool.num_classes} classes; "
          f"accuracies {np.round(100 * pool.accuracies(), 2).tolist()}")
    print(f"target: average flops <= {budget / 1e6:.1f} M (WRN-16-4); load average {os.getloadavg()[0]:.1f}\n")

    print("1. exhaustive search, 8 models, n <= 4")
    runs = [("with repeats, no pruning", dict(allow_repeats=True, prune=False)),
            ("with repeats, pruning", dict(allow_repeats=True, prune=True)),
            ("distinct, no pruning", dict(allow_repeats=False, prune=False)),
            ("distinct, pruning", dict(allow_repeats=False, prune=True))]
    for label, options in runs:
        seconds, cpu, selection = timed_search(pool, target_cost=budget, max_models=4, **options)
        stats = selection.stats
        combos = count_ordered(8, 4, options["allow_repeats"])
        print(f"  {label:26s} {combos:5d} combinations: wall {seconds:6.1f} s  cpu {cpu:6.1f} s  evaluated {stats.cascades_evaluated:5d}"
              f"  pruned {stats.cascades_pruned:5d}  settings {stats.settings_evaluated / 1e6:7.1f} M  "
              f"-> {selection.cascade.describe() if selection.cascade else None}  "
              f"held-out acc {100 * selection.heldout.accuracy:.2f}% at {selection.heldout.average_cost / 1e6:.1f} M")
        sys.stdout.flush()

    if not args.quick:
        print("\n2. scaling (distinct members, no pruning): wall / cpu seconds (ordered combinations)")
        print("   M \\ n " + "".join(f"{n:>10d}" for n in (2, 3, 4)))
        for size in (4, 6, 8):
            sub = pool.take_models(list(range(size)))
            row = []
            for n in (2, 3, 4):
                seconds, cpu, _ = timed_search(sub, target_cost=budget, max_models=n, prune=False)
                row.append(f"{seconds:6.1f}/{cpu:5.1f} ({count_ordered(size, n)})")
            print(f"   {size:5d}  " + " ".join(row))
            sys.stdout.flush()

    print("\n3. threshold search: vectorized vs a Python loop over settings (2-model cascades)")
    per_setting = python_loop_seconds_per_setting(pool)
    seconds, _, selection = timed_search(pool, target_cost=budget, max_models=2, prune=False)
    settings = selection.stats.settings_evaluated
    print(f"  loop: {1e3 * per_setting:.3f} ms per setting -> {per_setting * settings:.0f} s for the "
          f"{settings:,} settings of all 2-model cascades; vectorized: {seconds:.2f} s "
          f"(ratio {per_setting * settings / seconds:.0f}x)")


if __name__ == "__main__":
    main()
