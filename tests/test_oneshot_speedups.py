"""The one-shot speed-ups change no result beyond float rounding: the mixed op (``none`` skipped,
one shared ReLU, in-place accumulation) against the plain ``sum(w * op(x))`` on real edges of both
search networks, the box average pool against ``nn.AvgPool2d``, the arch-only backward against a
full backward, and a channels-last search against a contiguous one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from archspace.errors import UsageError
from archspace.families.darts.supernet import DartsSearchConfig, DartsSearchNetwork
from archspace.families.supernet import BoxAvgPool2d, MixedOp, channel_shuffle, fast_pooling
from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe
from archspace.oneshot.methods import Darts, Gdas, Neighborhood, softmax_mixture
from archspace.oneshot.nb201_net import NB201SearchConfig, NB201SearchNetwork


def plain_mix(edge: MixedOp, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The straightforward reference: every candidate run on its own, weighted and summed."""
    return sum(w * op(x) for w, op in zip(weights, edge.candidates, strict=True))


def _edges():
    torch.manual_seed(0)
    nb = NB201SearchNetwork(NB201SearchConfig(channels=4, cells_per_stage=1, num_classes=3, in_channels=1))
    darts = DartsSearchNetwork(DartsSearchConfig(channels=4, layers=3, num_classes=3, in_channels=1))
    pc = DartsSearchNetwork(DartsSearchConfig(channels=4, layers=3, partial_channels=2, num_classes=3, in_channels=1))
    reduction = darts.reduction.index(True)
    return {"nb201": (nb.layers[0].edges[0], 4), "darts-normal": (darts.cells[0].edges[1], 4),
            "darts-reduce": (darts.cells[reduction].edges[0], darts.cells[reduction].edges[0].candidates[-1][1].in_channels),
            "pc-darts-reduce": (pc.cells[reduction].edges[0], 2 * pc.cells[reduction].edges[0].candidates[-1][1].in_channels)}


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("name", ["nb201", "darts-normal", "darts-reduce", "pc-darts-reduce"])
def test_mixed_op_equals_the_plain_weighted_sum(name, channels_last):
    edge, channels = _edges()[name]
    assert edge.active == tuple(range(1, len(edge.candidates)))  # "none" (index 0) is never run
    assert sum(edge.relu_led) >= (2 if name == "nb201" else 4)  # the conv ops share one ReLU
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, channels, 8, 8, generator=g)
    if channels_last:
        edge.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    weights = torch.softmax(torch.randn(len(edge.candidates), generator=g), 0).requires_grad_(True)
    params = [x, weights, *edge.parameters()]
    probe = torch.randn(edge(x, weights).shape, generator=g)

    def outputs(fn):
        out = fn()
        return (out, *torch.autograd.grad((out * probe).sum(), params))

    ours, plain = outputs(lambda: edge(x, weights)), outputs(lambda: _plain_forward(edge, x, weights))
    assert float(ours[1].abs().max()) > 0 and float(ours[2].abs().max()) > 0
    for a, b in zip(ours, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def _plain_forward(edge: MixedOp, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """MixedOp.forward with ``plain_mix`` in place of the optimized ``mix`` (partial channels too)."""
    original = edge.mix
    edge.mix = lambda h, w: plain_mix(edge, h, w)
    try:
        return edge(x, weights)
    finally:
        edge.mix = original


class _Zero(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mul(0.0)


def test_mixed_op_sampled_path_and_all_zero_edges():
    zero = _Zero()
    edge = MixedOp([zero, nn.Identity()], zeros=[0])
    x = torch.randn(2, 3, 4, 4)
    w = torch.tensor([0.25, 0.75], requires_grad=True)
    torch.testing.assert_close(edge(x, w), 0.75 * x)
    sampled = edge(x, w, index=1)  # GDAS: only op 1 runs; the other weights add 0 with gradient 1
    torch.testing.assert_close(sampled, 0.75 * x + 0.25)
    probe = torch.randn(x.shape, generator=torch.Generator().manual_seed(6))
    (grad,) = torch.autograd.grad((sampled * probe).sum(), w)
    torch.testing.assert_close(grad, torch.stack([probe.sum(), (probe * x).sum()]))
    only_zero = MixedOp([zero], zeros=[0])
    assert only_zero(x, w[:1]).shape == x.shape and not only_zero(x, w[:1]).any()
    with pytest.raises(UsageError, match="zeros"):
        MixedOp([nn.Identity()], zeros=[3])


@pytest.mark.parametrize(("kernel", "stride", "padding", "size"),
                         [(3, 1, 1, (8, 8)), (3, 2, 1, (8, 8)), (3, 2, 1, (7, 9)), (2, 2, 0, (6, 5)), (5, 1, 2, (5, 6))])
@pytest.mark.parametrize("channels_last", [False, True])
def test_box_average_pool_equals_avg_pool(kernel, stride, padding, size, channels_last):
    x = torch.randn(2, 3, *size, generator=torch.Generator().manual_seed(2))
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_(True)
    ref = nn.AvgPool2d(kernel, stride, padding, count_include_pad=False)
    box = BoxAvgPool2d(kernel, stride, padding)
    a, b = ref(x), box(x)
    torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-6)
    probe = torch.randn(a.shape, generator=torch.Generator().manual_seed(3))
    (ga,) = torch.autograd.grad((a * probe).sum(), x)
    (gb,) = torch.autograd.grad((b * probe).sum(), x)
    torch.testing.assert_close(gb, ga, rtol=1e-6, atol=1e-6)


def test_fast_pooling_swaps_only_equivalent_pools():
    net = nn.Sequential(nn.AvgPool2d(3, 1, 1, count_include_pad=False), nn.AvgPool2d(3, 1, 1),
                        nn.Sequential(nn.AvgPool2d(3, 2, 1, count_include_pad=False)), nn.MaxPool2d(3, 1, 1))
    fast_pooling(net)
    assert [type(m).__name__ for m in (net[0], net[1], net[2][0], net[3])] == [
        "BoxAvgPool2d", "AvgPool2d", "BoxAvgPool2d", "MaxPool2d"]
    assert isinstance(fast_pooling(nn.AvgPool2d(3, 1, 1, count_include_pad=False)), BoxAvgPool2d)
    with pytest.raises(UsageError, match="padding"):
        BoxAvgPool2d(3, 1, 2)


def _search(method, memory_format="auto", seed=0):
    torch.manual_seed(seed)
    net = NB201SearchNetwork(NB201SearchConfig(channels=4, cells_per_stage=1, num_classes=3, in_channels=1))
    g = torch.Generator().manual_seed(seed)
    x, y = torch.randn(24, 1, 8, 8, generator=g), torch.randint(0, 3, (24,), generator=g)
    data = SearchData(x[:8], y[:8], x[8:16], y[8:16], x[16:], y[16:])
    return BilevelSearch(net, method, SearchRecipe(epochs=1, batch_size=4), data, seed=seed,
                         memory_format=memory_format)


@pytest.mark.parametrize("method", [Darts(1), Gdas(), Neighborhood(Darts(1), n_nbr=3)], ids=["darts", "gdas", "na"])
def test_arch_step_gradient_is_the_full_backward_one_and_leaves_the_weights_alone(method):
    search = _search(method)
    ctx, arch = search.context(0), search.arch.as_dict()
    method.arch_backward(arch, ctx, search)
    ours = {k: v.grad.clone() for k, v in arch.items()}
    assert all(p.grad is None for p in search.net.parameters())  # no weight gradient computed
    for v in arch.values():
        v.grad = None
    if isinstance(method, Neighborhood):  # the mean over neighbors, one full backward
        from archspace.oneshot.methods import apply_neighbor

        nbrs = method.neighbors(arch, search.op_names, ctx)
        loss = sum(ctx.val_loss(apply_neighbor(softmax_mixture(arch), c)) for c in nbrs) / len(nbrs)
    else:
        loss = ctx.val_loss(method.relax(arch, ctx))
    loss.backward()
    assert any(p.grad is not None for p in search.net.parameters())
    for k, v in arch.items():
        torch.testing.assert_close(ours[k], v.grad, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("method", [Darts(1), Darts(2), Gdas()], ids=["darts", "darts2", "gdas"])
def test_channels_last_search_matches_the_contiguous_one(method):
    runs = []
    for memory_format in ("channels_last", "contiguous"):
        search = _search(method, memory_format)
        assert search.channels_last == (memory_format == "channels_last")
        losses = [search.train_step(step) for step in range(2)]
        runs.append((losses, search.arch.flat().detach(), torch.cat([p.reshape(-1) for p in search.net.parameters()])))
    (l1, a1, w1), (l2, a2, w2) = runs
    torch.testing.assert_close(torch.tensor(l1), torch.tensor(l2), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(a1, a2, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(w1, w2, rtol=1e-4, atol=1e-6)
    assert _search(Darts(1)).channels_last  # auto: channels-last on the CPU for image batches
    with pytest.raises(UsageError, match="memory_format"):
        _search(Darts(1), "nhwc")


def test_darts_search_network_forward_is_unchanged_by_the_fast_edges():
    """The whole DARTS supernet (PC-DARTS, edge normalization) with every edge mixed plainly."""
    torch.manual_seed(3)
    net = DartsSearchNetwork(DartsSearchConfig(channels=4, layers=3, partial_channels=2, edge_norm=True,
                                               num_classes=3, in_channels=1))
    arch = {k: torch.randn(s, generator=torch.Generator().manual_seed(4)).requires_grad_(True)
            for k, s in net.arch_shapes().items()}
    x = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(5))
    y = torch.tensor([0, 1, 2, 0])

    def grads():
        loss = F.cross_entropy(net(x, softmax_mixture(arch)), y)
        return (loss, *torch.autograd.grad(loss, list(arch.values())))

    ours = grads()
    edges = [e for cell in net.cells for e in cell.edges]
    for e in edges:
        e.mix = lambda h, w, e=e: plain_mix(e, h, w)
    plain = grads()
    for a, b in zip(ours, plain, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)


def test_unrolled_weights_keep_the_parameters_strides_and_values():
    """Second order: w' = w - eta (momentum + grad + wd w) with the parameter's own strides (the
    plain formula gives 1x1 / one-input-channel convolution weights contiguous strides, a slow
    mixed-layout convolution against channels-last activations); the values are the same."""
    search = _search(Darts(2))
    assert search.channels_last
    search.train_step(0)  # momentum buffers exist from here on
    ctx = search.context(1)
    params = list(search.net.parameters())
    grads = torch.autograd.grad(ctx.train_loss(search.method.weight_mixture(search.arch.as_dict(), ctx)), params,
                                allow_unused=True)
    ours = search.unrolled_weights(params, grads, ctx.lr)
    rec, state = search.recipe, search.w_opt.state
    with torch.no_grad():
        plain = [p - ctx.lr * (rec.w_momentum * state[p]["momentum_buffer"] + (torch.zeros_like(p) if g is None else g)
                               + rec.w_wd * p) for p, g in zip(params, grads, strict=True)]
    assert any(w.stride() != p.stride() for w, p in zip(plain, params, strict=True))  # the case this guards
    for w, p, ref in zip(ours, params, plain, strict=True):
        assert w.stride() == p.stride() and w.is_leaf and w.requires_grad
        assert torch.equal(w, ref)


@pytest.mark.parametrize("groups", [2, 4])
def test_channel_shuffle_keeps_the_memory_format_and_the_values(groups):
    """PC-DARTS's shuffle of a channels-last map is channels-last and equals the NCHW shuffle
    (values and gradient): the output of every PC-DARTS edge stays in the network's format."""
    x = torch.randn(2, 8, 5, 3, generator=torch.Generator().manual_seed(6))
    plain = channel_shuffle(x, groups)
    assert plain.is_contiguous()
    assert torch.equal(plain[:, 1], x[:, 8 // groups])  # channel 1 comes from group 1's first channel
    xl = x.clone().contiguous(memory_format=torch.channels_last).requires_grad_(True)
    out = channel_shuffle(xl, groups)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    assert torch.equal(out, plain)
    weight = torch.randn(out.shape, generator=torch.Generator().manual_seed(7))
    (out * weight).sum().backward()
    xc = x.clone().requires_grad_(True)
    (channel_shuffle(xc, groups) * weight).sum().backward()
    assert torch.equal(xl.grad, xc.grad)
