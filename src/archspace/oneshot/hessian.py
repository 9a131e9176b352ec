"""Curvature of a loss with respect to a (small) parameter vector: Hessian-vector products by
double backward, the dominant eigenvalue by power iteration (DARTS-ES's stopping signal) and
the top-k eigenvectors with deflation (the loss-landscape directions). ``loss_of(x)`` is any
differentiable function of a flat vector; randomness comes from the given seed only."""

from __future__ import annotations

from collections.abc import Callable

import torch

LossOf = Callable[[torch.Tensor], torch.Tensor]


def hvp(loss_of: LossOf, point: torch.Tensor, vector: torch.Tensor) -> torch.Tensor:
    """H(point) @ vector for the Hessian of ``loss_of`` at ``point``."""
    x = point.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(loss_of(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(grad @ vector, x)
    return hv.detach()


def top_eigenpairs(loss_of: LossOf, point: torch.Tensor, k: int = 1, iterations: int = 20,
                   seed: int = 0) -> tuple[list[float], list[torch.Tensor]]:
    """The ``k`` eigenpairs of largest magnitude (power iteration, deflating earlier pairs)."""
    generator = torch.Generator().manual_seed(int(seed))
    values: list[float] = []
    vectors: list[torch.Tensor] = []
    for _ in range(k):
        v = torch.randn(point.numel(), generator=generator, dtype=point.dtype)
        v = v / v.norm()
        value = 0.0
        for _ in range(iterations):
            for u in vectors:
                v = v - (u @ v) * u
            v = v / v.norm().clamp_min(1e-12)
            hv = hvp(loss_of, point, v)
            for u, lam in zip(vectors, values, strict=True):
                hv = hv - lam * (u @ v) * u
            value = float(v @ hv)
            v = hv / hv.norm().clamp_min(1e-12)
        values.append(value)
        vectors.append(v.detach())
    return values, vectors


def dominant_eigenvalue(loss_of: LossOf, point: torch.Tensor, iterations: int = 20, seed: int = 0) -> float:
    return top_eigenpairs(loss_of, point, 1, iterations, seed)[0][0]


__all__ = ["dominant_eigenvalue", "hvp", "top_eigenpairs"]
