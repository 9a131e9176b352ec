"""Layer sequences of attention cells and attention networks, in the order the modules run.

Attention matmuls, pooling and activations are not layers of their own here (they have no
kernel); each op lists its 1x1x1 convs (kernel 1) and its gating linear, reading the layers that
produce its inputs. A cell's output is produced by its output projection and its input (residual).
"""

from __future__ import annotations

from archspace.families.attention.cost import needs_f0_projection, op_input_width, se_hidden_width
from archspace.families.attention.spec import AttentionCell, AttentionNet, SEInsert
from archspace.families.attention.table import inner_width, op_width
from archspace.families.layers import LayerConfig, SequenceBuilder


def _conv(b: SequenceBuilder, c_in: int, c_out: int, inputs: tuple[int, ...]) -> int:
    return b.add(LayerConfig("conv", 1, 1, 0, 1, c_in, c_out, inputs))


def cell_layers(b: SequenceBuilder, cell: AttentionCell, channels: int, f0: tuple[int, ...]) -> tuple[int, ...]:
    """Append one cell inserted where the width is ``channels``; returns its output producers."""
    c_op = op_width(channels, cell.op_divisor)
    nodes: list[tuple[int, ...]] = [f0]
    outputs: list[int] = []
    for index, op in enumerate(cell.ops):
        if index == 1 and needs_f0_projection(cell, channels):
            nodes[0] = (_conv(b, channels, c_op, f0),)
        x = tuple(dict.fromkeys(i for node in op.inputs for i in nodes[node]))
        c_in = op_input_width(cell, index, channels)
        c_inner = inner_width(c_in, cell.inner_divisor)
        if op.type == "map":
            q = _conv(b, c_in, c_inner, x)
            hidden = _conv(b, c_inner, c_inner, (q,))
            weights = _conv(b, c_inner, 1, (hidden,))
            out = _conv(b, c_in, c_op, (*x, weights))
        else:
            src = f0 if cell.kv_source == "cell" else x
            c_src = channels if cell.kv_source == "cell" else c_in
            q = _conv(b, c_in, c_inner, x)
            k = _conv(b, c_src, c_inner, src)
            out = _conv(b, c_src, c_op, (q, k, *src))
        if op.gating:
            out = b.add(LayerConfig("linear", c_in=c_op, c_out=c_op, inputs=(out,)))
        nodes.append((out,))
        outputs.append(out)
    return (_conv(b, len(cell.ops) * c_op, channels, tuple(outputs)), *f0)


def se_layers(b: SequenceBuilder, insert: SEInsert, channels: int, inputs: tuple[int, ...]) -> tuple[int, ...]:
    hidden = se_hidden_width(insert, channels)
    pool = b.add(LayerConfig("global_pool", c_in=channels, c_out=channels, inputs=inputs))
    down = _conv(b, channels, hidden, (pool,))
    up = _conv(b, hidden, channels, (down,))
    return (*inputs, up)


def attention_net_layer_sequence(arch: AttentionNet, num_classes: int, in_channels: int) -> list[LayerConfig]:
    """The backbone's layers with each insert's layers spliced in after its stage."""
    from archspace.families.anynet.layers import anynet_layer_sequence
    from archspace.families.r3d.layers import r3d_layer_sequence

    positions = set(arch.positions)

    def after_stage(b: SequenceBuilder, stage: int, out: tuple[int, ...], width: int) -> tuple[int, ...]:
        if stage not in positions:
            return out
        if isinstance(arch.insert, AttentionCell):
            return cell_layers(b, arch.insert, width, out)
        return se_layers(b, arch.insert, width, out)  # type: ignore[arg-type]

    sequencer = anynet_layer_sequence if arch.backbone.kind == "anynet" else r3d_layer_sequence
    return sequencer(arch.backbone, num_classes, in_channels, after_stage=after_stage)  # type: ignore[arg-type]
