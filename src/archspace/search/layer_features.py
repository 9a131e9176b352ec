"""Per-layer configuration vectors: the input of the learned architecture kernel.

A network is described as the sequence of its layers in forward order. Each layer is a
``LayerConfig`` (type, kernel size, stride, padding, groups, input/output channels and the
indices of the layers it reads from); ``layer_features`` turns the sequence into a matrix whose
rows are

    [type one-hot | kernel, stride, padding, log2 groups, log2 c_in, log2 c_out (scaled) |
     in-edge vector | out-edge vector]

The edge vectors are windows over the sequence: ``in[k] = 1`` when the layer reads the output of
the layer ``k + 1`` positions earlier, ``out[k] = 1`` when the layer ``k + 1`` positions later
reads this one, so chains, residual blocks and cell DAGs share one representation.

Each architecture kind registers a sequencer (``register_layer_sequence``); NAS-Bench-201 cells
(kind ``nb201``) and AnyNet / RegNet models (kind ``anynet``: stem conv, per block the 1x1 / 3x3
group / 1x1 convs and the projection shortcut, head) are registered here; another kind plugs in
by writing ``fn(arch, **options) -> list[LayerConfig]`` and registering it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError

LAYER_TYPES: tuple[str, ...] = ("conv", "identity", "avg_pool", "max_pool", "zero", "global_pool", "linear")
N_NUMERIC = 6
DEFAULT_WINDOW = 8


def feature_dim(window: int = DEFAULT_WINDOW) -> int:
    """Length of one layer vector for a given edge-window size."""
    return len(LAYER_TYPES) + N_NUMERIC + 2 * window


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


Sequencer = Callable[..., list[LayerConfig]]
_SEQUENCERS: dict[str, Sequencer] = {}


def register_layer_sequence(kind: str) -> Callable[[Sequencer], Sequencer]:
    """Decorator: use ``fn(arch, **options) -> list[LayerConfig]`` for specs of ``kind``."""

    def wrap(fn: Sequencer) -> Sequencer:
        _SEQUENCERS[kind] = fn
        return fn

    return wrap


def layer_sequence(arch: ArchSpec, **options) -> list[LayerConfig]:  # noqa: ANN003
    """The layers of ``arch`` in forward order (dispatch on ``arch.kind``)."""
    fn = _SEQUENCERS.get(arch.kind)
    if fn is None:
        raise UsageError(
            f"no layer sequence for architecture kind {arch.kind!r}; known kinds: {sorted(_SEQUENCERS)}"
        )
    return fn(arch, **options)


def _log2_scaled(value: int, scale: float) -> float:
    return math.log2(value) / scale if value > 0 else 0.0


def layer_features(arch: ArchSpec, window: int = DEFAULT_WINDOW, **options) -> np.ndarray:  # noqa: ANN003
    """Matrix (n_layers, ``feature_dim(window)``) of per-layer configuration vectors."""
    return sequence_features(layer_sequence(arch, **options), window)


def sequence_features(layers: list[LayerConfig], window: int = DEFAULT_WINDOW) -> np.ndarray:
    """Feature matrix of an explicit layer list (see the module docstring for the layout)."""
    n_types = len(LAYER_TYPES)
    out = np.zeros((len(layers), feature_dim(window)), dtype=np.float32)
    edge0 = n_types + N_NUMERIC
    for i, layer in enumerate(layers):
        out[i, LAYER_TYPES.index(layer.type)] = 1.0
        out[i, n_types : edge0] = (
            layer.kernel / 7.0,
            layer.stride / 2.0,
            layer.padding / 3.0,
            _log2_scaled(layer.groups, 8.0),
            _log2_scaled(layer.c_in, 10.0),
            _log2_scaled(layer.c_out, 10.0),
        )
        for src in layer.inputs:
            offset = i - src - 1
            if 0 <= offset < window:
                out[i, edge0 + offset] = 1.0
                out[src, edge0 + window + offset] = 1.0
    return out


# --- NAS-Bench-201 ---------------------------------------------------------------------------------

# Edge order of the benchmark's cell string: (target, source) for 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
NB201_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

_NB201_OPS: dict[str, tuple[str, int, int]] = {  # op -> (layer type, kernel, padding)
    "none": ("zero", 0, 0),
    "skip_connect": ("identity", 0, 0),
    "nor_conv_1x1": ("conv", 1, 0),
    "nor_conv_3x3": ("conv", 3, 1),
    "avg_pool_3x3": ("avg_pool", 3, 1),
}


class _SequenceBuilder:
    """Appends layers and returns their indices."""

    def __init__(self) -> None:
        self.layers: list[LayerConfig] = []

    def add(self, layer: LayerConfig) -> int:
        self.layers.append(layer)
        return len(self.layers) - 1


def _nb201_cell(b: _SequenceBuilder, ops: tuple[str, ...], channels: int, inputs: tuple[int, ...]) -> tuple[int, ...]:
    """Append one cell's edge layers; returns the producers of its output node."""
    producers: dict[int, list[int]] = {0: list(inputs), 1: [], 2: [], 3: []}
    for (target, source), op in zip(NB201_EDGES, ops, strict=True):
        kind, kernel, padding = _NB201_OPS[op]
        if kind == "zero":
            b.add(LayerConfig("zero", c_in=channels, c_out=channels))
            continue
        index = b.add(
            LayerConfig(kind, kernel, 1, padding, 1, channels, channels, tuple(producers[source]))
        )
        producers[target].append(index)
    return tuple(producers[3])


