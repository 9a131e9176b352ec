"""Torch modules for AnyNet specs, built by walking the rows of ``archspace.families.anynet.table``.

``cost`` and ``layers`` walk the same rows, so module, analytic cost and layer sequence cannot
drift apart; the family contract check measures that they agree.
"""

from __future__ import annotations

import torch
from torch import nn

from archspace.families.anynet.cost import se_width
from archspace.families.anynet.spec import AnyNetArch, StageSpec
from archspace.families.anynet.table import BLOCKS, STEM_MAX_POOL, STEMS, width_symbols


def conv_bn(w_in: int, w_out: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(w_in, w_out, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(w_out)]


def make_stem(stem: str, w_in: int, w_out: int) -> nn.Sequential:
    row = STEMS[stem]
    layers = [*conv_bn(w_in, w_out, row.kernel, row.stride), nn.ReLU(inplace=True)]
    if row.max_pool:
        kernel, stride, padding = STEM_MAX_POOL
        layers.append(nn.MaxPool2d(kernel, stride=stride, padding=padding))
    return nn.Sequential(*layers)


def make_upsample(factor: int, mode: str) -> list[nn.Module]:
    """A stage's input upsampling (none for factor 1, so specs without it build the modules they always did)."""
    if factor == 1:
        return []
    return [nn.Upsample(scale_factor=factor, mode=mode, align_corners=False if mode == "bilinear" else None)]


class SqueezeExcite(nn.Module):
    """Channel gating: global pool -> 1x1 conv (w_se) -> ReLU -> 1x1 conv -> sigmoid -> rescale."""

    def __init__(self, width: int, w_se: int) -> None:
        super().__init__()
        self.gate = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(width, w_se, 1, bias=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(w_se, width, 1, bias=True),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)


class Block(nn.Module):
    """One AnyNet block; residual for R/X/Y with a 1x1 projection when the shape changes."""

    def __init__(self, arch: AnyNetArch, stage: StageSpec, w_in: int, stride: int) -> None:
        super().__init__()
        row = BLOCKS[arch.block]
        widths = width_symbols(w_in, stage.width, stage.bottleneck_width)
        layers: list[nn.Module] = []
        for index, conv in enumerate(row.convs):
            c_out = widths[conv.w_out]
            layers += conv_bn(widths[conv.w_in], c_out, conv.kernel, stride if conv.strided else 1,
                              groups=stage.groups if conv.grouped else 1)
            if index < len(row.convs) - 1:
                layers.append(nn.ReLU(inplace=True))
            if index == row.se_after:
                w_se = se_width(arch.block, arch.se_ratio, w_in)
                if w_se:
                    layers.append(SqueezeExcite(c_out, w_se))
        w_out = stage.width
        self.residual = row.residual
        if self.residual:
            nn.init.zeros_(layers[-1].weight)  # zero-init the last BN so each block starts as identity
        self.transform = nn.Sequential(*layers)
        needs_projection = self.residual and (w_in != w_out or stride != 1)
        self.shortcut = nn.Sequential(*conv_bn(w_in, w_out, 1, stride)) if needs_projection else None
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.transform(x)
        if self.residual:
            out = out + (self.shortcut(x) if self.shortcut is not None else x)
        return self.activation(out)


class AnyNet(nn.Module):
    """Stem, stages of blocks, head (optional 1x1 conv, global average pool, linear)."""

    def __init__(self, arch: AnyNetArch, num_classes: int = 1000, in_channels: int = 3) -> None:
        super().__init__()
        self.arch = arch
        self.stem = make_stem(arch.stem, in_channels, arch.stem_width)
        stages, w_in = [], arch.stem_width
        for stage in arch.stages:
            blocks = [Block(arch, stage, w_in if i == 0 else stage.width, stage.stride if i == 0 else 1)
                      for i in range(stage.depth)]
            stages.append(nn.Sequential(*make_upsample(stage.upsample, arch.upsample_mode), *blocks))
            w_in = stage.width
        self.stages = nn.Sequential(*stages)
        head: list[nn.Module] = []
        if arch.head_width > 0:
            head += [*conv_bn(w_in, arch.head_width, 1), nn.ReLU(inplace=True)]
            w_in = arch.head_width
        self.head = nn.Sequential(*head, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(w_in, num_classes)
        _init_weights(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.head(self.stages(self.stem(x))))


def _init_weights(model: nn.Module) -> None:
    """He-normal (fan-out) convs, unit BN (except zero-init last BNs), small-normal classifier."""
    zero_bns = {id(block.transform[-1]) for block in model.modules() if isinstance(block, Block) and block.residual}
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.constant_(module.weight, 0.0 if id(module) in zero_bns else 1.0)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.01)
            nn.init.zeros_(module.bias)


def build_anynet(arch: AnyNetArch, num_classes: int = 1000, in_channels: int = 3) -> AnyNet:
    return AnyNet(arch, num_classes=num_classes, in_channels=in_channels)
