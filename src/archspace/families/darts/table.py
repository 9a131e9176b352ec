"""The DARTS cell table: ops, their primitive steps and the macro skeleton as data (torch-free).

A genotype has a normal and a reduction cell; each cell has ``len(pairs) // 2`` intermediate
nodes (4 in the DARTS search space), node ``j`` takes two ``(op, input)`` pairs whose inputs are
the two cell inputs (0, 1) or earlier nodes (2 ..), and the cell output concatenates the nodes in
its ``concat`` list. Macro network (the reference ``NetworkCIFAR``): stem (3x3 conv to 3C + BN),
``layers`` cells with the channels doubled and the resolution halved at cells ``layers // 3`` and
``2 * layers // 3``, global average pool, linear; an optional auxiliary head after cell
``2 * layers // 3`` (run in training only).

Every op and the pre-processing of the cell inputs expand to a tuple of ``Step`` rows
(``op_steps``, ``preprocess_steps``); the builder (``modules``), the search supernet
(``supernet``), the analytic cost (``cost``) and the layer sequence (``layers``) all walk the same
rows, so they cannot drift apart. ``affine=False`` gives the affine-free BatchNorm of the search
network.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The DARTS search primitives, in the reference order (index = position of an op in alpha rows).
SEARCH_OPS: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
                               "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
PARAMETER_FREE_OPS: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect")
S3_OPS: tuple[str, ...] = ("none", "skip_connect", "sep_conv_3x3")  # thesis section 3.5.3


@dataclass(frozen=True)
class OpRow:
    """One cell op: ``zero``, ``identity`` (factorized reduce at stride 2), ``max_pool``,
    ``avg_pool`` (padding not counted), ``sep_conv`` (two ReLU-dw-pw-BN stacks), ``dil_conv``
    (one ReLU-dilated dw-pw-BN stack) or ``conv_1xk_kx1`` (ReLU, 1xk then kx1 conv, BN)."""

    layer: str
    kernel: int = 0
    padding: int = 0
    dilation: int = 1


OP_TABLE: dict[str, OpRow] = {
    "none": OpRow("zero"),
    "max_pool_3x3": OpRow("max_pool", 3, 1),
    "avg_pool_3x3": OpRow("avg_pool", 3, 1),
    "skip_connect": OpRow("identity"),
    "sep_conv_3x3": OpRow("sep_conv", 3, 1),
    "sep_conv_5x5": OpRow("sep_conv", 5, 2),
    "sep_conv_7x7": OpRow("sep_conv", 7, 3),
    "dil_conv_3x3": OpRow("dil_conv", 3, 2, 2),
    "dil_conv_5x5": OpRow("dil_conv", 5, 4, 2),
    "conv_7x1_1x7": OpRow("conv_1xk_kx1", 7, 3),
}
ALL_OPS: tuple[str, ...] = tuple(OP_TABLE)

# Macro skeleton.
STEM_MULTIPLIER = 3  # stem: conv 3x3 (padding 1, no bias) to 3C channels + BN
STEM_KERNEL = 3
SEARCH_NODES = 4  # intermediate nodes of a DARTS search-space cell
AUX_POOL = (5, 3)  # auxiliary head: ReLU, 5x5 avg pool stride 3, 1x1 conv 128 + BN + ReLU,
AUX_WIDTHS = (128, 768)  # 2x2 conv 768 + BN + ReLU, linear (the reference AuxiliaryHeadCIFAR)
AUX_KERNEL = 2
AUX_MIN_SIZE = 8  # the auxiliary head needs an 8x8 (or larger) map: 5x5/3 pool -> 2x2 -> 2x2 conv


@dataclass(frozen=True)
class Step:
    """One primitive layer: ``relu``, ``conv`` (bias-free; kernel/stride/padding as (h, w)),
    ``bn``, ``max_pool``, ``avg_pool`` or ``factorized_reduce`` (ReLU, two 1x1 stride-2 convs to
    c_out / 2 each, the second on the map shifted by one pixel, concatenated, BN)."""

    kind: str
    c_in: int = 0
    c_out: int = 0
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    dilation: int = 1
    groups: int = 1
    affine: bool = True


def _sq(value: int) -> tuple[int, int]:
    return (value, value)


def relu_conv_bn(c_in: int, c_out: int, kernel: int, stride: int, padding: int, affine: bool = True) -> tuple[Step, ...]:
    return (Step("relu"), Step("conv", c_in, c_out, _sq(kernel), _sq(stride), _sq(padding)),
            Step("bn", c_out, c_out, affine=affine))


def _dw_pw_bn(c: int, row: OpRow, stride: int, affine: bool) -> tuple[Step, ...]:
    return (Step("relu"),
            Step("conv", c, c, _sq(row.kernel), _sq(stride), _sq(row.padding), row.dilation, groups=c),
            Step("conv", c, c), Step("bn", c, c, affine=affine))


def op_steps(name: str, channels: int, stride: int, affine: bool = True) -> tuple[Step, ...]:
    """The primitive steps of op ``name`` on ``channels`` channels (``zero`` ops: no steps)."""
    row = OP_TABLE[name]
    c = channels
    if row.layer == "zero":
        return ()
    if row.layer == "identity":
        return () if stride == 1 else (Step("factorized_reduce", c, c, affine=affine),)
    if row.layer in ("max_pool", "avg_pool"):
        return (Step(row.layer, c, c, _sq(row.kernel), _sq(stride), _sq(row.padding)),)
    if row.layer == "sep_conv":
        return _dw_pw_bn(c, row, stride, affine) + _dw_pw_bn(c, row, 1, affine)
    if row.layer == "dil_conv":
        return _dw_pw_bn(c, row, stride, affine)
    k, p = row.kernel, row.padding  # conv_1xk_kx1
    return (Step("relu"), Step("conv", c, c, (1, k), (1, stride), (0, p)),
            Step("conv", c, c, (k, 1), (stride, 1), (p, 0)), Step("bn", c, c, affine=affine))


def preprocess_steps(c_in: int, c_out: int, reduce: bool, affine: bool = True) -> tuple[Step, ...]:
    """A cell input's pre-processing: factorized reduce when it is at twice the resolution
    (the previous cell reduced), else ReLU-1x1 conv-BN."""
    if reduce:
        return (Step("factorized_reduce", c_in, c_out, affine=affine),)
    return relu_conv_bn(c_in, c_out, 1, 1, 0, affine)


def stem_steps(in_channels: int, channels: int, affine: bool = True) -> tuple[Step, ...]:
    width = STEM_MULTIPLIER * channels
    return (Step("conv", in_channels, width, _sq(STEM_KERNEL), (1, 1), _sq(STEM_KERNEL // 2)),
            Step("bn", width, width, affine=affine))


def aux_steps(c_in: int) -> tuple[Step, ...]:
    """The auxiliary head's features (the classifier follows): see the module docstring."""
    a, b = AUX_WIDTHS
    return (Step("relu"), Step("avg_pool", c_in, c_in, _sq(AUX_POOL[0]), _sq(AUX_POOL[1]), (0, 0)),
            Step("conv", c_in, a), Step("bn", a, a), Step("relu"),
            Step("conv", a, b, _sq(AUX_KERNEL)), Step("bn", b, b), Step("relu"))


