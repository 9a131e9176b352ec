"""The input shape of each named dataset: (resolution, channels, classes), without loading it.

Costing a model (flops, params, acts) needs only the input size and the number of classes, so a
regime can be checked, or a population costed, before any data is read. This is the one table of
those shapes; ``archspace.data.sources`` takes its class counts from it, and ``input_spec`` gives
the same three numbers of a loaded ``Dataset`` in the form ``Space.complexity`` takes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from archspace.errors import UsageError

if TYPE_CHECKING:
    from archspace.data.dataset import Dataset


class DatasetInput(NamedTuple):
    """Square input images of ``resolution`` pixels with ``channels`` channels, ``classes`` labels."""

    resolution: int
    channels: int
    classes: int


DATASET_INPUTS: dict[str, DatasetInput] = {
    "fashion-mnist": DatasetInput(28, 1, 10),
    "mnist": DatasetInput(28, 1, 10),
    "moving-fashion-mnist": DatasetInput(28, 1, 20),  # 8-frame clips (archspace.data.video)
    "cifar10": DatasetInput(32, 3, 10),
    "cifar100": DatasetInput(32, 3, 100),
    "digits": DatasetInput(8, 1, 10),
    "imagenet": DatasetInput(224, 3, 1000),
    "imagenet16": DatasetInput(16, 3, 120),
}
_ALIASES = {"fmnist": "fashion-mnist", "cifar-10": "cifar10", "cifar-100": "cifar100",
            "imagenet16-120": "imagenet16"}


def canonical_name(name: str) -> str:
    """``Fashion_MNIST`` -> ``fashion-mnist``, ``CIFAR-10`` -> ``cifar10`` (unknown names pass through)."""
    key = name.strip().lower().replace("_", "-")
    return _ALIASES.get(key, key)


def known_input(name: str) -> DatasetInput | None:
    """The input shape of a named dataset, or None when the name is not in the table."""
    return DATASET_INPUTS.get(canonical_name(name))


def dataset_input(name: str) -> DatasetInput:
    """The input shape of a named dataset; ``UsageError`` listing the known names otherwise."""
    found = known_input(name)
    if found is None:
        raise UsageError(f"unknown dataset {name!r}: its input size is not known; known: {sorted(DATASET_INPUTS)}")
    return found


def input_spec(data: Dataset, resolution: int | None = None) -> dict[str, int]:
    """``{"resolution", "num_classes", "in_channels"}`` of a loaded dataset (``resolution`` overrides)."""
    return {"resolution": resolution or data.resolution, "num_classes": data.num_classes,
            "in_channels": data.in_channels}
