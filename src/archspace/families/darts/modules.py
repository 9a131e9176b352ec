"""Torch modules of DARTS networks, built from the ``Step`` rows of ``archspace.families.darts.table``.

``build_steps`` turns a tuple of steps into an ``nn.Sequential``; ``make_op`` is one cell op
(``none`` = a zero map, strided in a reduction cell; ``skip_connect`` = identity, factorized
reduce at stride 2); ``DartsCell`` is the reference cell (pre-processed inputs, node = sum of two
ops, output = concat); ``DartsNetwork`` the reference ``NetworkCIFAR`` macro network with
optional auxiliary head (``aux_logits`` is set in training) and drop-path (training only, on
non-identity ops). The search supernet (``supernet``) reuses ``build_steps`` and ``make_op``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.table import (
    AUX_WIDTHS,
    CellPlan,
    Step,
    aux_position,
    aux_steps,
    macro_plan,
    op_steps,
    preprocess_steps,
    stem_steps,
    stride_of,
)


class Zero(nn.Module):
    """The ``none`` op: zeros of the output's shape (every ``stride``-th pixel)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs (the second on the map shifted by one pixel), concat, BN."""

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1))


def build_steps(steps: Sequence[Step]) -> nn.Sequential:
    """The modules of ``steps``, in order."""
    layers: list[nn.Module] = []
    for s in steps:
        if s.kind == "relu":
            layers.append(nn.ReLU(inplace=False))
        elif s.kind == "conv":
            layers.append(nn.Conv2d(s.c_in, s.c_out, s.kernel, stride=s.stride, padding=s.padding,
                                    dilation=s.dilation, groups=s.groups, bias=False))
        elif s.kind == "bn":
            layers.append(nn.BatchNorm2d(s.c_out, affine=s.affine))
        elif s.kind == "max_pool":
            layers.append(nn.MaxPool2d(s.kernel, stride=s.stride, padding=s.padding))
        elif s.kind == "avg_pool":
            layers.append(nn.AvgPool2d(s.kernel, stride=s.stride, padding=s.padding, count_include_pad=False))
        elif s.kind == "factorized_reduce":
            layers.append(FactorizedReduce(s.c_in, s.c_out, s.affine))
        else:  # pragma: no cover - the table has no other kinds
            raise ValueError(f"unknown step kind {s.kind!r}")
    return nn.Sequential(*layers)


def make_op(name: str, channels: int, stride: int, affine: bool = True) -> nn.Module:
    """One cell op on ``channels`` channels (stride 2 on the inputs of a reduction cell)."""
    steps = op_steps(name, channels, stride, affine)
    if steps:
        return build_steps(steps)
    return Zero(stride) if name == "none" else nn.Identity()


def drop_path(x: torch.Tensor, drop_prob: float) -> torch.Tensor:
    """Zero whole samples with probability ``drop_prob``, rescale the rest (training only)."""
    keep = 1.0 - drop_prob
    mask = torch.empty(x.size(0), 1, 1, 1, device=x.device, dtype=x.dtype).bernoulli_(keep)
    return x / keep * mask


class DartsCell(nn.Module):
    """The reference cell: pre-processed inputs, node j = op(a) + op(b), output = concat."""

    def __init__(self, pairs: Sequence[tuple[str, int]], concat: Sequence[int], plan: CellPlan) -> None:
        super().__init__()
        self.preprocess0 = build_steps(preprocess_steps(plan.c_prev_prev, plan.channels, plan.reduction_prev))
        self.preprocess1 = build_steps(preprocess_steps(plan.c_prev, plan.channels, False))
        self.sources = tuple(source for _, source in pairs)
        self.concat = tuple(concat)
        self.ops = nn.ModuleList(make_op(op, plan.channels, stride_of(plan.reduction, source))
                                 for op, source in pairs)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(len(self.sources) // 2):
            total = None
            for k in (2 * node, 2 * node + 1):
                op = self.ops[k]
                h = op(states[self.sources[k]])
                if self.training and drop_prob > 0 and not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """The reference ``AuxiliaryHeadCIFAR`` (expects an 8x8 map)."""

    def __init__(self, c_in: int, num_classes: int) -> None:
        super().__init__()
        self.features = build_steps(aux_steps(c_in))
        self.classifier = nn.Linear(AUX_WIDTHS[1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class DartsNetwork(nn.Module):
    """The reference ``NetworkCIFAR`` for one genotype; ``forward`` returns the logits."""

    def __init__(self, genotype: DartsGenotype, channels: int = 36, layers: int = 20, num_classes: int = 10,
                 in_channels: int = 3, auxiliary: bool = False, drop_path_prob: float = 0.0) -> None:
        super().__init__()
        self.genotype, self.drop_path_prob = genotype, float(drop_path_prob)
        self.stem = build_steps(stem_steps(in_channels, channels))
        plans = macro_plan(channels, layers, len(genotype.normal_concat), len(genotype.reduce_concat))
        self.cells = nn.ModuleList(
            DartsCell(genotype.reduce if p.reduction else genotype.normal,
                      genotype.reduce_concat if p.reduction else genotype.normal_concat, p) for p in plans)
        self.aux_at = aux_position(layers)
        self.auxiliary_head = AuxiliaryHead(plans[self.aux_at].c_out, num_classes) if auxiliary else None
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(plans[-1].c_out, num_classes)
        self.aux_logits: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.aux_logits = None
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self.aux_at and self.auxiliary_head is not None and self.training:
                self.aux_logits = self.auxiliary_head(s1)
        return self.classifier(torch.flatten(self.global_pooling(s1), 1))
