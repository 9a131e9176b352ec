"""Issue 18 speed: a supergraph training step against a step of the backbone with one fixed cell
of the same op count, and the analytic cost of 10,000 sampled cells.

Run: .venv/bin/python benchmarks/bench_attention.py   (one torch thread: "one core")
Steps are timed interleaved (A, B, A, B, ...) and the median of each is taken, so load on a shared
machine hits both alike; the ratio is what BENCHMARKS.md reports, with the medians of wall and
process CPU time both given. The supergraph step is the one the workflow takes: SGD on the
weights and, inside backward, the connection logits' own Adam step (``ConnectionOptimizer``).
Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp  # noqa: E402
from archspace.families.attention.supernet import (  # noqa: E402
    ConnectionOptimizer,
    SupergraphConfig,
    SupergraphNetwork,
)
from archspace.spaces.attention import DEFAULT_IMAGE_BACKBONE  # noqa: E402
from archspace.spaces.registry import get_space  # noqa: E402

POSITIONS = (1, 2)
BATCH = 64


def fixed_cell(config: SupergraphConfig) -> AttentionCell:
    """A cell with the supergraph's op count: its nodes in a chain, level by level."""
    ops = []
    for level in range(config.levels):
        for node in range(config.nodes):
            base = config.node_op(level, node)
            reads = (0,) if level == 0 else (len(ops) - config.nodes + 1,)
            ops.append(AttentionOp(base.dimension, base.type, base.activation, False, reads if ops else (0,)))
    return AttentionCell(tuple(ops), config.op_divisor, config.inner_divisor)


def step_time(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
              optimizer: torch.optim.Optimizer) -> tuple[float, float]:
    """Wall and process CPU seconds of one training step."""
    start, cpu = time.perf_counter(), time.process_time()
    optimizer.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    space = get_space("attention", positions=list(POSITIONS), max_ops=8)
    family = space.family
    config = SupergraphConfig(levels=2, nodes=3)
    shell = AttentionNet(DEFAULT_IMAGE_BACKBONE)
    supergraph = SupergraphNetwork(shell, family.backbone_family().build(DEFAULT_IMAGE_BACKBONE, 10, 1), config,
                                   POSITIONS)
    fixed = family.build(AttentionNet(DEFAULT_IMAGE_BACKBONE, fixed_cell(config), POSITIONS), 10, 1)
    x, y = torch.randn(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4) for m in (supergraph, fixed)]
    connections = ConnectionOptimizer(supergraph.connection_parameters())
    times: dict[str, list[tuple[float, float]]] = {"supergraph": [], "fixed": []}
    with connections.attached():
        for _ in range(3):  # warm-up
            step_time(supergraph, x, y, optimizers[0])
            step_time(fixed, x, y, optimizers[1])
        for _ in range(15):
            times["supergraph"].append(step_time(supergraph, x, y, optimizers[0]))
            times["fixed"].append(step_time(fixed, x, y, optimizers[1]))
    medians = {k: statistics.median(wall for wall, _ in v) for k, v in times.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in times.items()}

    cells = space.sample_batch(np.random.default_rng(0), 10_000)
    start = time.perf_counter()
    costs = [family.cost(c, 28, 10, 1) for c in cells]
    cost_seconds = time.perf_counter() - start
    print(json.dumps({
        "machine": platform.processor() or platform.machine(), "threads": 1, "batch": BATCH,
        "ops_per_cell": config.levels * config.nodes, "positions": list(POSITIONS),
        "supergraph_step_ms": round(medians["supergraph"] * 1e3, 1),
        "fixed_cell_step_ms": round(medians["fixed"] * 1e3, 1),
        "supergraph_over_fixed_x": round(medians["supergraph"] / medians["fixed"], 2),
        "supergraph_step_cpu_ms": round(cpu["supergraph"] * 1e3, 1),
        "fixed_cell_step_cpu_ms": round(cpu["fixed"] * 1e3, 1),
        "supergraph_over_fixed_cpu_x": round(cpu["supergraph"] / cpu["fixed"], 2),
        "connection_steps": connections.steps,
        "analytic_cost_10000_cells_s": round(cost_seconds, 3),
        "mean_flops": int(np.mean([c.flops for c in costs])),
    }, indent=2))


if __name__ == "__main__":
    main()
