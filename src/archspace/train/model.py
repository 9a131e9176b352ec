"""Turn an architecture spec (or a ready module) into a torch module sized for a dataset, with cost.

Specs are built by the space they came from (its family with its options, e.g. NB201's C and N),
or by the default family of their kind when no space is given: ``space.build(arch,
num_classes=..., in_channels=...)`` and the analytic ``space.complexity(arch, resolution=...)``. A plain ``nn.Module`` is used as
is; its cost is measured with ``archspace.complexity.measure.measure_complexity`` when available,
else only its parameter count is known.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from archspace.arch import ArchSpec
from archspace.data.dataset import Dataset
from archspace.errors import UsageError


@dataclass(frozen=True)
class ModelCost:
    """Per-image flops (multiply-adds), params and acts; None where unknown."""

    flops: int | None
    params: int | None
    acts: int | None


def build_for_dataset(arch: ArchSpec, dataset: Dataset, space: Any = None) -> tuple[nn.Module, ModelCost]:
    """Build ``arch`` with the dataset's classes and channels; analytic cost at its resolution.

    space: a Space (or Family) that builds ``arch``; default: the family of the spec's kind.
    """
    if space is None:
        from archspace.families import family_for

        space = family_for(arch)
    module = space.build(arch, num_classes=dataset.num_classes, in_channels=dataset.in_channels)
    cx = space.complexity(
        arch, resolution=dataset.resolution, num_classes=dataset.num_classes, in_channels=dataset.in_channels
    )
    return module, ModelCost(int(cx.flops), int(cx.params), int(cx.acts))


def module_cost(module: nn.Module, dataset: Dataset) -> ModelCost:
    """Measured cost of a ready module on one image of the dataset (params only if unmeasurable)."""
    params = sum(p.numel() for p in module.parameters())
    try:
        from archspace.complexity.measure import measure_complexity
    except ImportError:
        return ModelCost(None, params, None)
    try:
        cx = measure_complexity(module, (1, *dataset.image_shape))
    except Exception:  # a module the flop counter cannot trace still trains
        return ModelCost(None, params, None)
    return ModelCost(int(cx.flops), int(cx.params), int(cx.acts))


def resolve_model(model: ArchSpec | nn.Module, dataset: Dataset, space: Any = None) -> tuple[nn.Module, ModelCost]:
    """A module and its cost from a spec (built fresh by ``space``) or a module (used in place)."""
    if isinstance(model, nn.Module):
        return model, module_cost(model, dataset)
    if isinstance(model, ArchSpec):
        return build_for_dataset(model, dataset, space)
    raise UsageError(f"train() expects an architecture spec or a torch.nn.Module, got {type(model).__name__}")


def check_output_shape(module: nn.Module, dataset: Dataset, device: torch.device) -> None:
    """Fail before training when the model does not map the dataset's images to num_classes logits."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            out = module(dataset.train.images[:2].to(device))
    except RuntimeError as exc:
        raise UsageError(
            f"model cannot process {dataset.name} images of shape {list(dataset.image_shape)}: {exc}"
        ) from None
    finally:
        module.train(was_training)
    if out.dim() != 2 or out.shape[1] != dataset.num_classes:
        raise UsageError(
            f"model outputs shape {list(out.shape)} but {dataset.name} needs (batch, {dataset.num_classes}) logits"
        )
