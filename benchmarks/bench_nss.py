"""NSS speed and memory, measured side by side in one run (shared, noisy CPU: compare ratios).

1. The analytic samples-to-satisfy table (supplement Table 1) for all 12 RegNet regimes on the full
   expanded space (5.5e11 networks, exact counts) and the default partition (32,768 spaces):
   process CPU time (one core; numpy is single-threaded here) and wall time. Target: < 10 s.
2. Steps of the real search code (``archspace.nss.search._Search``) against one training step of
   the largest stand-alone network of the same (reduced) expanded space, same batch, same SGD
   settings (momentum 0.9, wd 3e-4, gradient clip 5), arms interleaved in one process (order
   rotating each repeat), medians of wall and thread CPU time:

   - ``weight``: the super-network step, SGD on the weights for a soft Gumbel mixture over the
     partition's spaces (channel masks, depth sharing) on a training batch. Target: <= 1.3x.
   - ``theta``: the architecture step of the DARTS-style alternation, Adam on theta for a fresh
     Gumbel draw on a validation batch with the FLOPs term (backward asked for theta only).
   - ``theta_full``: the same theta step with a full backward (every weight gradient computed, then
     dropped), as the search did before session 4: what asking for theta's gradient alone saves.
   - ``search``: one whole iteration of the alternation (``train_step``: weight step + theta step).
3. Peak memory of 3 steps of each arm, each in a fresh subprocess: the increase of the peak
   resident set (VmHWM) over the set before them, "cold" (right after setup: includes one-off
   first-call costs) and "warm" (after one step; VmHWM reset via /proc/self/clear_refs).
   Target: <= 1.2x. Beside it, allocator-free: the bytes of the distinct tensors autograd saves
   for backward in one step (the activation memory), via ``saved_tensors_hooks``, and the
   parameter bytes (equal by construction: the super network holds the largest network's weights).

Run: ``.venv/bin/python benchmarks/bench_nss.py [--max-depth 2] [--max-width 32] [--batch 32]
[--resolution 32] [--repeats 7] [--skip-table] [--json]``. torch uses 1 thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

ARMS = ("largest", "weight", "theta", "theta_full", "search")


def table_timing() -> dict:
    from archspace.nss.table import elite_table

    wall, cpu = time.perf_counter(), time.process_time()
    rows = elite_table()
    return {"regimes": len(rows), "cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall}


def _dataset(batch: int, resolution: int, seed: int):  # noqa: ANN202
    from archspace.data.dataset import dataset_from_arrays

    rng = np.random.default_rng(seed)
    n = 4 * batch
    images = rng.integers(0, 256, size=(n, 3, resolution, resolution), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n)
    return dataset_from_arrays("bench", images, labels, images[:batch], labels[:batch], num_classes=10,
                               val_size=2 * batch, seed=seed)


def setup(max_depth: int, max_width: int, batch: int, resolution: int, seed: int = 0) -> dict[str, Callable[[], None]]:
    """One step function per arm (the search arms share one ``_Search``; each call is a new step)."""
    from archspace.families import get_family
    from archspace.families.nss import NSSArch
    from archspace.nss.partition import Partition
    from archspace.nss.regimes import FlopsRegime
    from archspace.nss.search import NSSSearchConfig, _Search, flops_deviation, mixture_choice
    from archspace.train.schedule import sgd

    torch.manual_seed(seed)
    data = _dataset(batch, resolution, seed)
    part = Partition.uniform(max_depth, max_width, depth_bins=2 if max_depth % 2 == 0 else 1, width_bins=4)
    regime = FlopsRegime("bench", 0.0, 1e15)
    config = NSSSearchConfig(regime, part, epochs=2, warmup_epochs=1, batch_size=batch, steps_per_epoch=1000)
    search = _Search(config, data, seed, torch.device("cpu"), None)
    counter = {"step": search.warmup_steps}

    def next_draw() -> tuple[int, np.ndarray, np.ndarray]:
        step = counter["step"]
        counter["step"] = search.warmup_steps + (step + 1 - search.warmup_steps) % (search.total_steps - search.warmup_steps)
        return (step, *search._draw_architectures(step))

    model = get_family("nss").build(NSSArch((max_depth,) * 3, (max_width,) * 3), num_classes=10)
    model.train()
    opt = sgd(model, config.lr, config.momentum, config.weight_decay, decay_1d=False)
    images, labels = data.train.images[:batch], data.train.labels[:batch]

    def largest() -> None:
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(images), labels).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        model.zero_grad(set_to_none=True)  # as the search's weight step does

    def weight() -> None:
        step, d, w = next_draw()
        search.weight_step(step, d, w)

    def theta() -> None:
        step, d, w = next_draw()
        search.arch_step(step, d, w)

    def theta_full() -> None:  # arch_step as it was: full backward, weight gradients then dropped
        step, d, w = next_draw()
        dt, wt = torch.as_tensor(d), torch.as_tensor(w)
        g = search._gumbel(step + search.total_steps, search.tau_at(step))
        val_images, val_labels = search._batch("val", step)
        search.a_opt.zero_grad(set_to_none=True)
        deviation = torch.as_tensor(flops_deviation(search.lookup.flops(d, w), regime), dtype=g.dtype)
        loss = F.cross_entropy(search.net(val_images, mixture_choice(g, dt, wt, search.net_config)), val_labels)
        (loss + config.flops_weight * (g * deviation).sum()).backward()
        search.net.zero_grad(set_to_none=True)
        search.a_opt.step()

    def full() -> None:
        step = next_draw()[0]
        search.train_step(step)

    search.net.train()
    return {"largest": largest, "weight": weight, "theta": theta, "theta_full": theta_full, "search": full,
            "_models": {"largest": model, "super": search.net}}


def step_ratio(args: argparse.Namespace) -> dict:
    steps = setup(args.max_depth, args.max_width, args.batch, args.resolution)
    for kind in ARMS:
        steps[kind]()  # warm-up
    wall: dict[str, list[float]] = {k: [] for k in ARMS}
    cpu: dict[str, list[float]] = {k: [] for k in ARMS}
    for repeat in range(args.repeats):
        order = ARMS[repeat % len(ARMS):] + ARMS[:repeat % len(ARMS)]
        for kind in order:
            w0, c0 = time.perf_counter(), time.thread_time()
            steps[kind]()
            cpu[kind].append(time.thread_time() - c0)
            wall[kind].append(time.perf_counter() - w0)
    med_wall = {k: statistics.median(v) for k, v in wall.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    return {"median_wall_s": med_wall, "median_cpu_s": med_cpu,
            "wall_over_largest": {k: med_wall[k] / med_wall["largest"] for k in ARMS},
            "cpu_over_largest": {k: med_cpu[k] / med_cpu["largest"] for k in ARMS}}


def _peak_child(kind: str, args: argparse.Namespace) -> dict:
    """Peak RSS increase of 3 steps of ``kind`` in a fresh process. ``cold``: over the RSS right
    after setup (includes the first call's one-off costs: library code pages of every kernel
    touched, allocator arenas, optimizer state); ``warm``: one step first, then the peak (VmHWM
    reset through /proc/self/clear_refs) over the RSS after it, i.e. what steps cost once running.
    Every arm leaves its weight gradients dropped after a step, so both start from the same state."""
    code = (
        "import sys, json, gc, torch; torch.set_num_threads(1); sys.path.insert(0, 'benchmarks');"
        "import bench_nss as b;"
        f"steps = b.setup({args.max_depth}, {args.max_width}, {args.batch}, {args.resolution});"
        "rss = lambda key: int([l for l in open('/proc/self/status') if l.startswith(key)][0].split()[1]);"
        "cold = rss('VmRSS:');"
        f"[steps[{kind!r}]() for _ in range(3)];"
        "cold_peak = rss('VmHWM:');"
        "gc.collect(); warm = rss('VmRSS:');"
        "open('/proc/self/clear_refs', 'w').write('5');"
        f"[steps[{kind!r}]() for _ in range(3)];"
        "print(json.dumps({'cold_base_kb': cold, 'cold_peak_kb': cold_peak, 'warm_base_kb': warm,"
        " 'warm_peak_kb': rss('VmHWM:')}))"
    )
    # A fixed mmap threshold: glibc then returns every large block to the system when it is freed
    # (no dynamic threshold, no cached heap), so the resident set follows the live tensors.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def saved_bytes(args: argparse.Namespace) -> dict:
    """Bytes of the distinct tensors autograd saves for backward in one step of each arm (the
    activation memory, exact and allocator-independent), and the parameter bytes of each net."""
    steps = setup(args.max_depth, args.max_width, args.batch, args.resolution)
    out: dict = {}
    for kind in ARMS:
        storages: dict[int, int] = {}

        def pack(t: torch.Tensor, storages: dict[int, int] = storages) -> torch.Tensor:
            storage = t.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
            return t

        steps[kind]()  # warm
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            steps[kind]()
        out[kind] = sum(storages.values())
    params = {k: sum(p.numel() * p.element_size() for p in m.parameters()) for k, m in steps["_models"].items()}
    return {"saved_bytes": out, "saved_over_largest": {k: out[k] / out["largest"] for k in ARMS},
            "parameter_bytes": params}


def memory(args: argparse.Namespace) -> dict:
    result = {k: _peak_child(k, args) for k in ARMS}
    out: dict = {"raw_kb": result}
    for mode in ("cold", "warm"):
        grow = {k: v[f"{mode}_peak_kb"] - v[f"{mode}_base_kb"] for k, v in result.items()}
        out[f"{mode}_increase_kb"] = grow
        out[f"{mode}_over_largest"] = {k: grow[k] / max(grow["largest"], 1) for k in ARMS}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-depth", type=int, default=2)
    parser.add_argument("--max-width", type=int, default=32)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--skip-steps", action="store_true", help="memory only")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    report: dict = {"settings": vars(args)}
    if not args.skip_table:
        report["table"] = table_timing()
    if not args.skip_steps:
        report["step"] = step_ratio(args)
    report["memory"] = memory(args)
    report["saved"] = saved_bytes(args)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if "table" in report:
        t = report["table"]
        print(f"analytic table, {t['regimes']} regimes: {t['cpu_s']:.2f} s CPU, {t['wall_s']:.2f} s wall")
    s, m = report.get("step"), report["memory"]
    for kind in ARMS:
        timing = "" if s is None else (
            f"{s['median_wall_s'][kind] * 1e3:8.1f} ms wall ({s['wall_over_largest'][kind]:.2f}x), "
            f"{s['median_cpu_s'][kind] * 1e3:8.1f} ms CPU ({s['cpu_over_largest'][kind]:.2f}x); ")
        print(f"{kind:10s} step: {timing}peak memory cold +{m['cold_increase_kb'][kind]} kB "
              f"({m['cold_over_largest'][kind]:.2f}x), warm +{m['warm_increase_kb'][kind]} kB "
              f"({m['warm_over_largest'][kind]:.2f}x); saved for backward {report['saved']['saved_bytes'][kind]} B "
              f"({report['saved']['saved_over_largest'][kind]:.2f}x)")
    print(f"parameter bytes: {report['saved']['parameter_bytes']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
