"""Scaling and measured-cost speed, measured side by side in one run.

1. Planning: generate and cost every candidate of the 5 rules (depth, width, resolution,
   pre-head, compound) and solve 4 flops multipliers (2, 4, 8, 16) for a small AnyNet base on
   28 x 28 inputs and for RegNetX-200MF at 224 x 224 (target: under 1 s each, analytic). Next to
   it: the same plan costed one candidate at a time (no batched ``complexity_many``), to show
   what the batched cost buys.
2. Measured cost: ``measure_cost`` of the small base at batch 1 and 32 with the default budget
   (10 s) and with 1 s, reporting the wall time it adds to a trial and the latency spread.

    .venv/bin/python benchmarks/bench_scaling.py
"""

from __future__ import annotations

import argparse
import time

import torch

from archspace.complexity.latency import measure_cost
from archspace.families.anynet.spec import AnyNetArch
from archspace.scaling import InputSpec, plan_scaling
from archspace.scaling import solve as solve_module
from archspace.spaces.zoo import get_model

RULES = "depth,width,resolution,prehead,compound"
MULTIPLIERS = (2.0, 4.0, 8.0, 16.0)
SMALL = AnyNetArch.from_lists([1, 2, 2], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)


def _best_of(runs: int, fn) -> tuple[float, float]:  # noqa: ANN001
    """Best wall and best CPU seconds of ``runs`` calls (the machine is shared: CPU time is steadier)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return min(wall), min(cpu)


def bench_plan() -> None:
    from archspace.families import family_for

    for label, base, inputs in (("small AnyNet-R, 28x28", SMALL, InputSpec(28, 1, 10)),
                                ("RegNetX-200MF, 224x224", get_model("regnetx_200mf"), InputSpec(224, 3, 1000))):
        plan = plan_scaling(base, RULES, MULTIPLIERS, inputs)
        wall, cpu = _best_of(3, lambda b=base, i=inputs: plan_scaling(b, RULES, MULTIPLIERS, i))
        found: dict = {}

        def generate(b=base, i=inputs, p=plan, out=found) -> None:  # noqa: ANN001
            for rule in p.rules:
                out[rule] = solve_module.candidates(rule, b, i, p.minimum_resolution)

        def cost(b=base, i=inputs, cands=found) -> None:  # noqa: ANN001
            family = family_for(b)
            for rule_candidates in cands.values():
                solve_module._cost_candidates(family, rule_candidates, i)

        gen_wall, gen_cpu = _best_of(3, generate)
        cost_wall, cost_cpu = _best_of(3, cost)
        total = sum(plan.candidates.values())
        print(f"plan {label}: {len(plan.variants)} variants (5 rules x 4 multipliers) from {total} candidates: "
              f"{wall * 1e3:.0f} ms wall, {cpu * 1e3:.0f} ms CPU; of which generating candidates "
              f"{gen_cpu * 1e3:.0f} ms CPU, costing them {cost_cpu * 1e3:.0f} ms CPU")


def bench_measure() -> None:
    torch.set_num_threads(1)
    for budget in (10.0, 1.0):
        start = time.perf_counter()
        cost = measure_cost(SMALL, batch_sizes=(1, 32), input_shape=(1, 28, 28), num_classes=10, max_seconds=budget)
        wall = time.perf_counter() - start
        first = cost.timings[0]
        print(f"measure_cost budget {budget:g} s: adds {wall:.2f} s to a trial; latency {first.median_ms:.3f} ms "
              f"(IQR {first.iqr_ms:.3f}, min {first.min_ms:.3f}, max {first.max_ms:.3f}, {first.repeats} runs), "
              f"CPU time {first.cpu_median_ms:.3f} ms, throughput {cost.throughput:.0f} img/s at batch 32")


def main() -> None:
    argparse.ArgumentParser(description=__doc__).parse_args()
    bench_plan()
    bench_measure()


if __name__ == "__main__":
    main()
