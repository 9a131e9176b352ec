"""Before/after of a code change on the hot paths, side by side in one run (issue 11: "not slower").

The source tree of ``--before`` (a git revision) is exported to a temporary folder; each round
runs the same probe once against that tree and once against this checkout, each in a fresh
process (one torch thread), alternating so that machine load hits both alike. Each figure is the
best of its round's repeats, then the best over rounds; the ratio is after / before (1.00 = same
speed, > 1 slower).

Probes: distinct-model sampling inside a 360-400 MF regime (AnyNetX_A, AnyNetX_E, RegNetX: 500
models), the analytic cost of one RegNetX-400MF, the analytic cost of 1,000 NB201 cells one by
one, and the per-trial overhead of an inline study over 2,000 NB201 table trials.

    .venv/bin/python benchmarks/relayout_before_after.py --before a1fb1e6 [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROBE = r'''
import json, os, tempfile, time
from pathlib import Path
import torch
torch.set_num_threads(1)
import numpy as np
from archspace.spaces.base import Regime
from archspace.spaces.registry import get_space
from archspace.spaces.zoo import get_model
from archspace.search.population import PopulationStrategy
from archspace.study import InlineExecutor, Study
try:
    from archspace.evaluators.nb201 import NB201Benchmark
except ImportError:
    from archspace.bench.nb201 import NB201Benchmark

def best(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter(); fn(); times.append(time.perf_counter() - start)
    return min(times)

out = {}
regime = Regime(flops=(360e6, 400e6))
for name in ("anynetx_a", "anynetx_e", "regnetx"):
    space = get_space(name)
    out[f"sample 500 {name} in 360-400 MF (s)"] = best(3, lambda s=space: s.sample_distinct(500, 0, regime))
space, arch = get_space("regnetx"), get_model("regnetx_400mf")
out["analytic cost, one RegNetX-400MF (ms)"] = best(5, lambda: [space.complexity(arch) for _ in range(200)]) / 200 * 1e3
nb = get_space("nb201")
cells = [nb.sample(i) for i in range(1000)]
out["analytic cost, 1000 NB201 cells one by one (ms)"] = best(5, lambda: [nb.complexity(c) for c in cells]) * 1e3
n = 2000
with tempfile.TemporaryDirectory() as folder:
    study = Study.create("overhead", Path(folder) / "o.db")
    evaluator = NB201Benchmark(seed_mode="sample")
    start = time.perf_counter()
    study.optimize(PopulationStrategy(get_space("nb201"), n, seed=0), evaluator, n, InlineExecutor())
    wall = time.perf_counter() - start
    inside = float(study.trials_dataframe()["duration_s"].sum())
    out["study overhead per trial, inline (ms)"] = (wall - inside) / n * 1e3
print(json.dumps(out))
'''


def export_tree(revision: str, folder: Path) -> Path:
    """``git archive`` of ``src`` at ``revision`` into ``folder``; returns its ``src`` path."""
    archive = folder / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), revision, "src"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def probe(src: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="git revision of the 'before' code")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before_src = export_tree(args.before, Path(folder))
        runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for round_ in range(args.rounds):
            for label, src in (("before", before_src), ("after", ROOT / "src")):
                runs[label].append(probe(src))
                print(f"round {round_ + 1}/{args.rounds} {label} done", file=sys.stderr, flush=True)
    best = {label: {k: min(r[k] for r in rs) for k in rs[0]} for label, rs in runs.items()}
    print(f"| probe | before ({args.before}) | after | after / before |")
    print("|---|---:|---:|---:|")
    for key, before in best["before"].items():
        after = best["after"][key]
        print(f"| {key} | {before:.4g} | {after:.4g} | {after / before:.2f} |")


if __name__ == "__main__":
    main()
