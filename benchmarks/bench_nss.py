"""NSS speed and memory, measured side by side in one run (shared, noisy CPU: compare ratios).

1. The analytic samples-to-satisfy table (supplement Table 1) for all 12 RegNet regimes on the full
   expanded space (5.5e11 networks, exact counts) and the default partition (32,768 spaces):
   process CPU time (one core; numpy is single-threaded here) and wall time. Target: < 10 s.
2. One super-network weight step (soft Gumbel mixture over the partition's spaces, channel masks,
   depth sharing) against one step of the largest stand-alone network of the same (reduced)
   expanded space, same batch, interleaved repeats, medians; also the full search step (weight
   step + theta step on a second batch). Target: weight step <= 1.3x.
3. Peak memory of a few training steps of each, each in a fresh subprocess (increase of the peak
   resident set, VmHWM, over the set with torch, model and batch loaded). Target: <= 1.2x.

Run: ``.venv/bin/python benchmarks/bench_nss.py [--max-depth 4] [--max-width 64] [--batch 64]
[--resolution 32] [--repeats 7] [--json]``. torch uses 1 thread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F


def table_timing() -> dict:
    from archspace.nss.table import elite_table

    wall, cpu = time.perf_counter(), time.process_time()
    rows = elite_table()
    return {"regimes": len(rows), "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def _setup(kind: str, max_depth: int, max_width: int, batch: int, resolution: int, seed: int = 0):  # noqa: ANN202
    """(step function, model) for ``super`` (weight step), ``search`` (weight + theta step) or ``largest``."""
    from archspace.families import get_family
    from archspace.families.nss import NSSArch
    from archspace.families.nss.supernet import NSSSuperNet, SuperNetConfig
    from archspace.nss.partition import Partition
    from archspace.nss.search import mixture_choice

    torch.manual_seed(seed)
    images, labels = torch.randn(batch, 3, resolution, resolution), torch.randint(0, 10, (batch,))
    if kind == "largest":
        model = get_family("nss").build(NSSArch((max_depth,) * 3, (max_width,) * 3), num_classes=10)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)

        def step() -> None:
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(images), labels).backward()
            opt.step()
        return step, model
    part = Partition.uniform(max_depth, max_width, depth_bins=2 if max_depth % 2 == 0 else 1, width_bins=4)
    config = SuperNetConfig(max_depth, max_width, num_classes=10)
    model = NSSSuperNet(config)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    theta = torch.zeros(part.num_spaces, requires_grad=True)
    a_opt = torch.optim.Adam([theta], lr=3e-4)
    bounds = torch.as_tensor(part.bounds())
    gen = torch.Generator().manual_seed(seed)

    def draw(grad: bool):  # noqa: ANN202
        u = torch.rand(theta.shape, generator=gen).clamp(1e-10, 1 - 1e-10)
        g = torch.softmax((theta - torch.log(-torch.log(u))) / 1.0, 0)
        d = bounds[:, :, 0, 0] + (torch.rand(bounds.shape[:2], generator=gen) * (bounds[:, :, 0, 1] - bounds[:, :, 0, 0] + 1)).long()
        w = bounds[:, :, 1, 0] + (torch.rand(bounds.shape[:2], generator=gen) * (bounds[:, :, 1, 1] - bounds[:, :, 1, 0] + 1)).long()
        return mixture_choice(g if grad else g.detach(), d, w, config)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(images, draw(False)), labels).backward()
        opt.step()
        if kind == "search":
            a_opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(images, draw(True)), labels).backward()
            model.zero_grad(set_to_none=True)
            a_opt.step()
    return step, model


def step_ratio(args: argparse.Namespace) -> dict:
    kinds = ("largest", "super", "search")
    steps = {k: _setup(k, args.max_depth, args.max_width, args.batch, args.resolution)[0] for k in kinds}
    for step in steps.values():
        step()  # warm-up
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for _ in range(args.repeats):
        for kind in kinds:
            start = time.perf_counter()
            steps[kind]()
            times[kind].append(time.perf_counter() - start)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {"median_s": med, "super_over_largest": med["super"] / med["largest"],
            "search_over_largest": med["search"] / med["largest"]}


def _peak_child(kind: str, args: argparse.Namespace) -> dict:
    code = (
        "import sys, json, torch; torch.set_num_threads(1); sys.path.insert(0, 'benchmarks');"
        "import bench_nss as b;"
        f"step, model = b._setup({kind!r}, {args.max_depth}, {args.max_width}, {args.batch}, {args.resolution});"
        "rss = lambda key: int([l for l in open('/proc/self/status') if l.startswith(key)][0].split()[1]);"
        "base = rss('VmRSS:');"
        "[step() for _ in range(3)];"
        "print(json.dumps({'base_kb': base, 'peak_kb': rss('VmHWM:')}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def memory(args: argparse.Namespace) -> dict:
    result = {k: _peak_child(k, args) for k in ("largest", "super", "search")}
    grow = {k: v["peak_kb"] - v["base_kb"] for k, v in result.items()}
    return {"peak_kb": result, "increase_kb": grow, "super_over_largest": grow["super"] / grow["largest"],
            "search_over_largest": grow["search"] / grow["largest"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-depth", type=int, default=4)
    parser.add_argument("--max-width", type=int, default=64)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    report = {"settings": vars(args)}
    if not args.skip_table:
        report["table"] = table_timing()
    report["step"] = step_ratio(args)
    report["memory"] = memory(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        if "table" in report:
            t = report["table"]
            print(f"analytic table, {t['regimes']} regimes: {t['cpu_s']:.2f} s CPU, {t['wall_s']:.2f} s wall")
        s, m = report["step"], report["memory"]
        print(f"step (median of {args.repeats}): largest {s['median_s']['largest'] * 1e3:.1f} ms, super weight step "
              f"{s['median_s']['super'] * 1e3:.1f} ms ({s['super_over_largest']:.2f}x), full search step "
              f"{s['median_s']['search'] * 1e3:.1f} ms ({s['search_over_largest']:.2f}x)")
        print(f"peak memory increase: largest {m['increase_kb']['largest']} kB, super {m['increase_kb']['super']} kB "
              f"({m['super_over_largest']:.2f}x), search {m['increase_kb']['search']} kB ({m['search_over_largest']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
