"""Analytic cost of DARTS networks, walking the ``Step`` rows of ``archspace.families.darts.table``.

flops are multiply-adds of conv and linear layers (linear bias included), params include
BatchNorm affine weights (none in the affine-free search network), acts are conv / linear /
max-pool output elements: the convention of ``archspace.complexity``. Costs are of the inference
forward pass: the auxiliary head (when built) adds its parameters but runs only in training, so
it adds no flops or acts. ``check_input`` is the resolution rule: every reduction needs an even
map (factorized reduce) and the auxiliary head an 8x8 one.
"""

from __future__ import annotations

from collections.abc import Sequence

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture
from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.table import (
    AUX_MIN_SIZE,
    AUX_WIDTHS,
    CellPlan,
    Step,
    aux_position,
    aux_steps,
    conv_out,
    macro_plan,
    op_steps,
    preprocess_steps,
    reduction_cells,
    stem_steps,
    stride_of,
)


class Counter:
    """Running flops / params / acts."""

    def __init__(self) -> None:
        self.flops = self.params = self.acts = 0

    def result(self) -> Complexity:
        return Complexity(self.flops, self.params, self.acts)


def steps_cost(cx: Counter, steps: Sequence[Step], height: int, width: int) -> tuple[int, int]:
    """Add the cost of ``steps`` on a ``height`` x ``width`` map; returns the output size."""
    for s in steps:
        if s.kind == "conv":
            height = conv_out(height, s.kernel[0], s.stride[0], s.padding[0], s.dilation)
            width = conv_out(width, s.kernel[1], s.stride[1], s.padding[1], s.dilation)
            weights = s.kernel[0] * s.kernel[1] * s.c_in * s.c_out // s.groups
            cx.params += weights
            cx.flops += weights * height * width
            cx.acts += s.c_out * height * width
        elif s.kind == "bn":
            cx.params += 2 * s.c_out if s.affine else 0
        elif s.kind in ("max_pool", "avg_pool"):
            height = conv_out(height, s.kernel[0], s.stride[0], s.padding[0])
            width = conv_out(width, s.kernel[1], s.stride[1], s.padding[1])
            cx.acts += s.c_out * height * width if s.kind == "max_pool" else 0
        elif s.kind == "factorized_reduce":
            height, width = conv_out(height, 1, 2, 0), conv_out(width, 1, 2, 0)
            half = s.c_out // 2
            cx.params += 2 * s.c_in * half + (2 * s.c_out if s.affine else 0)
            cx.flops += 2 * s.c_in * half * height * width
            cx.acts += 2 * half * height * width
    return height, width


def cell_cost(cx: Counter, pairs: Sequence[tuple[str, int]], plan: CellPlan, s0: int, s1: int,
              affine: bool = True) -> int:
    """Add one cell's cost (inputs of side ``s0``, ``s1``); returns the output side."""
    sizes = [steps_cost(cx, preprocess_steps(plan.c_prev_prev, plan.channels, plan.reduction_prev, affine), s0, s0)[0],
             steps_cost(cx, preprocess_steps(plan.c_prev, plan.channels, False, affine), s1, s1)[0]]
    for node in range(len(pairs) // 2):
        out = sizes[1]
        for op, source in pairs[2 * node:2 * node + 2]:
            stride = stride_of(plan.reduction, source)
            out = steps_cost(cx, op_steps(op, plan.channels, stride, affine), sizes[source], sizes[source])[0]
            if not op_steps(op, plan.channels, stride, affine):  # zero / identity: size from the stride
                out = conv_out(sizes[source], 1, stride, 0)
        sizes.append(out)
    return sizes[-1]


def check_input(layers: int, auxiliary: bool, resolution: int) -> None:
    """``InvalidArchitecture('resolution', ...)`` when the macro network cannot run at ``resolution``."""
    size = resolution
    for i in range(layers):
        if i in reduction_cells(layers):
            if size % 2:
                raise InvalidArchitecture("resolution", f"reduction cell {i} needs an even map, got {size}x{size} "
                                          f"(input {resolution}: too many reductions for this resolution)")
            size //= 2
        if auxiliary and i == aux_position(layers) and size < AUX_MIN_SIZE:
            raise InvalidArchitecture("resolution", f"the auxiliary head needs a map of at least "
                                      f"{AUX_MIN_SIZE}x{AUX_MIN_SIZE} after cell {i}, got {size}x{size}")


def network_cost(genotype: DartsGenotype, channels: int, layers: int, auxiliary: bool, resolution: int,
                 num_classes: int, in_channels: int) -> Complexity:
    """flops / params / acts of the ``modules.DartsNetwork`` of ``genotype`` on one image."""
    check_input(layers, auxiliary, resolution)
    cx = Counter()
    size = steps_cost(cx, stem_steps(in_channels, channels), resolution, resolution)[0]
    s0 = s1 = size
    plans = macro_plan(channels, layers, len(genotype.normal_concat), len(genotype.reduce_concat))
    for plan in plans:
        pairs = genotype.reduce if plan.reduction else genotype.normal
        s0, s1 = s1, cell_cost(cx, pairs, plan, s0, s1)
        if auxiliary and plan.index == aux_position(layers):
            aux = Counter()
            steps_cost(aux, aux_steps(plan.c_out), s1, s1)
            cx.params += aux.params + AUX_WIDTHS[1] * num_classes + num_classes  # features + classifier
    last = plans[-1].c_out
    cx.flops += last * num_classes + num_classes
    cx.params += last * num_classes + num_classes
    cx.acts += num_classes
    return cx.result()
