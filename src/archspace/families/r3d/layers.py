"""The layer sequence of an R3D network, walking the rows of ``archspace.families.r3d.table``.

3-D convs are listed as ``conv`` layers (every kernel and stride is isotropic); a residual
block's output is produced by its last conv and its shortcut (the projection or the input).
"""

from __future__ import annotations

from archspace.families.layers import LayerConfig, SequenceBuilder, StageHook
from archspace.families.r3d.spec import R3DArch
from archspace.families.r3d.table import BASIC_BLOCK, PROJECTION_KERNEL, STEM


def _block(b: SequenceBuilder, w_in: int, w_out: int, stride: int, inputs: tuple[int, ...]) -> tuple[int, ...]:
    previous = inputs
    for row in BASIC_BLOCK:
        c_in = w_in if row.w_in == "in" else w_out
        s = stride if row.strided else 1
        previous = (b.add(LayerConfig("conv", row.kernel, s, row.kernel // 2, 1, c_in, w_out, previous)),)
    if w_in != w_out or stride != 1:
        return (*previous, b.add(LayerConfig("conv", PROJECTION_KERNEL, stride, 0, 1, w_in, w_out, inputs)))
    return (*previous, *inputs)


def r3d_layer_sequence(arch: R3DArch, num_classes: int = 10, in_channels: int = 1,
                       after_stage: StageHook | None = None) -> list[LayerConfig]:
    """Layers of an R3D network in forward order (``after_stage`` may splice layers in)."""
    b = SequenceBuilder()
    out: tuple[int, ...] = (b.add(LayerConfig("conv", STEM.kernel, STEM.stride, STEM.kernel // 2, 1, in_channels,
                                              arch.stem_width)),)
    width = arch.stem_width
    for stage_index, stage in enumerate(arch.stages):
        for index in range(stage.depth):
            out = _block(b, width, stage.width, stage.stride if index == 0 else 1, out)
            width = stage.width
        if after_stage is not None:
            out = after_stage(b, stage_index, out, width)
    pool = b.add(LayerConfig("global_pool", c_in=width, c_out=width, inputs=out))
    b.add(LayerConfig("linear", c_in=width, c_out=num_classes, inputs=(pool,)))
    return b.layers