def reduction_cells(layers: int) -> tuple[int, ...]:
    """Indices of the reduction cells (the reference: ``layers // 3`` and ``2 * layers // 3``)."""
    return tuple(sorted({layers // 3, 2 * layers // 3}))


@dataclass(frozen=True)
class CellPlan:
    """Channels of one cell position: inputs (c_prev_prev, c_prev), node width, output width."""

    index: int
    c_prev_prev: int
    c_prev: int
    channels: int
    reduction: bool
    reduction_prev: bool
    c_out: int


def macro_plan(channels: int, layers: int, normal_concat: int, reduce_concat: int) -> list[CellPlan]:
    """Channel plan of the ``layers`` cells; ``*_concat`` are the numbers of concatenated nodes."""
    c_pp = c_p = STEM_MULTIPLIER * channels
    c = channels
    plans: list[CellPlan] = []
    reductions = reduction_cells(layers)
    reduction_prev = False
    for i in range(layers):
        reduction = i in reductions
        if reduction:
            c *= 2
        c_out = (reduce_concat if reduction else normal_concat) * c
        plans.append(CellPlan(i, c_pp, c_p, c, reduction, reduction_prev, c_out))
        c_pp, c_p, reduction_prev = c_p, c_out, reduction
    return plans


def aux_position(layers: int) -> int:
    """The cell after which the auxiliary head reads its input."""
    return 2 * layers // 3


def edge_inputs(nodes: int) -> list[tuple[int, int]]:
    """(node, input) of every edge of a search cell, in alpha-row order (node 0 first, its inputs 0, 1)."""
    return [(j, i) for j in range(nodes) for i in range(j + 2)]


def num_edges(nodes: int = SEARCH_NODES) -> int:
    return sum(j + 2 for j in range(nodes))


def stride_of(reduction: bool, source: int) -> int:
    return 2 if reduction and source < 2 else 1


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def step_sizes(steps: Sequence[Step], height: int, width: int) -> tuple[int, int]:
    """Map size after ``steps`` (factorized reduce: the first conv's size, which needs an even map)."""
    for s in steps:
        if s.kind in ("conv", "max_pool", "avg_pool"):
            height = conv_out(height, s.kernel[0], s.stride[0], s.padding[0], s.dilation)
            width = conv_out(width, s.kernel[1], s.stride[1], s.padding[1], s.dilation)
        elif s.kind == "factorized_reduce":
            height, width = conv_out(height, 1, 2, 0), conv_out(width, 1, 2, 0)
    return height, width
