"""Torch modules for attention cells and attention networks, built from ``table`` and ``spec``.

Inserts work on 5-D volumes (N, C, T, H, W) with 1x1x1 convs; an image backbone's stage output
is viewed as a one-frame volume around each insert. ``cost`` and ``layers`` follow the same order
of layers as these forward passes (the family contract check measures that they agree).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from archspace.families.attention.cost import needs_f0_projection, op_input_width, se_hidden_width
from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp, SEInsert
from archspace.families.attention.table import inner_width, op_width


def pointwise(c_in: int, c_out: int, bias: bool = False) -> nn.Conv3d:
    return nn.Conv3d(c_in, c_out, 1, bias=bias)


def activate(scores: torch.Tensor, activation: str) -> torch.Tensor:
    """The op's activation over the last axis (the attended positions, for softmax)."""
    if activation == "relu":
        return torch.relu(scores)
    if activation == "sigmoid":
        return torch.sigmoid(scores)
    if activation == "softmax":
        return torch.softmax(scores, dim=-1)
    return scores


def to_groups(x: torch.Tensor, dimension: str) -> torch.Tensor:
    """(N, C, T, H, W) -> (N, groups, L, C): the attended positions of each group as rows."""
    n, c, t, h, w = x.shape
    if dimension == "spatial":
        return x.permute(0, 2, 3, 4, 1).reshape(n, t, h * w, c)
    if dimension == "temporal":
        return x.permute(0, 3, 4, 2, 1).reshape(n, h * w, t, c)
    return x.permute(0, 2, 3, 4, 1).reshape(n, 1, t * h * w, c)


def from_groups(y: torch.Tensor, dimension: str, shape: tuple[int, int, int, int]) -> torch.Tensor:
    """Inverse of ``to_groups`` for a result with its own channel count."""
    t, h, w = shape[1:]
    n, c = y.shape[0], y.shape[-1]
    if dimension == "temporal":
        return y.reshape(n, h, w, t, c).permute(0, 4, 3, 1, 2)
    return y.reshape(n, t, h, w, c).permute(0, 4, 1, 2, 3)


def pool_unattended(x: torch.Tensor, dimension: str) -> torch.Tensor:
    """Average over the axes an op does not attend (time for spatial, space for temporal)."""
    if dimension == "spatial":
        return x.mean(dim=2, keepdim=True)
    if dimension == "temporal":
        return x.mean(dim=(3, 4), keepdim=True)
    return x


class AttentionOpModule(nn.Module):
    """One attention op (map-based or dot-product) with optional channel gating."""

    def __init__(self, cell: AttentionCell, op: AttentionOp, c_in: int, channels: int,
                 weighted_inputs: bool) -> None:
        super().__init__()
        self.op = op
        c_inner = inner_width(c_in, cell.inner_divisor)
        c_op = op_width(channels, cell.op_divisor)
        self.from_cell = op.type == "dot" and cell.kv_source == "cell"
        if weighted_inputs:
            self.input_weights = nn.Parameter(torch.full((len(op.inputs),), 1.0 / len(op.inputs)))
        self.g1 = pointwise(c_in, c_inner)
        if op.type == "map":
            self.g2 = nn.Sequential(pointwise(c_inner, c_inner, bias=True), nn.ReLU(inplace=True),
                                    pointwise(c_inner, 1, bias=True))
            self.g3 = pointwise(c_in, c_op)
        else:
            c_src = channels if self.from_cell else c_in
            self.g2 = pointwise(c_src, c_inner)
            self.g3 = pointwise(c_src, c_op)
            self.scale = 1.0 / math.sqrt(c_inner)
        self.gate = nn.Linear(c_op, c_op) if op.gating else None

    def combine(self, nodes: list[torch.Tensor]) -> torch.Tensor:
        """The op's input: f0 for the first op, else the weighted sum of the nodes it reads."""
        if not hasattr(self, "input_weights"):
            return nodes[0]
        parts = [weight * nodes[i] for weight, i in zip(self.input_weights, self.op.inputs)]
        return torch.stack(parts).sum(0) if len(parts) > 1 else parts[0]

    def forward(self, x: torch.Tensor, f0: torch.Tensor) -> torch.Tensor:
        op = self.op
        if op.type == "map":
            weights = activate(self.g2(pool_unattended(self.g1(x), op.dimension)).flatten(2), op.activation)
            y = self.g3(x * weights.view_as(pool_unattended(x[:, :1], op.dimension)))
        else:
            src = f0 if self.from_cell else x
            q = to_groups(self.g1(x), op.dimension)
            k = to_groups(self.g2(src), op.dimension)
            attention = activate(torch.matmul(q, k.transpose(-1, -2)) * self.scale, op.activation)
            y = self.g3(from_groups(torch.matmul(attention, to_groups(src, op.dimension)), op.dimension,
                                    tuple(src.shape[1:])))
        if self.gate is not None:
            y = y * torch.sigmoid(self.gate(y.mean(dim=(2, 3, 4))))[:, :, None, None, None]
        return y


class AttentionCellModule(nn.Module):
    """K ops, concatenated, projected back to C (zero-initialised: starts as the identity), + f0."""

    def __init__(self, cell: AttentionCell, channels: int) -> None:
        super().__init__()
        c_op = op_width(channels, cell.op_divisor)
        self.project_f0 = pointwise(channels, c_op) if needs_f0_projection(cell, channels) else None
        self.ops = nn.ModuleList(AttentionOpModule(cell, op, op_input_width(cell, i, channels), channels, i > 0)
                                 for i, op in enumerate(cell.ops))
        self.output = pointwise(len(cell.ops) * c_op, channels)
        nn.init.zeros_(self.output.weight)

    def forward(self, f0: torch.Tensor) -> torch.Tensor:
        nodes = [f0]
        for index, op in enumerate(self.ops):
            if index == 1 and self.project_f0 is not None:
                nodes[0] = self.project_f0(f0)
            nodes.append(op(op.combine(nodes), f0))
        return f0 + self.output(torch.cat(nodes[1:], dim=1))


class SEInsertModule(nn.Module):
    """Squeeze-excitation on a volume: pool, 1x1x1 down (ReLU), 1x1x1 up, sigmoid, rescale."""

    def __init__(self, insert: SEInsert, channels: int) -> None:
        super().__init__()
        hidden = se_hidden_width(insert, channels)
        self.gate = nn.Sequential(nn.AdaptiveAvgPool3d(1), pointwise(channels, hidden, bias=True), nn.ReLU(inplace=True),
                                  pointwise(hidden, channels, bias=True), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


def build_insert(insert: AttentionCell | SEInsert, channels: int) -> nn.Module:
    return AttentionCellModule(insert, channels) if isinstance(insert, AttentionCell) else SEInsertModule(insert, channels)


class AttentionNetwork(nn.Module):
    """A backbone module (AnyNet or R3D) run stage by stage with inserts after chosen stages."""

    def __init__(self, arch: AttentionNet, backbone: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.images = arch.backbone.kind == "anynet"
        widths = [stage.width for stage in arch.backbone.stages]  # type: ignore[attr-defined]
        self.inserts = nn.ModuleDict({str(p): build_insert(arch.insert, widths[p]) for p in arch.positions})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        net = self.backbone
        x = net.stem(x)
        for index, stage in enumerate(net.stages):
            x = stage(x)
            insert = self.inserts[str(index)] if str(index) in self.inserts else None  # noqa: SIM401 (ModuleDict)
            if insert is not None:
                x = insert(x.unsqueeze(2)).squeeze(2) if self.images else insert(x)
        return net.classifier(net.head(x))
