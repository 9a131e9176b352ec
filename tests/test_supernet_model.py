"""The NB201 supernet: single-path forward equals the stand-alone network; masks; transformers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.supernet import NB201Supernet, SupernetConfig, live_nodes
from archspace.families.nb201.table import OPS


def _randomize_batchnorm(net: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            m.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            m.bias.data.copy_(torch.rand(n, generator=gen) - 0.5)


def _tiny(**kw) -> NB201Supernet:
    torch.manual_seed(0)
    return NB201Supernet(SupernetConfig(cells_per_stage=1, channels=4, in_channels=1, **kw))


def test_presets_and_validation():
    assert SupernetConfig.preset("small").cells_per_stage == 2 and SupernetConfig.preset("small").channels == 32
    assert SupernetConfig.preset("medium").cells_per_stage == 4 and SupernetConfig.preset("medium").channels == 64
    assert SupernetConfig.preset("small", in_channels=1).num_cells == 6
    with pytest.raises(UsageError, match="preset"):
        SupernetConfig.preset("huge")
    with pytest.raises(UsageError, match="linear transformers"):
        SupernetConfig(linear_transformers=("nor_conv_3x3",))
    with pytest.raises(UsageError, match="subset"):
        SupernetConfig(ops=("conv",))
    assert SupernetConfig(ops=("nor_conv_3x3", "none")).ops == ("none", "nor_conv_3x3")
    cfg = SupernetConfig(ops=OPS[1:], linear_transformers=("avg_pool_3x3",))
    assert SupernetConfig.from_dict(cfg.to_dict()) == cfg


def test_every_edge_holds_every_allowed_op_and_masked_ops_are_absent():
    net = _tiny(ops=("none", "skip_connect", "nor_conv_3x3"))
    edge = net.layers[0].edges[0]
    assert set(edge.candidates) == {"skip_connect", "nor_conv_3x3"}  # none needs no module
    full = _tiny()
    assert set(full.layers[0].edges[5].candidates) == set(OPS) - {"none"}


@pytest.mark.parametrize("seed", range(6))
def test_subnetwork_equals_standalone_network_with_copied_weights(seed):
    rng = np.random.default_rng(seed)
    net = _tiny(linear_transformers=("skip_connect", "avg_pool_3x3"))
    _randomize_batchnorm(net, seed)
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    for _ in range(8):
        cell = NB201Cell(tuple(OPS[i] for i in rng.integers(0, 5, 6)))
        net.eval()
        standalone = net.extract(cell).eval()
        torch.testing.assert_close(net(x, cell), standalone(x), rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(net.subnet(cell)(x), standalone(x), rtol=1e-5, atol=1e-6)


def test_linear_transformers_act_in_training_and_are_removed_for_evaluation():
    net = _tiny(linear_transformers=("skip_connect",))
    cell = NB201Cell(("skip_connect",) * 6)
    with torch.no_grad():
        for m in net.modules():
            if m.__class__.__name__ == "LinearTransformer":
                m.conv.weight.mul_(2.0)
    net.eval()
    x = torch.randn(2, 1, 8, 8)
    without = net(x, cell)  # eval default: transformers off
    with_lt = net(x, cell, transformers=True)
    assert not torch.allclose(without, with_lt)
    torch.testing.assert_close(without, net.extract(cell).eval()(x))
    assert net.num_parameters(transformers=False) < net.num_parameters()


def test_masked_ops_are_refused_and_paths_per_cell():
    net = _tiny(ops=OPS[1:])
    with pytest.raises(InvalidArchitecture, match="masked"):
        net(torch.randn(1, 1, 8, 8), NB201Cell(("none",) + ("skip_connect",) * 5))
    per_cell = np.array([[1, 2, 3, 4, 1, 2], [3, 3, 3, 3, 3, 3], [4, 4, 1, 1, 2, 2]])
    assert net(torch.randn(2, 1, 8, 8), per_cell).shape == (2, 10)
    with pytest.raises(UsageError, match="path"):
        net(torch.randn(1, 1, 8, 8), np.zeros((2, 6), dtype=int))


def test_live_nodes():
    assert live_nodes(("none",) * 6) == {3}
    assert live_nodes(("nor_conv_3x3", "none", "none", "none", "skip_connect", "none")) == {1, 3}
    assert live_nodes(("nor_conv_3x3", "none", "skip_connect", "none", "none", "avg_pool_3x3")) == {1, 2, 3}
