"""Self-cascades: one trained model applied at two (or more) input resolutions.

The thesis's cheapest committee: run the model on a downscaled image first and only look at the
full-resolution image when the low-resolution prediction is unsure. ``self_cascade_pools`` trains
the model once with ``archspace.train.train`` at the dataset's own resolution, evaluates the
trained module on the validation and test images resized to each resolution (bilinear, with
antialiasing), and returns (held-out, test) prediction pools whose members are ``name@R``, each
costing the model's analytic flops at resolution R (measured with torch's flop counter when the
model is a module rather than a spec). Feed them to ``select_cascade`` / ``evaluate_cascade``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.committee.inputs import PredictionPool, pool_from_arrays
from archspace.errors import UsageError


@dataclass(frozen=True)
class SelfCascadePools:
    """Held-out and test pools of one model at several resolutions, and its training result."""

    heldout: PredictionPool
    test: PredictionPool
    training: Any


def resize_images(images: Any, resolution: int) -> Any:
    """(N, C, H, W) float images resized to resolution x resolution (bilinear, antialiased)."""
    import torch.nn.functional as F

    if images.shape[-1] == resolution and images.shape[-2] == resolution:
        return images
    return F.interpolate(images, size=(resolution, resolution), mode="bilinear", align_corners=False, antialias=True)


def predict_logits(module: Any, images: Any, batch_size: int = 512) -> np.ndarray:
    """float32 logits of ``module`` in eval mode over ``images``, in batches."""
    import torch

    module.eval()
    device = next(module.parameters()).device
    outputs = []
    with torch.no_grad():
        for start in range(0, images.shape[0], batch_size):
            outputs.append(module(images[start:start + batch_size].to(device)).float().cpu())
    return torch.cat(outputs).numpy()


def flops_at(model: Any, module: Any, resolution: int, num_classes: int, in_channels: int) -> float:
    """Per-image flops at ``resolution``: analytic for a spec, measured for a bare module."""
    from archspace.arch import ArchSpec

    if isinstance(model, ArchSpec):
        from archspace.families import family_for

        cx = family_for(model).complexity(model, resolution=resolution, num_classes=num_classes, in_channels=in_channels)
        return float(cx.flops)
    from archspace.complexity.measure import measure_complexity

    return float(measure_complexity(module, (1, in_channels, resolution, resolution)).flops)


def self_cascade_pools(
    model: Any,
    dataset: Any,
    resolutions: Sequence[int],
    recipe: Any = None,
    seed: int = 0,
    device: str = "cpu",
    name: str = "model",
) -> SelfCascadePools:
    """Train ``model`` (spec or module) on ``dataset`` and evaluate it at each of ``resolutions``.

    The cheapest resolution should come first in a cascade; order the members as you wish when
    building one (the pools keep ``resolutions``' order).
    """
    from archspace.train import train

    if len(resolutions) < 1 or len(set(resolutions)) != len(resolutions) or min(resolutions) < 1:
        raise UsageError(f"resolutions must be distinct positive sizes, got {list(resolutions)}")
    if len(dataset.val) == 0:
        raise UsageError("the dataset needs a validation split: it is the held-out split for choosing thresholds")
    result = train(model, dataset, recipe, seed=seed, device=device)
    if result.model is None or result.status != "complete":
        raise UsageError(f"training did not complete ({result.status}: {result.message})")
    heldout, test, costs = {}, {}, {}
    for resolution in resolutions:
        member = f"{name}@{resolution}"
        heldout[member] = predict_logits(result.model, resize_images(dataset.val.images, resolution))
        test[member] = predict_logits(result.model, resize_images(dataset.test.images, resolution))
        costs[member] = flops_at(model, result.model, resolution, dataset.num_classes, dataset.in_channels)
    return SelfCascadePools(
        heldout=pool_from_arrays(heldout, dataset.val.labels.cpu().numpy(), costs, kind="logits"),
        test=pool_from_arrays(test, dataset.test.labels.cpu().numpy(), costs, kind="logits"),
        training=result,
    )
