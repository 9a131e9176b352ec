"""The NSS super network: channel masking and depth sharing over the expanded space (torch).

One network holds the weights of the largest network of a (possibly reduced) expanded space:
per stage ``max_depth`` basic residual blocks of ``max_width`` channels, built from the same table
rows as the stand-alone module (``table.EXPANDED``: the AnyNet R block and CIFAR stem). A choice
of architectures enters the forward pass as a ``SuperChoice``:

- **channel masking**: stage i multiplies every conv output (after BatchNorm) by a mask over its
  ``max_width`` channels (folded into the BatchNorm's affine weights, ``masked_batch_norm``); width w is the mask with the first w channels at 1 and the rest at 0, a
  mixture over spaces is the probability-weighted sum of such masks (m[c] = P(w > c));
- **depth sharing**: stage i runs its blocks in sequence and returns sum_d P(depth = d) h_d, where
  h_d is the output of block d; depth d alone takes the output of the d-th block;
- the first block of stage 1 reads the stem's w0 channels: its shortcut is the identity when the
  stage width equals w0 (stride 1), else a projection, mixed with weight P(w1 = w0).

So a one-hot choice computes exactly the stand-alone network of that architecture with the same
weights (the tests compare a masked super-block with ``anynet.modules.Block``), and
``expected_flops`` counts a one-hot choice's flops exactly (the mixture's flops under a relaxed
choice, with E[c_in c_out] taken as E[c_in] E[c_out]). Memory is that of the largest network.

Warm-up (``SuperChoice.active``): a block outside the choice can be switched on (it runs, the
choice's depth then reads the last block that ran) and channels outside the width can be
enabled in the mask; ``archspace.nss.search`` does this with a probability annealed to 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from archspace.complexity import counts
from archspace.complexity.counts import CostTracker
from archspace.errors import UsageError
from archspace.families.nss.cost import stage_sizes
from archspace.families.nss.table import EXPANDED


@dataclass(frozen=True)
class SuperNetConfig:
    """Size of the super network: the largest network of the (reduced) expanded space."""

    max_depth: int = EXPANDED.max_depth
    max_width: int = EXPANDED.max_width
    stem_width: int = EXPANDED.stem_width
    num_classes: int = 100
    in_channels: int = 3

    def __post_init__(self) -> None:
        for name, top in (("max_depth", EXPANDED.max_depth), ("max_width", EXPANDED.max_width),
                          ("stem_width", None), ("num_classes", None), ("in_channels", None)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (top is not None and value > top):
                allowed = f"in [1, {top}]" if top else ">= 1"
                raise UsageError(f"super network {name} must be an integer {allowed}, got {value!r}")

    def to_dict(self) -> dict:
        return {"max_depth": self.max_depth, "max_width": self.max_width, "stem_width": self.stem_width,
                "num_classes": self.num_classes, "in_channels": self.in_channels}


@dataclass
class SuperChoice:
    """What one forward pass runs: per stage a channel mask (max_width,), depth weights
    (max_depth,) over "the output of block d", optional active-block flags (max_depth,), and the
    weight of the identity shortcut of stage 1's first block (P(w1 = w0))."""

    masks: list[torch.Tensor]
    depth_weights: list[torch.Tensor]
    identity_weight: torch.Tensor
    active: list[torch.Tensor] | None = None


def one_hot_choice(depths: tuple[int, ...], widths: tuple[int, ...], config: SuperNetConfig,
                   device: torch.device | str = "cpu") -> SuperChoice:
    """The choice that runs exactly the network (depths, widths)."""
    channels = torch.arange(config.max_width, device=device)
    masks = [(channels < w).float() for w in widths]
    depth_weights = [torch.nn.functional.one_hot(torch.tensor(d - 1), config.max_depth).float().to(device)
                     for d in depths]
    identity = torch.tensor(float(widths[0] == config.stem_width and EXPANDED.strides[0] == 1), device=device)
    return SuperChoice(masks, depth_weights, identity)


def _conv_bn(c_in: int, c_out: int, kernel: int, stride: int) -> tuple[nn.Conv2d, nn.BatchNorm2d]:
    return nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(c_out)


