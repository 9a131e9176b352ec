"""The AnyNet table: stems and V/R/X/Y blocks as data (torch-free).

The builder (``modules``), the analytic cost (``cost``) and the layer sequence (``layers``) all
walk these rows; nothing about a stem or a block is written anywhere else. Widths in a block row
are symbolic: ``in`` (the block's input width), ``out`` (the stage width) and ``b`` (the
bottleneck width w / b); a ``grouped`` conv has (w / b) / g groups, a ``strided`` conv carries the
block's stride. Every conv is followed by BatchNorm, and by ReLU except the last of a block.

A stage may upsample its input by an integer factor before its first block (``StageSpec.upsample``,
interpolation ``AnyNetArch.upsample_mode``): the thesis's "A0+Upsample", which raises the
resolution the last stage runs at, and so the pre-head resolution (the size of the map the head
pools), by interpolation instead of by removing a stride (its "A1"). Interpolation has no weights
and, like pooling and the ``resized`` family's input resize, counts as no flops and no acts.
Upsampling directly before the head would change nothing: the head is pointwise then a global
average, which nearest upsampling leaves exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StemRow:
    """A stem: one conv (kernel, stride) + BN + ReLU, then an optional 3x3 stride-2 max-pool."""

    kernel: int
    stride: int
    max_pool: bool = False

    @property
    def total_stride(self) -> int:
        return self.stride * (2 if self.max_pool else 1)


@dataclass(frozen=True)
class ConvRow:
    """One conv of a block: input and output width symbols, kernel, stride and grouping."""

    w_in: str
    w_out: str
    kernel: int
    strided: bool = False
    grouped: bool = False


@dataclass(frozen=True)
class BlockRow:
    """A block type: its convs in order, whether it is residual, and where its SE module sits.

    ``se_after``: index of the conv whose output the squeeze-excitation rescales (None: no SE);
    the SE width is round(se_ratio x block input width). A residual block whose width or stride
    changes adds a 1x1 projection (conv + BN) on the shortcut.
    """

    convs: tuple[ConvRow, ...]
    residual: bool
    se_after: int | None = None


STEMS: dict[str, StemRow] = {
    "res_stem_cifar": StemRow(kernel=3, stride=1),
    "simple_stem_in": StemRow(kernel=3, stride=2),
    "res_stem_in": StemRow(kernel=7, stride=2, max_pool=True),
}
STEM_MAX_POOL = (3, 2, 1)  # kernel, stride, padding of the stem's max-pool

_PLAIN = (ConvRow("in", "out", 3, strided=True), ConvRow("out", "out", 3))
_BOTTLENECK = (ConvRow("in", "b", 1), ConvRow("b", "b", 3, strided=True, grouped=True), ConvRow("b", "out", 1))

BLOCKS: dict[str, BlockRow] = {
    "V": BlockRow(_PLAIN, residual=False),
    "R": BlockRow(_PLAIN, residual=True),
    "X": BlockRow(_BOTTLENECK, residual=True),
    "Y": BlockRow(_BOTTLENECK, residual=True, se_after=1),
}

BLOCK_TYPES: tuple[str, ...] = tuple(BLOCKS)
STEM_TYPES: tuple[str, ...] = tuple(STEMS)
ALLOWED_STRIDES: tuple[int, ...] = (1, 2)
# Interpolation of a stage's upsampling (torch ``interpolate`` modes; bilinear with align_corners=False).
UPSAMPLE_MODES: tuple[str, ...] = ("nearest", "bilinear")


def width_symbols(w_in: Any, width: Any, bottleneck_width: Any) -> dict[str, Any]:
    """Values of a block row's width symbols (ints, or per-model arrays when costing a batch)."""
    return {"in": w_in, "out": width, "b": bottleneck_width}


def uses_bottleneck(block: str) -> bool:
    """True when b and g shape the block (it has a ``b``-wide conv)."""
    return any(conv.w_out == "b" for conv in BLOCKS[block].convs)
