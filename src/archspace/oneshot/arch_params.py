"""Architecture parameters of a differentiable search: named tensors kept apart from the weights.

``ArchParameters(shapes, seed)`` holds one ``nn.Parameter`` per group (DARTS: ``normal`` and
``reduce`` (edges, ops) matrices; NB201: ``cell``; PC-DARTS adds ``*_beta`` edge vectors),
initialized as in the reference code (1e-3 x a standard normal, from the seed alone). It gives
the flat vector view that Hessian, neighborhood and landscape code works on (``flat`` /
``unflatten``), and JSON-ready snapshots for the per-epoch record. Nothing here is specific to a
cell family: any search network that declares ``arch_shapes()`` can use it.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn


class ArchParameters(nn.Module):
    """Named architecture tensors (see the module docstring)."""

    def __init__(self, shapes: Mapping[str, tuple[int, ...]], seed: int = 0, scale: float = 1e-3) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(int(seed))
        self.shapes = {name: tuple(int(s) for s in shape) for name, shape in shapes.items()}
        self.values = nn.ParameterDict(
            {name: nn.Parameter(scale * torch.randn(shape, generator=generator)) for name, shape in self.shapes.items()})

    @property
    def names(self) -> list[str]:
        return list(self.shapes)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.values[name]

    def as_dict(self) -> dict[str, torch.Tensor]:
        return {name: self.values[name] for name in self.shapes}

    def flat(self) -> torch.Tensor:
        """All groups concatenated (a view-free copy that keeps the graph)."""
        return torch.cat([self.values[n].reshape(-1) for n in self.shapes])

    def unflatten(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Groups of a flat vector laid out as ``flat()`` (differentiable)."""
        out, start = {}, 0
        for name, shape in self.shapes.items():
            size = int(torch.Size(shape).numel())
            out[name] = flat[start:start + size].reshape(shape)
            start += size
        return out

    @torch.no_grad()
    def assign_flat(self, flat: torch.Tensor) -> None:
        for name, value in self.unflatten(flat).items():
            self.values[name].copy_(value)

    def snapshot(self) -> dict[str, list]:
        """JSON-ready copy of every group (nested lists of floats)."""
        return {name: self.values[name].detach().cpu().tolist() for name in self.shapes}


__all__ = ["ArchParameters"]
