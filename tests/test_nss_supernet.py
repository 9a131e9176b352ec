"""The NSS super network: a masked super-block at a one-hot choice computes the stand-alone block
with the same weights, the whole super network the stand-alone network, expected flops under a
one-hot choice equal the exact flops, and a Gumbel mixture built from one-hot weights is that
one-hot choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archspace.families import get_family
from archspace.families.anynet.modules import Block
from archspace.families.nss import NSSArch
from archspace.families.nss.cost import to_anynet
from archspace.families.nss.supernet import MaskedBlock, NSSSuperNet, SuperNetConfig, one_hot_choice
from archspace.nss.search import mixture_choice

CONFIG = SuperNetConfig(max_depth=3, max_width=24, num_classes=10, in_channels=1)


def _randomize_bn(module: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.rand(n, generator=gen) + 0.5
            m.bias.data = torch.rand(n, generator=gen) - 0.5
            m.running_mean = torch.rand(n, generator=gen) - 0.5
            m.running_var = torch.rand(n, generator=gen) + 0.5


def _copy_conv_bn(conv, bn, src_conv, src_bn, c_out: int, c_in: int) -> None:  # noqa: ANN001
    conv.weight.data.copy_(src_conv.weight.data[:c_out, :c_in])
    for name in ("weight", "bias"):
        getattr(bn, name).data.copy_(getattr(src_bn, name).data[:c_out])
    bn.running_mean.copy_(src_bn.running_mean[:c_out])
    bn.running_var.copy_(src_bn.running_var[:c_out])


def _copy_block(alone: Block, masked: MaskedBlock, c_in: int, width: int) -> None:
    _copy_conv_bn(alone.transform[0], alone.transform[1], masked.convs[0], masked.bns[0], width, c_in)
    _copy_conv_bn(alone.transform[3], alone.transform[4], masked.convs[1], masked.bns[1], width, width)
    if alone.shortcut is not None:
        _copy_conv_bn(alone.shortcut[0], alone.shortcut[1], masked.proj_conv, masked.proj_bn, width, c_in)


@pytest.mark.parametrize("w_in, width, stride, first", [(16, 16, 1, True), (16, 11, 1, True), (24, 7, 2, False),
                                                         (24, 24, 2, False), (24, 5, 1, False)])
def test_masked_block_at_one_hot_equals_the_standalone_block(w_in, width, stride, first):
    torch.manual_seed(0)
    # the real input width in the choice: w0 for stage 1's first block, the stage width for a
    # repeated block (stride 1), the previous stage's width (here w_in) for a strided first block
    c_in = 16 if first else (width if stride == 1 else w_in)
    masked = MaskedBlock(16 if first else 24, 24, stride, first_of_network=first)
    arch = to_anynet(NSSArch((1, 1, 1), (width, 8, 8)))
    stage = arch.stages[0].__class__(1, width, stride)
    alone = Block(arch, stage, c_in, stride)
    _randomize_bn(masked, 1)
    _copy_block(alone, masked, c_in, width)
    x = torch.zeros(3, masked.w_in, 9, 9)
    x[:, :c_in] = torch.randn(3, c_in, 9, 9)  # channels beyond the choice's input width are masked zeros
    mask = (torch.arange(24) < width).float()
    identity = torch.tensor(float(first and width == 16))
    for mode in ("train", "eval"):
        masked.train(mode == "train")
        alone.train(mode == "train")
        out = masked(x, mask, identity if first else None)
        ref = alone(x[:, :c_in])
        torch.testing.assert_close(out[:, :width], ref, rtol=1e-5, atol=1e-6)
        assert not out[:, width:].any()


def _copy_network(alone: torch.nn.Module, net: NSSSuperNet, arch: NSSArch) -> None:
    _copy_conv_bn(alone.stem[0], alone.stem[1], net.stem[0], net.stem[1], net.config.stem_width, net.config.in_channels)
    w_in = net.config.stem_width
    for s, (depth, width) in enumerate(zip(arch.depths, arch.widths, strict=True)):
        for b in range(depth):
            _copy_block(alone.stages[s][b], net.stages[s][b], w_in if b == 0 else width, width)
        w_in = width
    alone.classifier.weight.data.copy_(net.classifier.weight.data[:, :w_in])
    alone.classifier.bias.data.copy_(net.classifier.bias.data)


@pytest.mark.parametrize("arch", [NSSArch((2, 1, 3), (16, 9, 20)), NSSArch((3, 3, 1), (24, 24, 1)),
                                  NSSArch((1, 2, 2), (5, 17, 24))], ids=str)
def test_super_network_at_one_hot_equals_the_standalone_network(arch):
    torch.manual_seed(1)
    net = NSSSuperNet(CONFIG)
    _randomize_bn(net, 2)
    alone = get_family("nss").build(arch, num_classes=10, in_channels=1)
    _copy_network(alone, net, arch)
    x = torch.randn(4, 1, 28, 28)
    choice = one_hot_choice(arch.depths, arch.widths, CONFIG)
    for mode in ("eval", "train"):
        net.train(mode == "train")
        alone.train(mode == "train")
        torch.testing.assert_close(net(x, choice), alone(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("resolution", [28, 32])
def test_expected_flops_under_one_hot_equal_exact_flops(resolution):
    net = NSSSuperNet(CONFIG)
    family = get_family("nss")
    rng = np.random.default_rng(0)
    for _ in range(12):
        arch = NSSArch(tuple(rng.integers(1, 4, 3).tolist()), tuple(rng.integers(1, 25, 3).tolist()))
        if rng.random() < 0.3:
            arch = NSSArch(arch.depths, (16, *arch.widths[1:]))  # identity first block
        exact = family.complexity(arch, resolution=resolution, num_classes=10, in_channels=1).flops
        assert float(net.expected_flops(one_hot_choice(arch.depths, arch.widths, CONFIG), resolution)) == exact


def test_mixture_of_one_hot_weights_is_the_one_hot_choice():
    depths = torch.tensor([[1, 2, 3], [3, 1, 2], [2, 2, 2]])
    widths = torch.tensor([[16, 9, 20], [4, 24, 1], [16, 16, 16]])
    for j in range(3):
        g = torch.nn.functional.one_hot(torch.tensor(j), 3).float()
        mixed = mixture_choice(g, depths, widths, CONFIG)
        ref = one_hot_choice(tuple(depths[j].tolist()), tuple(widths[j].tolist()), CONFIG)
        for a, b in zip(mixed.masks + mixed.depth_weights, ref.masks + ref.depth_weights, strict=True):
            assert torch.equal(a, b)
        assert float(mixed.identity_weight) == float(ref.identity_weight)


def test_mixture_masks_are_tail_probabilities():
    g = torch.tensor([0.5, 0.3, 0.2])
    widths = torch.tensor([[2, 1, 1], [4, 1, 1], [1, 1, 1]])
    depths = torch.tensor([[1, 1, 1], [3, 1, 1], [3, 1, 1]])
    choice = mixture_choice(g, depths, widths, CONFIG)
    assert choice.masks[0][:5].tolist() == pytest.approx([1.0, 0.8, 0.3, 0.3, 0.0])
    assert choice.depth_weights[0].tolist() == pytest.approx([0.5, 0.0, 0.5])
    assert float(choice.identity_weight) == 0.0


def test_super_network_holds_the_largest_networks_weights():
    """The super network's parameters are exactly those of the largest stand-alone network."""
    net = NSSSuperNet(CONFIG)
    largest = get_family("nss").build(NSSArch((3, 3, 3), (24, 24, 24)), num_classes=10, in_channels=1)
    assert sum(p.numel() for p in net.parameters()) == sum(p.numel() for p in largest.parameters())


