"""Supernet speed and memory, measured side by side in one run (shared, noisy CPU: compare ratios).

1. One training step of the supernet (uniform single path; the all-``nor_conv_3x3`` path = the
   largest sub-network; a fair step = |O| paths) against one step of the largest stand-alone
   network of the same macro size (every edge ``nor_conv_3x3``), same batch, interleaved repeats,
   medians. Target: supernet step <= 1.3x the stand-alone step.
2. Peak memory of a few training steps, each in a fresh subprocess (peak resident set, VmHWM, and
   its increase over the resident set with torch and the batch loaded). Target: <= 1.2x.
3. Inherited-weight evaluation of random sub-networks (BN recompute on 2 x 128 training images
   included) on 1,000 validation images; the per-sub-network time x 1,000 is reported next to the
   5-minute target unless ``--subnets 1000`` measures all of them.

Run: ``.venv/bin/python benchmarks/bench_supernet.py [--preset small] [--batch 128] [--subnets 20]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from archspace.evaluators.supernet import BNRecompute, evaluate_cells
from archspace.families.nb201.modules import NB201Network
from archspace.families.nb201.supernet import PRESETS, NB201Supernet, SupernetConfig
from archspace.families.nb201.table import OPS
from archspace.spaces.nb201 import NB201Space
from archspace.train.supernet import FairSampler, SPOSRecipe, UniformSampler, param_groups

LARGEST = ("nor_conv_3x3",) * 6


def step_fn(model, optimizer, images, labels, paths=None):
    def step():
        optimizer.zero_grad(set_to_none=True)
        for path in ([None] if paths is None else paths()):
            logits = model(images) if path is None else model(images, path, transformers=True)
            F.cross_entropy(logits, labels).backward()
        optimizer.step()
    return step


def time_steps(named_steps: dict, repeats: int) -> dict[str, float]:
    """Median seconds per call, calls interleaved so load changes hit all alike."""
    times = {name: [] for name in named_steps}
    for fn in named_steps.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in named_steps.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(v) for name, v in times.items()}


MEMORY_SCRIPT = """
import sys, json, torch, torch.nn.functional as F
from archspace.families.nb201.modules import NB201Network
from archspace.families.nb201.supernet import NB201Supernet, SupernetConfig
from archspace.train.supernet import UniformSampler, param_groups, SPOSRecipe
n, c, batch, which = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
torch.manual_seed(0)
images, labels = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
def status(key):  # kB; VmHWM (peak resident) is per address space, reset by exec, unlike ru_maxrss
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(key + ":"))
base = status("VmRSS")
if which == "standalone":
    model = NB201Network(("nor_conv_3x3",) * 6, channels=c, cells_per_stage=n, num_classes=10, in_channels=1)
    run = lambda: model(images)
else:
    model = NB201Supernet(SupernetConfig(cells_per_stage=n, channels=c, in_channels=1))
    run = lambda: model(images, ("nor_conv_3x3",) * 6, transformers=True)
opt = torch.optim.SGD(param_groups(model, SPOSRecipe()), lr=0.01, momentum=0.9)
for _ in range(3):
    opt.zero_grad(); F.cross_entropy(run(), labels).backward(); opt.step()
peak = status("VmHWM")
print(json.dumps({"base_mb": base / 1024, "peak_mb": peak / 1024}))
"""


def peak_memory(n: int, c: int, batch: int, which: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(n), str(c), str(batch), which],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="small")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--subnets", type=int, default=20)
    parser.add_argument("--val-images", type=int, default=1000)
    args = parser.parse_args()
    n, c = PRESETS[args.preset]
    torch.manual_seed(0)
    images, labels = torch.randn(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,))
    print(f"preset {args.preset} (N={n}, C={c}), batch {args.batch}, 1x28x28 inputs, {torch.get_num_threads()} threads")

    standalone = NB201Network(LARGEST, channels=c, cells_per_stage=n, num_classes=10, in_channels=1)
    supernet = NB201Supernet(SupernetConfig(cells_per_stage=n, channels=c, in_channels=1))
    recipe = SPOSRecipe()
    opt_a = torch.optim.SGD(param_groups(standalone, recipe), lr=0.01, momentum=0.9)
    opt_b = torch.optim.SGD(param_groups(supernet, recipe), lr=0.01, momentum=0.9)
    uniform, fair = UniformSampler(OPS, 1, 0), FairSampler(OPS, 1, 0)
    counter = iter(range(10**9))
    steps = {
        "standalone_largest": step_fn(standalone, opt_a, images, labels),
        "supernet_largest_path": step_fn(supernet, opt_b, images, labels, lambda: [np.array([3] * 6)]),
        "supernet_uniform_path": step_fn(supernet, opt_b, images, labels, lambda: uniform.draw(next(counter))),
        "supernet_fair_step_5_paths": step_fn(supernet, opt_b, images, labels, lambda: fair.draw(next(counter))),
    }
    times = time_steps(steps, args.repeats)
    base = times["standalone_largest"]
    print("\n1. training step, median seconds (ratio to the largest stand-alone network)")
    for name, seconds in times.items():
        print(f"  {name:30s} {seconds * 1000:9.1f} ms   {seconds / base:5.2f}x")

    print("\n2. peak memory of 3 training steps (fresh subprocess each)")
    mem = {which: peak_memory(n, c, args.batch, which) for which in ("standalone", "supernet")}
    for which, m in mem.items():
        print(f"  {which:12s} peak RSS {m['peak_mb']:8.1f} MB   increase over import+data {m['peak_mb'] - m['base_mb']:8.1f} MB")
    ratio_total = mem["supernet"]["peak_mb"] / mem["standalone"]["peak_mb"]
    ratio_incr = (mem["supernet"]["peak_mb"] - mem["supernet"]["base_mb"]) / (mem["standalone"]["peak_mb"] - mem["standalone"]["base_mb"])
    params = (supernet.num_parameters(), sum(p.numel() for p in standalone.parameters()))
    print(f"  ratio supernet / stand-alone: peak RSS {ratio_total:.2f}x, increase {ratio_incr:.2f}x (target <= 1.2x); "
          f"parameters {params[0]:,} vs {params[1]:,} ({params[0] / params[1]:.2f}x)")

    print(f"\n3. inherited-weight evaluation, BN recompute 2 x 128, {args.val_images} validation images")
    supernet.eval()
    cells = NB201Space().sample_distinct(args.subnets, 0)
    val_x, val_y = torch.randn(args.val_images, 1, 28, 28), torch.randint(0, 10, (args.val_images,))
    train_x = torch.randn(2048, 1, 28, 28)
    start = time.perf_counter()
    evaluate_cells(supernet, cells, val_x, val_y, bn=BNRecompute(2, 128), train_images=train_x, batch_size=500)
    seconds = time.perf_counter() - start
    per = seconds / args.subnets
    print(f"  {args.subnets} sub-networks in {seconds:.1f} s: {per:.2f} s each -> 1,000 sub-networks "
          f"{'measured' if args.subnets >= 1000 else 'projected'} {per * 1000 / 60:.1f} min (target < 5 min)")


if __name__ == "__main__":
    main()
