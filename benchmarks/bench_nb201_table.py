"""NAS-Bench-201 table: load time and memory, lookup speed, side by side with parsing the CSV.

    .venv/bin/python benchmarks/bench_nb201_table.py [--csv ../shared/data/nb201/nb201.csv] [--repeats 5]

Reports (one run, same machine, so ratios are meaningful on a noisy shared box):
* cold start in a fresh interpreter: import archspace.bench.nb201 + NB201Table.load(), wall time and
  resident-memory growth (ru_maxrss before/after);
* warm reload of the packaged .npz vs pandas.read_csv of the source CSV (median of --repeats);
* bytes held by the loaded columns;
* NB201Benchmark.evaluate() per call, and space helpers (isomorphism classes, complexity_all).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

COLD_START = r"""
import json, time


def rss_mb():
    with open("/proc/self/status") as status:
        fields = dict(line.split(":", 1) for line in status)
    return int(fields["VmRSS"].split()[0]) / 1024


import numpy
rss1 = rss_mb()
t1 = time.perf_counter()
from archspace.bench.nb201 import NB201Table
table = NB201Table.load()
t2 = time.perf_counter()
print(json.dumps({"import_and_load_s": t2 - t1, "rss_growth_mb": rss_mb() - rss1}))
"""


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--csv", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data" / "nb201" / "nb201.csv")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd

    from archspace.bench.nb201 import NB201Table, _read_table
    from archspace.evaluators.nb201 import NB201Benchmark
    from archspace.families.nb201.index import _isomorphism_classes, table_path
    from archspace.spaces.nb201 import NB201Space

    cold = json.loads(subprocess.run([sys.executable, "-c", COLD_START], check=True, capture_output=True, text=True).stdout)
    npz_s = median_seconds(lambda: _read_table(table_path()), args.repeats)
    csv_s = median_seconds(lambda: pd.read_csv(args.csv), args.repeats) if args.csv.is_file() else float("nan")
    table = NB201Table.load()
    held = sum(a.nbytes for a in table.columns.values()) + sum(a.nbytes for a in table.valid_seeds.values())

    bench = NB201Benchmark(seed_mode="sample")
    space = NB201Space()
    cells = [space.cell_at(int(i)) for i in np.random.default_rng(0).integers(0, 15625, 2000)]
    per_eval = median_seconds(lambda: [bench.evaluate(c, seed=k) for k, c in enumerate(cells)], args.repeats) / len(cells)
    iso_s = median_seconds(lambda: (_isomorphism_classes.cache_clear(), _isomorphism_classes()), 1)
    cx_s = median_seconds(space.complexity_all, args.repeats)

    size = len(table_path().read_bytes())
    print(f"packaged table: {size / 1e6:.2f} MB on disk, {held / 1e6:.2f} MB of columns in memory")
    print(f"cold start (fresh interpreter, numpy already imported): import + load {cold['import_and_load_s'] * 1e3:.0f} ms, "
          f"resident memory growth {cold['rss_growth_mb']:.1f} MB")
    print(f"warm reload of the .npz: {npz_s * 1e3:.1f} ms;  pandas.read_csv of the CSV: {csv_s * 1e3:.1f} ms;  "
          f"ratio CSV / npz = {csv_s / npz_s:.1f}x")
    print(f"NB201Benchmark.evaluate (sample mode): {per_eval * 1e6:.1f} us per call "
          f"({100 * per_eval * 1e3:.2f} ms per 100 evaluations)")
    print(f"isomorphism classes of all 15,625 cells (first use): {iso_s * 1e3:.0f} ms;  "
          f"complexity_all: {cx_s * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
