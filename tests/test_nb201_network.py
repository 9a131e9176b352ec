"""The NAS-Bench-201 torch network: structure, forward pass, and analytic vs measured cost."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archspace.complexity.measure import measure_complexity
from archspace.errors import InvalidArchitecture
from archspace.families.nb201.modules import NB201CellModule, NB201Network, Zero
from archspace.families.nb201.spec import NB201Cell
from archspace.spaces.nb201 import NB201Space

ALL_3X3 = NB201Cell(("nor_conv_3x3",) * 6)


def _params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_benchmark_network_parameters_and_output_shape():
    space = NB201Space()
    net = space.build(ALL_3X3)
    assert _params(net) == 1_531_546 == space.complexity(ALL_3X3).params
    assert len(net.cells) == 3 * 5 + 2
    net.eval()
    with torch.no_grad():
        assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


def test_measured_matches_analytic_on_sampled_cells():
    small = NB201Space(channels=8, cells_per_stage=1)
    rng = np.random.default_rng(0)
    cells = [small.sample(rng) for _ in range(4)] + [NB201Cell(("none",) * 6), ALL_3X3]
    for k, cell in enumerate(cells):
        for resolution, classes in ((32, 10), (16, 120))[: 1 + k % 2]:
            measured = measure_complexity(small.build(cell, num_classes=classes), (3, resolution, resolution))
            assert measured == small.complexity(cell, resolution=resolution, num_classes=classes), cell


def test_measured_matches_analytic_at_benchmark_size():
    space = NB201Space()
    cell = space.cell_at(6111)  # best CIFAR-10 cell
    measured = measure_complexity(space.build(cell), (3, 32, 32))
    assert measured == space.complexity(cell)
    assert measured.params == 1_073_466


def test_cell_sums_edges_and_none_contributes_zero():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 6, 6)
    only_skips_to_output = NB201CellModule(("none", "none", "none", "skip_connect", "none", "none"), 4)
    assert torch.equal(only_skips_to_output(x), x)
    two_paths = NB201CellModule(("skip_connect", "none", "none", "skip_connect", "skip_connect", "none"), 4)
    assert torch.allclose(two_paths(x), 2 * x)
    assert isinstance(NB201CellModule(("none",) * 6, 4).edges[0], Zero)
    assert torch.count_nonzero(NB201CellModule(("none",) * 6, 4)(x)) == 0


def test_build_trains_one_step_and_rejects_masked_cells():
    space = NB201Space(ops=("skip_connect", "nor_conv_1x1", "avg_pool_3x3"), channels=4, cells_per_stage=1)
    cell = NB201Cell(("nor_conv_1x1", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_1x1"))
    net = space.build(cell, num_classes=3, in_channels=1)
    assert isinstance(net, NB201Network)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(net(torch.randn(4, 1, 8, 8)), torch.tensor([0, 1, 2, 0]))
    loss.backward()
    optimizer.step()
    assert torch.isfinite(loss)
    with pytest.raises(InvalidArchitecture, match="masked"):
        space.build(ALL_3X3)
