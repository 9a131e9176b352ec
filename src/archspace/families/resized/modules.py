"""The torch module of a ``ResizedInput`` spec: bilinear resize to the spec's resolution, then the network."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class Resize(nn.Module):
    """Resize (N, C, H, W) inputs to ``resolution`` x ``resolution`` (bilinear; antialiased when shrinking)."""

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] == (self.resolution, self.resolution):
            return x
        shrinking = self.resolution < min(x.shape[-2:])
        return F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear", align_corners=False,
                             antialias=shrinking)


def build_resized(network: nn.Module, resolution: int) -> nn.Sequential:
    """``Resize(resolution)`` followed by ``network``."""
    return nn.Sequential(Resize(resolution), network)