def masked_batch_norm(bn: nn.BatchNorm2d, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``bn(x) * mask`` per channel, computed as one BatchNorm with weight gamma * m and bias beta * m.

    The same function (m (gamma x_hat + beta) = (m gamma) x_hat + m beta; bit-identical for 0/1
    masks), but the mask's gradient comes out of BatchNorm's fused weight/bias reductions instead
    of a full-size product per conv, and no extra activation is stored or saved: this is what keeps
    the super network's steps near the largest network's in time and memory (benchmarks/bench_nss.py).
    The running statistics are updated exactly as ``bn.forward`` updates them.
    """
    factor = 0.0
    if bn.training and bn.track_running_stats:
        bn.num_batches_tracked.add_(1)
        factor = bn.momentum if bn.momentum is not None else 1.0 / float(bn.num_batches_tracked)
    batch_stats = bn.training or bn.running_mean is None
    keep_stats = not bn.training or bn.track_running_stats
    return nn.functional.batch_norm(x, bn.running_mean if keep_stats else None, bn.running_var if keep_stats else None,
                                    bn.weight * mask, bn.bias * mask, batch_stats, factor, bn.eps)


class MaskedBlock(nn.Module):
    """A basic residual block of max width whose outputs are channel-masked (the R row's convs)."""

    def __init__(self, w_in: int, width: int, stride: int, first_of_network: bool) -> None:
        super().__init__()
        row = EXPANDED.block_row
        symbols = {"in": w_in, "out": width}
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for conv in row.convs:
            c, b = _conv_bn(symbols[conv.w_in], symbols[conv.w_out], conv.kernel, stride if conv.strided else 1)
            self.convs.append(c)
            self.bns.append(b)
        self.w_in, self.width, self.stride = w_in, width, stride
        # A projection whenever some choice changes the shape; stage 1's first block may also be identity.
        self.has_projection = stride != 1 or w_in != width
        self.can_be_identity = first_of_network and stride == 1 and w_in <= width
        if self.has_projection:
            self.proj_conv, self.proj_bn = _conv_bn(w_in, width, 1, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, identity_weight: torch.Tensor | None = None) -> torch.Tensor:
        out = x
        last = len(self.convs) - 1
        for index, (conv, bn) in enumerate(zip(self.convs, self.bns, strict=True)):
            out = masked_batch_norm(bn, conv(out), mask)
            if index < last:
                out = self.relu(out)
        if not self.has_projection:
            shortcut = x
        else:
            shortcut = masked_batch_norm(self.proj_bn, self.proj_conv(x), mask)
            if self.can_be_identity and identity_weight is not None:
                padded = nn.functional.pad(x, (0, 0, 0, 0, 0, self.width - self.w_in))
                shortcut = identity_weight * padded + (1 - identity_weight) * shortcut
        return self.relu(out + shortcut)


class NSSSuperNet(nn.Module):
    """Stem, 3 stages of ``max_depth`` masked blocks of ``max_width`` channels, pool, linear."""

    def __init__(self, config: SuperNetConfig) -> None:
        super().__init__()
        self.config = config
        stem = EXPANDED.stem_row
        conv, bn = _conv_bn(config.in_channels, config.stem_width, stem.kernel, stem.stride)
        self.stem = nn.Sequential(conv, bn, nn.ReLU(inplace=True))
        self.stages = nn.ModuleList()
        w_in = config.stem_width
        for index, stride in enumerate(EXPANDED.strides):
            blocks = [MaskedBlock(w_in if b == 0 else config.max_width, config.max_width, stride if b == 0 else 1,
                                  first_of_network=index == 0 and b == 0) for b in range(config.max_depth)]
            self.stages.append(nn.ModuleList(blocks))
            w_in = config.max_width
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(config.max_width, config.num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor, choice: SuperChoice) -> torch.Tensor:
        h = self.stem(x)
        for index, blocks in enumerate(self.stages):
            h = self._stage(index, blocks, h, choice)
        return self.classifier(torch.flatten(self.pool(h), 1))

    def _stage(self, index: int, blocks: nn.ModuleList, h: torch.Tensor, choice: SuperChoice) -> torch.Tensor:
        mask = choice.masks[index]
        identity = choice.identity_weight if index == 0 else None
        if choice.active is not None:
            # warm-up: run block 0 and every active block (an inactive one is the identity), in order
            active = choice.active[index].tolist()
            for b, block in enumerate(blocks):
                if b == 0 or active[b]:
                    h = block(h, mask, identity if b == 0 else None)
            return h
        weights = choice.depth_weights[index]
        nonzero = torch.nonzero(weights.detach()).flatten()
        last = int(nonzero.max()) if len(nonzero) else 0
        out = None
        for b in range(last + 1):
            h = blocks[b](h, mask, identity if b == 0 else None)
            term = weights[b] * h
            out = term if out is None else out + term
        return out

    def expected_flops(self, choice: SuperChoice, resolution: int) -> torch.Tensor:
        """flops of the choice (exact for a one-hot choice; the relaxed mixture's otherwise)."""
        sizes = stage_sizes(resolution)
        c = self.config
        cx = CostTracker(resolution, resolution)
        stem = EXPANDED.stem_row
        counts.conv2d(cx, c.in_channels, c.stem_width, stem.kernel, stem.stride)
        total = torch.tensor(float(cx.flops))
        w_prev = torch.tensor(float(c.stem_width))
        for index, stride in enumerate(EXPANDED.strides):
            width = choice.masks[index].sum()
            reach = torch.flip(torch.cumsum(torch.flip(choice.depth_weights[index], [0]), 0), [0])  # P(depth > b)
            strided = next(conv for conv in EXPANDED.block_row.convs if conv.strided)
            after = counts.out_size(sizes[index], strided.kernel, stride, strided.kernel // 2)  # later blocks' size
            for b in range(c.max_depth):
                w_in = w_prev if b == 0 else width
                block = _block_flops(w_in, width, stride if b == 0 else 1, sizes[index] if b == 0 else after)
                if b == 0:
                    projection = _conv_flops(w_in, width, 1, stride, sizes[index])
                    keep = 1 - choice.identity_weight if index == 0 else torch.tensor(1.0)
                    block = block + keep * projection
                total = total + reach[b] * block
            w_prev = width
        return total + w_prev * c.num_classes + c.num_classes


def _conv_flops(c_in: torch.Tensor, c_out: torch.Tensor, kernel: int, stride: int, size: int) -> torch.Tensor:
    out = counts.out_size(size, kernel, stride, kernel // 2)
    return kernel * kernel * c_in * c_out * out * out


def _block_flops(w_in: torch.Tensor, width: torch.Tensor, stride: int, size: int) -> torch.Tensor:
    """flops of the R row's convs for (effective) input and output widths."""
    symbols = {"in": w_in, "out": width}
    total, current = 0.0, size
    for conv in EXPANDED.block_row.convs:
        s = stride if conv.strided else 1
        total = total + _conv_flops(symbols[conv.w_in], symbols[conv.w_out], conv.kernel, s, current)
        current = counts.out_size(current, conv.kernel, s, conv.kernel // 2)
    return total
