"""Layer sequences: a network as the list of its layers in forward order (torch-free).

Each family derives the sequence of a spec from its table (``Family.layer_sequence``); the learned
architecture kernel reads it as a feature matrix (``archspace.search.layer_features``) and the
family contract check compares it with the layers a built module actually runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

LAYER_TYPES: tuple[str, ...] = ("conv", "identity", "avg_pool", "max_pool", "zero", "global_pool", "linear")
# Layer types that a torch module runs as a module of its own (what the contract check compares).
MODULE_LAYER_TYPES: tuple[str, ...] = ("conv", "linear", "max_pool", "avg_pool")


@dataclass(frozen=True)
class LayerConfig:
    """One layer of a network in forward order; ``inputs`` are indices of earlier layers."""

    type: str
    kernel: int = 0
    stride: int = 1
    padding: int = 0
    groups: int = 1
    c_in: int = 0
    c_out: int = 0
    inputs: tuple[int, ...] = ()


class SequenceBuilder:
    """Appends layers and returns their indices (what family sequencers write with)."""

    def __init__(self) -> None:
        self.layers: list[LayerConfig] = []

    def add(self, layer: LayerConfig) -> int:
        self.layers.append(layer)
        return len(self.layers) - 1


# Called by a sequencer after each stage with (builder, stage index, producers of the stage's
# output, its width); returns the new producers. How inserts such as attention cells are spliced in.
StageHook = Callable[[SequenceBuilder, int, tuple[int, ...], int], tuple[int, ...]]


def module_signature(layer: LayerConfig) -> tuple:
    """What a built module of this layer shows: type, kernel, stride, padding, groups, widths."""
    if layer.type == "linear":
        return ("linear", layer.c_in, layer.c_out)
    if layer.type in ("max_pool", "avg_pool"):
        return (layer.type, layer.kernel, layer.stride, layer.padding)
    return (layer.type, layer.kernel, layer.stride, layer.padding, layer.groups, layer.c_in, layer.c_out)
