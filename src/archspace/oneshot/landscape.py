"""Loss landscape of a found alpha (thesis section 3.5.4): the validation loss over
alpha + l0 v0 + l1 v1 for (l0, l1) on a grid in [-1, 1]^2, where v0, v1 are the two top
eigenvectors of the Hessian of the validation loss w.r.t. alpha (power iteration with deflation,
``hessian.top_eigenpairs``). ``landscape_figure`` draws contour panels side by side (a matplotlib
``Figure`` built without pyplot)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from archspace.oneshot.hessian import top_eigenpairs


@dataclass
class Landscape:
    """Grid coordinates, the loss at each grid point (rows: l1, columns: l0) and the eigenvalues."""

    coords: np.ndarray
    loss: np.ndarray
    eigenvalues: list[float]
    label: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"coords": self.coords.tolist(), "loss": self.loss.tolist(), "eigenvalues": self.eigenvalues,
                "label": self.label}


def loss_landscape(search: Any, points: int = 9, batches: int = 2, iterations: int = 20, seed: int = 0,
                   label: str = "") -> Landscape:
    """The landscape of ``search`` (a ``BilevelSearch``) around its current alpha."""
    loss_of = search.val_loss_of_flat(batches)
    center = search.arch.flat().detach()
    was = search.net.training
    search.net.train()  # the search's own loss: batch statistics, as in the arch steps
    values, vectors = top_eigenpairs(loss_of, center, 2, iterations, seed)
    coords = np.linspace(-1.0, 1.0, points)
    grid = np.zeros((points, points))
    with torch.no_grad():
        for i, b in enumerate(coords):
            for j, a in enumerate(coords):
                grid[i, j] = float(loss_of(center + float(a) * vectors[0] + float(b) * vectors[1]))
    search.net.train(was)
    return Landscape(coords, grid, values, label)


def landscape_figure(panels: Sequence[Landscape], title: str = "") -> Any:
    """Contour panels, one per landscape, on a shared color scale."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2 * len(panels), 3.8))
    low = min(float(p.loss.min()) for p in panels)
    high = max(float(p.loss.max()) for p in panels)
    levels = np.linspace(low, high, 15)
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), k + 1)
        contour = ax.contourf(panel.coords, panel.coords, panel.loss, levels=levels, cmap="viridis")
        ax.contour(panel.coords, panel.coords, panel.loss, levels=levels, colors="k", linewidths=0.3)
        ax.plot([0], [0], "r*")
        ev = ", ".join(f"{v:.3g}" for v in panel.eigenvalues)
        ax.set_title(f"{panel.label}\ntop eigenvalues {ev}", fontsize=9)
        ax.set_xlabel("l0 (eigenvector 1)")
        ax.set_ylabel("l1 (eigenvector 2)")
    fig.colorbar(contour, ax=fig.axes, label="validation loss")
    if title:
        fig.suptitle(title, fontsize=10, y=1.04)
    return fig


__all__ = ["Landscape", "landscape_figure", "loss_landscape"]
