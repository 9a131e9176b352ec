"""Issue 2 speed: sampling in a complexity regime, and analytic vs measured complexity.

Run: .venv/bin/python benchmarks/bench_spaces.py   (pins torch to one thread: "one core")
Prints one JSON object; the figures go in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import platform
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from archspace.complexity.measure import measure_complexity  # noqa: E402
from archspace.spaces.base import Regime  # noqa: E402
from archspace.spaces.registry import get_space  # noqa: E402
from archspace.spaces.zoo import get_model  # noqa: E402


def best_of(repeats: int, fn) -> float:
    """Minimum wall time of ``repeats`` runs (the least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    torch.set_num_threads(1)
    regime = Regime(flops=(360e6, 400e6))
    results: dict[str, object] = {"machine": platform.processor() or platform.machine(), "threads": 1}
    for name in ("anynetx_a", "anynetx_e", "regnetx"):
        space = get_space(name)
        seconds = best_of(3, lambda s=space: s.sample_distinct(500, 0, regime))
        results[f"sample_500_{name}_360_400mf_s"] = round(seconds, 3)

    space = get_space("regnetx")
    arch = get_model("regnetx_400mf")
    analytic = best_of(5, lambda: [space.complexity(arch) for _ in range(100)]) / 100
    measured = best_of(3, lambda: measure_complexity(space.build(arch), (3, 224, 224)))
    results["analytic_one_regnet_ms"] = round(analytic * 1e3, 4)
    results["build_and_flop_counter_one_regnet_ms"] = round(measured * 1e3, 1)
    results["analytic_speedup_x"] = round(measured / analytic)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
