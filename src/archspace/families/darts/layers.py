"""The layer sequence of a DARTS network, walking the ``Step`` rows of ``archspace.families.darts.table``.

Non-square kernels (``conv_7x1_1x7``) are listed by their first (height) dimension, as the
contract check reads modules; dilation is not a ``LayerConfig`` field. The auxiliary head runs
in training only and is not listed.
"""

from __future__ import annotations

from collections.abc import Sequence

from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.table import (
    Step,
    macro_plan,
    op_steps,
    preprocess_steps,
    stem_steps,
    stride_of,
)
from archspace.families.layers import LayerConfig, SequenceBuilder


def steps_layers(b: SequenceBuilder, steps: Sequence[Step], inputs: tuple[int, ...]) -> tuple[int, ...]:
    """Append the module layers of ``steps`` reading ``inputs``; returns the producers of the output."""
    for s in steps:
        if s.kind == "conv":
            inputs = (b.add(LayerConfig("conv", s.kernel[0], s.stride[0], s.padding[0], s.groups, s.c_in, s.c_out,
                                        inputs)),)
        elif s.kind in ("max_pool", "avg_pool"):
            inputs = (b.add(LayerConfig(s.kind, s.kernel[0], s.stride[0], s.padding[0], 1, s.c_in, s.c_out, inputs)),)
        elif s.kind == "factorized_reduce":
            half = s.c_out // 2
            inputs = tuple(b.add(LayerConfig("conv", 1, 2, 0, 1, s.c_in, half, inputs)) for _ in range(2))
    return inputs


def _edge(b: SequenceBuilder, op: str, channels: int, stride: int, state: tuple[int, ...]) -> tuple[int, ...]:
    steps = op_steps(op, channels, stride)
    if steps:
        return steps_layers(b, steps, state)
    if op == "none":
        b.add(LayerConfig("zero", c_in=channels, c_out=channels))
        return ()
    return (b.add(LayerConfig("identity", c_in=channels, c_out=channels, inputs=state)),)


def darts_layer_sequence(genotype: DartsGenotype, channels: int, layers: int, num_classes: int,
                         in_channels: int) -> list[LayerConfig]:
    """Every layer of the inference forward pass, in call order."""
    b = SequenceBuilder()
    s0 = s1 = steps_layers(b, stem_steps(in_channels, channels), ())
    plans = macro_plan(channels, layers, len(genotype.normal_concat), len(genotype.reduce_concat))
    for plan in plans:
        pairs, concat = (genotype.reduce, genotype.reduce_concat) if plan.reduction else (genotype.normal,
                                                                                          genotype.normal_concat)
        states = [steps_layers(b, preprocess_steps(plan.c_prev_prev, plan.channels, plan.reduction_prev), s0),
                  steps_layers(b, preprocess_steps(plan.c_prev, plan.channels, False), s1)]
        for node in range(len(pairs) // 2):
            produced: list[int] = []
            for op, source in pairs[2 * node:2 * node + 2]:
                produced.extend(_edge(b, op, plan.channels, stride_of(plan.reduction, source), states[source]))
            states.append(tuple(produced))
        s0, s1 = s1, tuple(i for state in concat for i in states[state])
    width = plans[-1].c_out
    pool = b.add(LayerConfig("global_pool", c_in=width, c_out=width, inputs=s1))
    b.add(LayerConfig("linear", c_in=width, c_out=num_classes, inputs=(pool,)))
    return b.layers
