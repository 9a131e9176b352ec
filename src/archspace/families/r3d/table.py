"""The one description of an R3D network: the stem and the basic 3-D residual block as rows.

Every conv is isotropic (the same kernel and stride in time, height and width) with padding
kernel // 2, followed by BatchNorm3d. A block's first conv carries the stage stride; a block
whose shape changes adds a 1x1x1 projection (conv + BN) on the shortcut. Cost, layers and module
all walk these rows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Conv3dRow:
    """One conv + BN of a row: kernel, whether it carries the stage stride, input width symbol."""

    kernel: int
    strided: bool
    w_in: str  # "in" (the block input width) or "out" (the stage width)


@dataclass(frozen=True)
class StemRow:
    kernel: int
    stride: int


STEM = StemRow(kernel=3, stride=1)
# The basic residual block: conv3x3x3(stride) - BN - ReLU - conv3x3x3 - BN, + shortcut, ReLU.
BASIC_BLOCK: tuple[Conv3dRow, ...] = (Conv3dRow(3, True, "in"), Conv3dRow(3, False, "out"))
PROJECTION_KERNEL = 1
ALLOWED_STRIDES = (1, 2)
MAX_DEPTH = 64
MAX_WIDTH = 4096


def out_size(size: int, kernel: int, stride: int) -> int:
    """Output length of an isotropic conv with padding kernel // 2 along one axis."""
    return (size + 2 * (kernel // 2) - kernel) // stride + 1
