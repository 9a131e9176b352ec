"""The layer sequence of an AnyNet model, walking the rows of ``archspace.families.anynet.table``.

Stem conv (and max-pool), then per block its convs, the two 1x1 convs of its SE module (which
read the conv they rescale) and its projection shortcut, then the head. A residual block's output
is produced by its last conv and by its shortcut (the projection, or the block's input).
A stage's input upsampling (``StageSpec.upsample``) is not listed: it has no weights and runs no
conv / linear / pool module, and layer features carry no spatial sizes (as for the ``resized``
family's input resize), so an upsampled spec has the layer sequence of its base.
"""

from __future__ import annotations

from archspace.families.anynet.cost import se_width
from archspace.families.anynet.spec import AnyNetArch, StageSpec
from archspace.families.anynet.table import BLOCKS, STEM_MAX_POOL, STEMS, width_symbols
from archspace.families.layers import LayerConfig, SequenceBuilder, StageHook


def _block(b: SequenceBuilder, arch: AnyNetArch, stage: StageSpec, w_in: int, stride: int,
           inputs: tuple[int, ...]) -> tuple[int, ...]:
    """Append one block's layers; returns the producers of its output."""
    row = BLOCKS[arch.block]
    widths = width_symbols(w_in, stage.width, stage.bottleneck_width)
    previous = inputs
    for index, conv in enumerate(row.convs):
        kernel, c_out = conv.kernel, widths[conv.w_out]
        produced = b.add(LayerConfig("conv", kernel, stride if conv.strided else 1, kernel // 2,
                                     stage.groups if conv.grouped else 1, widths[conv.w_in], c_out, previous))
        previous = (produced,)
        w_se = se_width(arch.block, arch.se_ratio, w_in) if index == row.se_after else 0
        if w_se:
            squeeze = b.add(LayerConfig("conv", 1, 1, 0, 1, c_out, w_se, (produced,)))
            excite = b.add(LayerConfig("conv", 1, 1, 0, 1, w_se, c_out, (squeeze,)))
            previous = (produced, excite)
    if not row.residual:
        return previous
    if w_in != stage.width or stride != 1:
        return (*previous, b.add(LayerConfig("conv", 1, stride, 0, 1, w_in, stage.width, inputs)))
    return (*previous, *inputs)


def anynet_layer_sequence(arch: AnyNetArch, num_classes: int = 1000, in_channels: int = 3,
                          after_stage: StageHook | None = None) -> list[LayerConfig]:
    """Layers of an AnyNet / RegNet model in forward order (``after_stage`` may splice layers in)."""
    stem = STEMS[arch.stem]
    b = SequenceBuilder()
    out: tuple[int, ...] = (b.add(LayerConfig("conv", stem.kernel, stem.stride, stem.kernel // 2, 1, in_channels,
                                              arch.stem_width)),)
    if stem.max_pool:
        kernel, stride, padding = STEM_MAX_POOL
        out = (b.add(LayerConfig("max_pool", kernel, stride, padding, 1, arch.stem_width, arch.stem_width, out)),)
    width = arch.stem_width
    for stage_index, stage in enumerate(arch.stages):
        for index in range(stage.depth):
            out = _block(b, arch, stage, width, stage.stride if index == 0 else 1, out)
            width = stage.width
        if after_stage is not None:
            out = after_stage(b, stage_index, out, width)
    if arch.head_width > 0:
        out = (b.add(LayerConfig("conv", 1, 1, 0, 1, width, arch.head_width, out)),)
        width = arch.head_width
    pool = b.add(LayerConfig("global_pool", c_in=width, c_out=width, inputs=out))
    b.add(LayerConfig("linear", c_in=width, c_out=num_classes, inputs=(pool,)))
    return b.layers
