"""Per-layer configuration vectors: the input of the learned architecture kernel.

A network is the sequence of its layers in forward order, as its family describes it
(``Space.feature_sequence`` -> ``Family.feature_sequence``, from the family's table); each
``LayerConfig`` becomes a row

    [type one-hot | kernel, stride, padding, log2 groups, log2 c_in, log2 c_out (scaled) |
     in-edge vector | out-edge vector]

The edge vectors are windows over the sequence: ``in[k] = 1`` when the layer reads the output of
the layer ``k + 1`` positions earlier, ``out[k] = 1`` when the layer ``k + 1`` positions later
reads this one, so chains, residual blocks and cell DAGs share one representation. A new family
gets learned kernels by describing its layers; nothing here changes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.families.layers import LAYER_TYPES, LayerConfig

N_NUMERIC = 6
DEFAULT_WINDOW = 8


def feature_dim(window: int = DEFAULT_WINDOW) -> int:
    """Length of one layer vector for a given edge-window size."""
    return len(LAYER_TYPES) + N_NUMERIC + 2 * window


def _log2_scaled(value: int, scale: float) -> float:
    return math.log2(value) / scale if value > 0 else 0.0


def layer_features(arch: ArchSpec, window: int = DEFAULT_WINDOW, space: Any = None, **options: Any) -> np.ndarray:
    """Matrix (n_layers, ``feature_dim(window)``) of ``arch``'s layers.

    The layers come from ``space.feature_sequence`` (its family with its options), or from the
    default family of the spec's kind when no space is given.
    """
    if space is None:
        from archspace.families import family_for

        layers = family_for(arch).feature_sequence(arch, **options)
    else:
        layers = space.feature_sequence(arch, **options)
    return sequence_features(layers, window)


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
