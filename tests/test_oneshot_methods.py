"""One-shot methods on a tiny NB201 search network: the NA-DARTS mean / max (Danskin) gradients,
GDAS computing only the sampled op, the second-order finite-difference Hessian-vector product,
the Hessian eigen-solver, and both derivation rules on hand-made alphas."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from archspace.errors import UsageError
from archspace.oneshot.arch_params import ArchParameters
from archspace.oneshot.derive import derive_darts, derive_nb201, parameter_free_share
from archspace.oneshot.hessian import top_eigenpairs
from archspace.oneshot.methods import (
    Darts,
    Gdas,
    Neighborhood,
    StepContext,
    apply_neighbor,
    draw_neighbors,
    softmax_mixture,
)
from archspace.oneshot.nb201_net import NB201SearchConfig, NB201SearchNetwork


def _setup(seed: int = 0):
    torch.manual_seed(seed)
    net = NB201SearchNetwork(NB201SearchConfig(channels=4, cells_per_stage=1, num_classes=3, in_channels=1))
    arch = ArchParameters(net.arch_shapes(), seed=seed, scale=0.5)
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(seed))
    y = torch.tensor([0, 1, 2, 0, 1, 2])

    def loss(mixture):
        return F.cross_entropy(net(x, mixture), y)

    ctx = StepContext(step=3, epoch=0, epochs=2, lr=0.025, seed=seed, train_loss=loss, val_loss=loss)
    holder = type("B", (), {"op_names": net.op_names})()
    return net, arch, ctx, holder, loss


@pytest.mark.parametrize("kind", ["additive", "multiplicative"])
def test_mean_aggregation_equals_the_accumulated_gradient(kind):
    net, arch, ctx, holder, loss = _setup()
    method = Neighborhood(Darts(1), n_nbr=4, kind=kind, aggregate="mean")
    method.arch_backward(arch.as_dict(), ctx, holder)
    ours = arch["cell"].grad.clone()
    arch["cell"].grad = None
    nbrs = method.neighbors(arch.as_dict(), net.op_names, ctx)
    total = torch.stack([loss(apply_neighbor(softmax_mixture(arch.as_dict()), c)) for c in nbrs]).mean()
    (expected,) = torch.autograd.grad(total, arch["cell"])
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-7)


def test_max_aggregation_is_the_danskin_gradient():
    net, arch, ctx, holder, loss = _setup(1)
    method = Neighborhood(Darts(1), n_nbr=5, kind="additive", eps=0.5, aggregate="max")
    method.arch_backward(arch.as_dict(), ctx, holder)
    ours = arch["cell"].grad.clone()
    nbrs = method.neighbors(arch.as_dict(), net.op_names, ctx)
    losses = torch.stack([loss(apply_neighbor(softmax_mixture(arch.as_dict()), c)) for c in nbrs])
    assert len(set(np.round(losses.detach().numpy(), 6))) > 1  # the neighbors really differ
    (expected,) = torch.autograd.grad(losses.max(), arch["cell"])  # autograd's max = the maximizer's gradient
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-7)


def test_neighbors_are_bounded_and_include_alpha():
    shapes = {"cell": (6, 5)}
    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    add = draw_neighbors(shapes, ops, 10, 2, "additive", 0.2, np.random.default_rng(0))
    assert add[0] == () and len(add) == 10 and all(len(c) == 2 for c in add[1:])
    assert max(abs(q) for c in add[1:] for p in c for q in p.noise) <= 0.2
    mul = draw_neighbors(shapes, ops, 6, 1, "multiplicative", 0.2, np.random.default_rng(0))
    mixture = softmax_mixture({"cell": torch.zeros(6, 5)})
    for changes in mul[1:]:
        row = apply_neighbor(mixture, changes).weights["cell"][changes[0].edge]
        assert row.sum() == 1 and row.max() == 1 and int(row.argmax()) in (0, 1)


def test_bad_neighborhood_options_are_refused():
    for kwargs, match in (({"n_nbr": 0}, "n_nbr"), ({"eps": 1.0}, "eps"), ({"eps": 0.0}, "eps"),
                          ({"aggregate": "median"}, "aggregate"), ({"kind": "other"}, "kind")):
        with pytest.raises(UsageError, match=match):
            Neighborhood(Darts(1), **kwargs)
    with pytest.raises(UsageError, match="first-order"):
        Neighborhood(Darts(2))


def test_gdas_runs_only_the_sampled_op_and_every_alpha_learns():
    net, arch, ctx, _holder, loss = _setup(2)
    calls = []
    for edge in net.layers[0].edges:
        for k, op in enumerate(edge.candidates):
            op.register_forward_hook(lambda m, i, o, k=k: calls.append(k))
    gdas = Gdas()
    mixture = gdas.relax(arch.as_dict(), ctx)
    loss(mixture).backward()
    assert len(calls) == 6  # one op per edge of the single stage-0 cell
    assert calls == mixture.index["cell"]
    # straight-through: the unsampled ops' alphas get a gradient too (an edge whose sampled op is
    # none can have an all-zero row: a zero map carries no signal, as in the reference GDAS)
    from archspace.families.nb201.supernet import live_nodes
    from archspace.families.nb201.table import EDGES

    live = [e for e, (target, _) in enumerate(EDGES)
            if target in live_nodes([net.op_names[k] for k in mixture.index["cell"]])]
    assert live and all((arch["cell"].grad[e].abs() > 0).all() for e in live)
    assert gdas.tau(0, 5) == 10.0 and gdas.tau(4, 5) == pytest.approx(0.1)


class _SmoothNet(torch.nn.Module):
    """A smooth (tanh) two-edge search network: finite differences converge on it, unlike on
    ReLU networks, whose alpha-gradient jumps where a unit changes sign."""

    op_names = ("none", "skip_connect", "tanh")

    def __init__(self) -> None:
        super().__init__()
        self.inner = torch.nn.ModuleList(torch.nn.Linear(5, 5) for _ in range(2))
        self.head = torch.nn.Linear(5, 3)

    def arch_shapes(self):
        return {"cell": (2, 3)}

    def forward(self, x, mixture):
        w = mixture.weights["cell"]
        for e, layer in enumerate(self.inner):
            x = w[e, 1] * x + w[e, 2] * torch.tanh(layer(x))
        return self.head(x)


def test_second_order_matches_the_exact_mixed_derivative():
    """DARTS's unrolled step with the finite-difference Hessian-vector product (R = 0.01 / ||v||)
    against the exact second-order gradient computed by double backward (float64, smooth net)."""
    from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = _SmoothNet().double()
    x = torch.randn(16, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 3
    data = SearchData(x[:8], y[:8], x[8:], y[8:], x, y)
    search = BilevelSearch(net, Darts(2), SearchRecipe(epochs=1, batch_size=8, w_wd=0.0), data, seed=0)
    with torch.no_grad():
        search.arch["cell"].copy_(torch.randn(2, 3, generator=torch.Generator().manual_seed(2)).double())
    ctx = search.context(0)
    alpha = search.arch.as_dict()
    search.unrolled_arch_backward(alpha, ctx)
    ours = search.arch["cell"].grad.clone()
    names = [n for n, _ in net.named_parameters()]
    params = [p for _, p in net.named_parameters()]
    _xt, _yt, xa, ya = ctx.batches
    g = torch.autograd.grad(ctx.train_loss(softmax_mixture({k: v.detach() for k, v in alpha.items()})), params)
    w1 = [(p - ctx.lr * gi).detach().requires_grad_(True) for p, gi in zip(params, g)]
    val = F.cross_entropy(torch.func.functional_call(net, dict(zip(names, w1)), (xa, softmax_mixture(alpha))), ya)
    d_alpha, *d_w = torch.autograd.grad(val, [search.arch["cell"], *w1])
    grads = torch.autograd.grad(ctx.train_loss(softmax_mixture(alpha)), params, create_graph=True)
    (mixed,) = torch.autograd.grad(sum((gi * v).sum() for gi, v in zip(grads, d_w)), search.arch["cell"])
    assert float(mixed.norm()) > 1e-3  # the second-order term is not negligible here
    torch.testing.assert_close(ours, d_alpha - ctx.lr * mixed, rtol=1e-4, atol=1e-7)


def test_top_eigenpairs_of_a_quadratic():
    a = torch.tensor([[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, -1.0]])
    values, vectors = top_eigenpairs(lambda v: 0.5 * v @ a @ v, torch.zeros(3), k=2, iterations=200)
    expected = np.linalg.eigvalsh(a.numpy())[::-1][:2]
    assert np.allclose(values, expected, atol=1e-4)
    assert abs(float(vectors[0] @ vectors[1])) < 1e-4


def test_derivation_rules():
    ops = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    alpha = np.zeros((6, 5))
    alpha[:, 0] = 5.0  # none dominates every edge
    alpha[:, 3] = 1.0
    assert derive_nb201({"cell": alpha}, ops).ops == ("none",) * 6
    assert derive_nb201({"cell": alpha}, ops, rule="darts").ops == ("nor_conv_3x3",) * 6
    darts_ops = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
                 "dil_conv_3x3", "dil_conv_5x5")
    normal = np.zeros((14, 8))
    normal[:, 0] = 9.0  # none is never kept
    normal[[0, 3, 4, 8, 13], 4] = [3.0, 2.0, 1.0, 4.0, 2.0]  # the strong edges of nodes 2..5
    normal[[1, 2, 5, 7, 10], 3] = [1.0, 1.5, 0.5, 3.0, 1.0]
    genotype = derive_darts({"normal": normal, "reduce": normal}, darts_ops)
    assert genotype.normal == (("sep_conv_3x3", 0), ("skip_connect", 1), ("skip_connect", 0), ("sep_conv_3x3", 1),
                               ("skip_connect", 2), ("sep_conv_3x3", 3), ("skip_connect", 1), ("sep_conv_3x3", 4))
    assert parameter_free_share(genotype) == 0.5
    with pytest.raises(UsageError, match="DARTS rule"):
        derive_darts({"normal": normal, "reduce": normal}, darts_ops, rule="nb201")


def test_landscape_is_centered_on_alpha():
    from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe
    from archspace.oneshot.landscape import landscape_figure, loss_landscape

    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = _SmoothNet().double()
    x = torch.randn(16, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    y = torch.arange(16) % 3
    search = BilevelSearch(net, Darts(1), SearchRecipe(epochs=1, batch_size=8), SearchData(x, y, x, y, x, y), seed=0)
    land = loss_landscape(search, points=3, batches=1, iterations=30)
    center = float(search.val_loss_of_flat(1)(search.arch.flat().detach()))
    assert land.loss.shape == (3, 3) and land.loss[1, 1] == pytest.approx(center)
    assert abs(land.eigenvalues[0]) >= abs(land.eigenvalues[1])
    assert len(landscape_figure([land, land]).axes) == 3  # two panels and the color bar
