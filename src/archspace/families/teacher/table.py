"""The teacher-graph table: every layer kind a teacher or candidate graph may hold (torch-free).

A graph node sums its inputs (all of one shape), applies its kind's operation and, where the
row allows it, a ReLU. The builder (``modules``), the analytic cost and shape walk (``graph``)
and the layer sequence (``layers``) read these rows; nothing about a layer kind is written
anywhere else. ``layer_type`` is the ``archspace.families.layers.LayerConfig`` type of the row,
which the learned kernel one-hot encodes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KindRow:
    """One layer kind.

    layer_type: the ``LayerConfig`` type. has_width: the node sets its output channels (conv,
    linear). windowed: kernel / stride / padding apply (conv, pools). batchnorm: a BatchNorm
    follows (its affine weights count as params). bias: the layer has a bias. pool: max or avg
    for pooling rows. flattens: the node reads its input flattened (linear). global_pool: the
    node pools the whole feature map to 1x1. may_relu: a ReLU may follow.
    """

    layer_type: str
    has_width: bool = False
    windowed: bool = False
    batchnorm: bool = False
    bias: bool = False
    pool: str = ""
    flattens: bool = False
    global_pool: bool = False
    may_relu: bool = True


LAYER_KINDS: dict[str, KindRow] = {
    "conv": KindRow("conv", has_width=True, windowed=True, batchnorm=True),
    "linear": KindRow("linear", has_width=True, bias=True, flattens=True),
    "max_pool": KindRow("max_pool", windowed=True, pool="max", may_relu=False),
    "avg_pool": KindRow("avg_pool", windowed=True, pool="avg", may_relu=False),
    "add": KindRow("identity"),
    "global_pool": KindRow("global_pool", global_pool=True, may_relu=False),
}

KIND_NAMES: tuple[str, ...] = tuple(LAYER_KINDS)
NETWORK_INPUT = -1  # the index a node uses in ``inputs`` to read the network's input image