def test_masked_batch_norm_is_batch_norm_times_the_mask():
    """The mask folded into BatchNorm's affine weights is bn(x) * m for a soft mask too: same output,
    same running statistics, same gradients for x, the mask and the BN weights; exact at 0/1 masks."""
    from archspace.families.nss.supernet import masked_batch_norm

    torch.manual_seed(3)
    folded, plain = torch.nn.BatchNorm2d(6), torch.nn.BatchNorm2d(6)
    _randomize_bn(folded, 4)
    plain.load_state_dict(folded.state_dict())
    x = torch.randn(5, 6, 4, 4)
    for mask in (torch.tensor([1.0, 0.7, 0.5, 0.2, 0.0, 0.0]), torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0])):
        outputs, grads = [], []
        for fn in (lambda a, m: masked_batch_norm(folded, a, m), lambda a, m: plain(a) * m.view(1, -1, 1, 1)):
            a, m = x.clone().requires_grad_(), mask.clone().requires_grad_()
            out = fn(a, m)
            (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
            outputs.append(out.detach())
            grads.append((a.grad, m.grad))
        torch.testing.assert_close(outputs[0], outputs[1], rtol=1e-6, atol=1e-6)
        for ours, ref in zip(grads[0], grads[1], strict=True):
            torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
        if set(mask.tolist()) <= {0.0, 1.0}:
            assert torch.equal(outputs[0], outputs[1])
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        assert torch.equal(getattr(folded, name), getattr(plain, name))
    torch.testing.assert_close(folded.weight.grad, plain.weight.grad, rtol=1e-5, atol=1e-6)
    folded.eval(), plain.eval()
    mask = torch.tensor([1.0, 0.7, 0.5, 0.2, 0.0, 1.0])
    torch.testing.assert_close(masked_batch_norm(folded, x, mask), plain(x) * mask.view(1, -1, 1, 1))
