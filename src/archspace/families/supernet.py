"""Mixed ops of differentiable (one-shot) search networks, shared by every family (torch).

A ``MixedOp`` holds every candidate op of one edge and returns their sum weighted by a row of
mixing weights (DARTS: softmax(alpha)); given a sampled ``index`` it runs only that op and adds
the other weights as zero-valued terms, so a hard straight-through one-hot (GDAS) computes one
op but every weight still gets a gradient. ``partial`` > 1 is PC-DARTS's partial channel
connection: the ops see the first 1/partial of the channels, the rest bypass the edge (max-pooled
at stride 2) and the result is channel-shuffled. ``node_softmax`` is PC-DARTS's edge
normalization: a softmax of edge weights over each node's incoming edges. A family's search
network (``families/<kind>/supernet.py``) builds its cells from these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from archspace.errors import UsageError


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Interleave ``groups`` channel groups (ShuffleNet), so later edges see other channels."""
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class MixedOp(nn.Module):
    """Every candidate op of one edge; ``forward(x, weights, index)`` mixes them (see module doc)."""

    def __init__(self, ops: Sequence[nn.Module], partial: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.candidates = nn.ModuleList(ops)
        self.partial, self.stride = int(partial), int(stride)
        self.bypass = nn.MaxPool2d(2, 2) if self.partial > 1 and self.stride == 2 else None

    def forward(self, x: torch.Tensor, weights: torch.Tensor, index: int | None = None) -> torch.Tensor:
        if self.partial > 1:
            width = x.shape[1] // self.partial
            x, rest = x[:, :width], x[:, width:]
        if index is None:
            out = sum(w * op(x) for w, op in zip(weights, self.candidates, strict=True))
        else:
            out = self.candidates[index](x) * weights[index] + (weights.sum() - weights[index])
        if self.partial > 1:
            rest = rest if self.bypass is None else self.bypass(rest)
            out = channel_shuffle(torch.cat([out, rest], dim=1), self.partial)
        return out


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


__all__ = ["MixedOp", "Mixture", "channel_shuffle", "node_softmax", "strip_affine"]


def op_subset(ops: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """``ops`` as a non-empty subset of ``allowed`` in ``allowed``'s order; ``UsageError`` otherwise."""
    chosen = tuple(ops)
    if not chosen or any(op not in allowed for op in chosen):
        raise UsageError(f"ops must be a non-empty subset of {list(allowed)}, got {list(chosen)}")
    return tuple(op for op in allowed if op in chosen)