def _nb201_reduction(b: _SequenceBuilder, c_in: int, c_out: int, inputs: tuple[int, ...]) -> tuple[int, ...]:
    """The benchmark's residual reduction block: two 3x3 convs, avg-pool + 1x1 conv shortcut."""
    conv_a = b.add(LayerConfig("conv", 3, 2, 1, 1, c_in, c_out, inputs))
    conv_b = b.add(LayerConfig("conv", 3, 1, 1, 1, c_out, c_out, (conv_a,)))
    pool = b.add(LayerConfig("avg_pool", 2, 2, 0, 1, c_in, c_in, inputs))
    proj = b.add(LayerConfig("conv", 1, 1, 0, 1, c_in, c_out, (pool,)))
    return (conv_b, proj)


def nb201_layer_sequence(
    cell: ArchSpec,
    channels: int = 16,
    cells_per_stage: int = 1,
    num_classes: int = 10,
    macro: bool = True,
) -> list[LayerConfig]:
    """Layers of the NB201 macro network around ``cell``: stem, 3 stages, 2 reductions, head.

    ``cells_per_stage`` repeats the cell in each stage (the benchmark network has 5); the default
    of 1 keeps the sequence short (29 layers) since repeats add no information about the cell.
    ``macro=False`` gives only the 6 edge layers of one cell (the fixed skeleton is the same for
    every cell, so it carries no information either; 5x shorter sequences train 5x faster).
    """
    if cells_per_stage < 1:
        raise UsageError(f"cells_per_stage must be >= 1, got {cells_per_stage}")
    ops = tuple(cell.ops)  # type: ignore[attr-defined]
    b = _SequenceBuilder()
    if not macro:
        _nb201_cell(b, ops, channels, ())
        return b.layers
    out: tuple[int, ...] = (b.add(LayerConfig("conv", 3, 1, 1, 1, 3, channels, ())),)
    width = channels
    for stage in range(3):
        if stage > 0:
            out = _nb201_reduction(b, width, 2 * width, out)
            width *= 2
        for _ in range(cells_per_stage):
            out = _nb201_cell(b, ops, width, out)
    pool = b.add(LayerConfig("global_pool", c_in=width, c_out=width, inputs=out))
    b.add(LayerConfig("linear", c_in=width, c_out=num_classes, inputs=(pool,)))
    return b.layers


register_layer_sequence("nb201")(nb201_layer_sequence)


# --- AnyNet / RegNet ------------------------------------------------------------------------------

_STEMS: dict[str, tuple[int, int]] = {  # stem -> (kernel, stride) of its conv
    "res_stem_cifar": (3, 1),
    "simple_stem_in": (3, 2),
    "res_stem_in": (7, 2),
}


def _anynet_block(b: _SequenceBuilder, block: str, stage: Any, w_in: int, stride: int,
                  inputs: tuple[int, ...]) -> tuple[int, ...]:
    """One V / R / X / Y block (the SE of Y is not a layer here); returns its output producers."""
    w_out = stage.width
    if block in ("V", "R"):
        first = b.add(LayerConfig("conv", 3, stride, 1, 1, w_in, w_out, inputs))
        last = b.add(LayerConfig("conv", 3, 1, 1, 1, w_out, w_out, (first,)))
    else:
        w_b = stage.bottleneck_width
        reduce_ = b.add(LayerConfig("conv", 1, 1, 0, 1, w_in, w_b, inputs))
        group = b.add(LayerConfig("conv", 3, stride, 1, stage.groups, w_b, w_b, (reduce_,)))
        last = b.add(LayerConfig("conv", 1, 1, 0, 1, w_b, w_out, (group,)))
    if block == "V":
        return (last,)
    if w_in != w_out or stride != 1:
        return (last, b.add(LayerConfig("conv", 1, stride, 0, 1, w_in, w_out, inputs)))
    return (last, *inputs)


def anynet_layer_sequence(arch: Any, num_classes: int = 1000, in_channels: int = 3) -> list[LayerConfig]:
    """Layers of an AnyNet / RegNet model: stem conv, every block's convs and projections, head."""
    kernel, stride = _STEMS.get(arch.stem, (3, 2))
    b = _SequenceBuilder()
    out: tuple[int, ...] = (b.add(LayerConfig("conv", kernel, stride, kernel // 2, 1, in_channels, arch.stem_width)),)
    if arch.stem == "res_stem_in":
        out = (b.add(LayerConfig("max_pool", 3, 2, 1, 1, arch.stem_width, arch.stem_width, out)),)
    width = arch.stem_width
    for stage in arch.stages:
        for index in range(stage.depth):
            out = _anynet_block(b, arch.block, stage, width, stage.stride if index == 0 else 1, out)
            width = stage.width
    if arch.head_width > 0:
        out = (b.add(LayerConfig("conv", 1, 1, 0, 1, width, arch.head_width, out)),)
        width = arch.head_width
    pool = b.add(LayerConfig("global_pool", c_in=width, c_out=width, inputs=out))
    b.add(LayerConfig("linear", c_in=width, c_out=num_classes, inputs=(pool,)))
    return b.layers


register_layer_sequence("anynet")(anynet_layer_sequence)
