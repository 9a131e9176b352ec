"""Teacher-compression speed, measured side by side in one run (issue 17).

1. Sampling and costing 10,000 candidates of a ResNet-18 teacher (224x224, 1000 classes): draw
   the operations with the space's priors, build each candidate graph, check its shapes and count
   its flops / params / acts. Next to it, the same count for the teacher graph alone (x 10,000),
   and building + measuring 5 candidates with torch's flop counter (the check it replaces).
2. Proposing one batch with the learned-kernel BO: K = 8 Bi-LSTM kernels, each trained from
   scratch on a random half of 160 evaluated candidates, each maximizing EI over 1,000 sampled
   candidates (one proposal per kernel), on one core.

Each figure is given as CPU seconds of this process (``time.process_time``: what the machine's
other jobs do not inflate) and wall seconds.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_compress.py [--samples 10000] [--told 160]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from archspace.complexity.measure import measure_complexity
from archspace.evaluation import Result
from archspace.search.registry import make_strategy
from archspace.spaces.teacher import TeacherSpace


def bench_sampling(samples: int) -> None:
    space = TeacherSpace("resnet18", resolution=224)
    rng = np.random.default_rng(0)
    space.sample_batch(rng, 50)  # warm-up
    start, cpu = time.perf_counter(), time.process_time()
    archs = space.sample_batch(rng, samples)
    costs = space.family.complexity_many(archs, validate=False, resolution=224, num_classes=1000)
    sampled, sampled_cpu = time.perf_counter() - start, time.process_time() - cpu
    cpu = time.process_time()
    for _ in range(samples):
        space.family.cost(space.teacher_graph, 224, 1000, 3)
    teacher_only = time.process_time() - cpu
    cpu = time.process_time()
    for arch in archs[:5]:
        measure_complexity(space.build(arch, num_classes=1000), (3, 224, 224))
    measured = (time.process_time() - cpu) / 5
    ratio = np.mean([space.complexity(space.teacher_graph, 224, 1000).params / c.params for c in costs])
    print(f"sample + cost {samples} ResNet-18 candidates: {sampled_cpu:.2f} CPU s, {sampled:.2f} wall s "
          f"({1e6 * sampled_cpu / samples:.0f} CPU us each; {len(set(archs))} distinct; mean compression ratio "
          f"{ratio:.2f})")
    print(f"  cost of the teacher graph alone x {samples}: {teacher_only:.2f} CPU s "
          f"(a sample + cost = {sampled_cpu / teacher_only:.1f}x one cost walk)")
    print(f"  build + torch-measure one candidate: {measured:.2f} CPU s = {measured / (sampled_cpu / samples):.0f}x "
          "an analytic sample + cost")


def bench_proposal(told: int, kernels: int, candidates: int) -> None:
    torch.set_num_threads(1)
    space = TeacherSpace("resnet18", resolution=224)
    rng = np.random.default_rng(1)
    teacher = space.complexity(space.teacher_graph, 224, 1000).params
    strategy = make_strategy("bo-learned", space, 0, n_kernels=kernels, n_init=told, n_candidates=candidates)
    for _ in range(told):
        arch = strategy.ask()
        c = 1 - space.complexity(arch, 224, 1000).params / teacher
        strategy.tell(arch, Result(-(c * (2 - c) * (1 - 0.3 * c**2)) + 0.01 * rng.standard_normal()))
    start, cpu = time.perf_counter(), time.process_time()
    first = strategy.ask()  # trains K kernels and queues their K proposals
    seconds, seconds_cpu = time.perf_counter() - start, time.process_time() - cpu
    batch = [first] + [strategy.ask() for _ in range(kernels - 1)]
    print(f"propose one batch: {kernels} kernels trained on {told // 2} of {told} candidates each, EI over "
          f"{candidates} sampled candidates each: {seconds_cpu:.1f} CPU s, {seconds:.1f} wall s "
          f"({seconds_cpu / kernels:.1f} CPU s per kernel; "
          f"{len(set(batch))} distinct proposals)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--told", type=int, default=160)
    parser.add_argument("--kernels", type=int, default=8)
    parser.add_argument("--candidates", type=int, default=1000)
    args = parser.parse_args()
    bench_sampling(args.samples)
    bench_proposal(args.told, args.kernels, args.candidates)


if __name__ == "__main__":
    main()
