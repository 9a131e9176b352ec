"""Mixed ops of differentiable (one-shot) search networks, shared by every family (torch).

A ``MixedOp`` holds every candidate op of one edge and returns their sum weighted by a row of
mixing weights (DARTS: softmax(alpha)); given a sampled ``index`` it runs only that op and adds
the other weights as zero-valued terms, so a hard straight-through one-hot (GDAS) computes one
op but every weight still gets a gradient. ``partial`` > 1 is PC-DARTS's partial channel
connection: the ops see the first 1/partial of the channels, the rest bypass the edge (max-pooled
at stride 2) and the result is channel-shuffled. ``node_softmax`` is PC-DARTS's edge
normalization: a softmax of edge weights over each node's incoming edges. A family's search
network (``families/<kind>/supernet.py``) builds its cells from these.

The soft mix computes the same sum as ``sum(w_k * op_k(x))`` (to float rounding) with less work:
candidates named in ``zeros`` (the ``none`` op: a zero map) are not run, since a zero term adds
nothing to the sum and its weight's gradient, ``<op_k(x), grad>``, is exactly 0; candidates that
are an ``nn.Sequential`` starting with a (non-inplace) ``nn.ReLU`` share one ReLU of ``x``; and
the terms are accumulated in place (``addcmul_``). ``BoxAvgPool2d`` is ``nn.AvgPool2d`` with
``count_include_pad=False`` as an all-ones depthwise convolution (2-7x faster on the CPU), and
``fast_pooling`` swaps it into a module the way ``strip_affine`` swaps the BatchNorms.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archspace.errors import UsageError


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave ``groups`` channel groups (ShuffleNet), so later edges see other channels.

    The result keeps ``x``'s memory format: a channels-last map is shuffled with one copy into a
    channels-last tensor (the transpose-reshape returns a contiguous one, and every later op of
    a channels-last network would then convert it back)."""
    n, c, h, w = x.shape
    if x.is_contiguous() or not x.is_contiguous(memory_format=torch.channels_last):
        return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
    out = torch.empty_like(x)  # channels-last, like x
    out.view(n, c // groups, groups, h, w).copy_(x.view(n, groups, c // groups, h, w).transpose(1, 2))
    return out


def _relu_led(op: nn.Module) -> bool:
    """Whether ``op`` is a Sequential whose first layer is a plain ReLU (shareable across ops)."""
    return isinstance(op, nn.Sequential) and len(op) > 1 and type(op[0]) is nn.ReLU and not op[0].inplace


class MixedOp(nn.Module):
    """Every candidate op of one edge; ``forward(x, weights, index)`` mixes them (see module doc).

    ``zeros``: indices of candidates whose output is identically zero (skipped in the soft mix).
    Which candidates share the leading ReLU is read once, here: in the soft mix such a candidate's
    own forward hooks do not run (its layers after the ReLU are called one by one).
    """

    def __init__(self, ops: Sequence[nn.Module], partial: int = 1, stride: int = 1,
                 zeros: Sequence[int] = ()) -> None:
        super().__init__()
        self.candidates = nn.ModuleList(ops)
        self.partial, self.stride = int(partial), int(stride)
        self.bypass = nn.MaxPool2d(2, 2) if self.partial > 1 and self.stride == 2 else None
        skipped = {int(k) for k in zeros}
        if not skipped <= set(range(len(self.candidates))):
            raise UsageError(f"zeros must index the {len(self.candidates)} candidates, got {sorted(skipped)}")
        self.active = tuple(k for k in range(len(self.candidates)) if k not in skipped)
        self.relu_led = tuple(_relu_led(op) for op in self.candidates)

    def forward(self, x: torch.Tensor, weights: torch.Tensor, index: int | None = None) -> torch.Tensor:
        if self.partial > 1:
            width = x.shape[1] // self.partial
            x, rest = x[:, :width], x[:, width:]
        if index is None:
            out = self.mix(x, weights)
        else:
            # w_i * op_i(x) + sum of the other weights (0 in value, their straight-through gradient), one kernel
            out = torch.addcmul(weights.sum() - weights[index], self.candidates[index](x), weights[index])
        if self.partial > 1:
            rest = rest if self.bypass is None else self.bypass(rest)
            out = channel_shuffle(torch.cat([out, rest], dim=1), self.partial)
        return out

    def mix(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """``sum_k weights[k] * op_k(x)`` over the non-zero candidates (see the module docstring)."""
        if not self.active:  # every candidate is a zero map: the sum is one of them
            return self.candidates[0](x) * weights[0]
        ws = weights.unbind(0)
        shared: torch.Tensor | None = None
        out: torch.Tensor | None = None
        for k in self.active:
            op = self.candidates[k]
            if self.relu_led[k]:
                shared = torch.relu(x) if shared is None else shared
                h = shared
                for layer in itertools.islice(op, 1, None):
                    h = layer(h)
            else:
                h = op(x)
            out = h * ws[k] if out is None else out.addcmul_(h, ws[k])
        return out


def _pair(value: Any) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else (int(value[0]), int(value[1]))


class BoxAvgPool2d(nn.Module):
    """``nn.AvgPool2d(kernel, stride, padding, count_include_pad=False)`` (floor mode) computed as
    a depthwise convolution with an all-ones kernel (the window sums) divided by the number of
    real pixels in each window; the CPU pooling kernels are 2-7x slower forward + backward at the
    search networks' sizes (NCHW and channels-last), the convolution is oneDNN's."""

    def __init__(self, kernel: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel = _pair(kernel)
        self.stride = _pair(kernel if stride is None else stride)
        self.padding = _pair(padding)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel, strict=True)):
            raise UsageError(f"padding {self.padding} must be at most half the kernel {self.kernel}")
        self._cache: dict[tuple, torch.Tensor] = {}  # ones kernels and window counts by shape

    def _count(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """The real-pixel count of each window of ``x``, as a (1, C, out_h, out_w) tensor in the
        memory format of ``like`` (the sums; broadcasting an (h, w) map over a channels-last
        tensor is ~4x slower)."""
        channels_last = like.dim() == 4 and not like.is_contiguous() and like.is_contiguous(
            memory_format=torch.channels_last)
        c, h, w = x.shape[-3:]
        key = ("count", c, h, w, like.dtype, like.device, channels_last)
        if key not in self._cache:
            axes = []
            for size, k, s, p in zip((h, w), self.kernel, self.stride, self.padding, strict=True):
                start = torch.arange((size + 2 * p - k) // s + 1) * s - p
                axes.append((torch.clamp(start + k, max=size) - torch.clamp(start, min=0)).to(like.dtype))
            count = (axes[0][:, None] * axes[1][None, :]).to(like.device).expand(1, c, -1, -1)
            fmt = torch.channels_last if channels_last else torch.contiguous_format
            self._cache[key] = count.contiguous(memory_format=fmt)
        return self._cache[key]

    def _ones(self, channels: int, like: torch.Tensor) -> torch.Tensor:
        key = ("ones", channels, like.dtype, like.device)
        if key not in self._cache:
            self._cache[key] = torch.ones(channels, 1, *self.kernel, dtype=like.dtype, device=like.device)
        return self._cache[key]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sums = F.conv2d(x, self._ones(x.shape[1], x), stride=self.stride, padding=self.padding, groups=x.shape[1])
        return sums / self._count(x, sums)

    def extra_repr(self) -> str:
        return f"kernel={self.kernel}, stride={self.stride}, padding={self.padding}"


def _boxable(pool: nn.Module) -> bool:
    return (type(pool) is nn.AvgPool2d and not pool.count_include_pad and not pool.ceil_mode
            and pool.divisor_override is None)


def fast_pooling(module: nn.Module) -> nn.Module:
    """Replace every ``nn.AvgPool2d(count_include_pad=False)`` in ``module`` (the module itself
    included) by the equivalent ``BoxAvgPool2d``; returns the (possibly new) module."""
    if _boxable(module):
        return BoxAvgPool2d(module.kernel_size, module.stride, module.padding)
    for name, child in module.named_children():
        if _boxable(child):
            setattr(module, name, BoxAvgPool2d(child.kernel_size, child.stride, child.padding))
        else:
            fast_pooling(child)
    return module


def node_softmax(beta: torch.Tensor, incoming: Sequence[Sequence[int]]) -> torch.Tensor:
    """Edge weights: softmax of ``beta`` over each node's incoming edge indices (PC-DARTS)."""
    parts = [torch.softmax(beta[list(edges)], dim=0) for edges in incoming]
    return torch.cat(parts)


def strip_affine(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm2d in ``module`` by an affine-free one (the search networks' BN)."""
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d) and child.affine:
            setattr(module, name, nn.BatchNorm2d(child.num_features, affine=False))
        else:
            strip_affine(child)
    return module


class Mixture:
    """What a search network's forward mixes with: per op group (e.g. ``normal``, ``reduce``) an
    (edges, ops) weight matrix, optionally the sampled op per edge (GDAS; only those ops run)
    and raw edge-normalization parameters per group (PC-DARTS; normalized by the network)."""

    __slots__ = ("betas", "index", "weights")

    def __init__(self, weights: dict[str, torch.Tensor], index: dict[str, list[int]] | None = None,
                 betas: dict[str, torch.Tensor] | None = None) -> None:
        self.weights, self.index, self.betas = weights, index, betas

    def edge_index(self, group: str) -> list[int] | list[None]:
        if self.index is None:
            return [None] * int(self.weights[group].shape[0])
        return self.index[group]


def op_subset(ops: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``ops`` as a non-empty subset of ``allowed`` in ``allowed``'s order; ``UsageError`` otherwise."""
    chosen = tuple(ops)
    if not chosen or any(op not in allowed for op in chosen):
        raise UsageError(f"ops must be a non-empty subset of {list(allowed)}, got {list(chosen)}")
    return tuple(op for op in allowed if op in chosen)


__all__ = ["BoxAvgPool2d", "MixedOp", "Mixture", "channel_shuffle", "fast_pooling", "node_softmax", "op_subset",
           "strip_affine"]
