"""Torch modules for R3D specs, built by walking the rows of ``archspace.families.r3d.table``."""

from __future__ import annotations

import torch
from torch import nn

from archspace.families.r3d.spec import R3DArch
from archspace.families.r3d.table import BASIC_BLOCK, PROJECTION_KERNEL, STEM


def conv3d_bn(w_in: int, w_out: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    return [nn.Conv3d(w_in, w_out, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm3d(w_out)]


class Block3d(nn.Module):
    """Basic 3-D residual block; its last BN starts at zero so the block starts as the identity."""

    def __init__(self, w_in: int, w_out: int, stride: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        for index, row in enumerate(BASIC_BLOCK):
            layers += conv3d_bn(w_in if row.w_in == "in" else w_out, w_out, row.kernel, stride if row.strided else 1)
            if index < len(BASIC_BLOCK) - 1:
                layers.append(nn.ReLU(inplace=True))
        nn.init.zeros_(layers[-1].weight)
        self.transform = nn.Sequential(*layers)
        needs_projection = w_in != w_out or stride != 1
        self.shortcut = nn.Sequential(*conv3d_bn(w_in, w_out, PROJECTION_KERNEL, stride)) if needs_projection else None
        self.activation = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.transform(x) + (self.shortcut(x) if self.shortcut is not None else x))


class R3DNetwork(nn.Module):
    """Stem, stages (a list, so cells can be inserted between them), global pool, classifier."""

    def __init__(self, arch: R3DArch, num_classes: int = 10, in_channels: int = 1) -> None:
        super().__init__()
        self.stem = nn.Sequential(*conv3d_bn(in_channels, arch.stem_width, STEM.kernel, STEM.stride),
                                  nn.ReLU(inplace=True))
        stages, width = [], arch.stem_width
        for stage in arch.stages:
            blocks = [Block3d(width if i == 0 else stage.width, stage.width, stage.stride if i == 0 else 1)
                      for i in range(stage.depth)]
            stages.append(nn.Sequential(*blocks))
            width = stage.width
        self.stages = nn.ModuleList(stages)
        self.head = nn.Sequential(nn.AdaptiveAvgPool3d(1), nn.Flatten())
        self.classifier = nn.Linear(width, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv3d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, std=0.01)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        return self.classifier(self.head(x))
