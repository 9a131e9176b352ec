"""The NSS expanded space as data (torch-free): which stem, block and stage layout its networks use.

The expanded space of the NSS supplement is a 3-stage network of basic residual blocks: a 3x3
stride-1 stem conv of w0 = 16 channels (BN, ReLU); stage i has d_i identical blocks of width w_i
(two 3x3 conv-BN with ReLU and a residual; a 1x1 projection shortcut when the stride or width
changes); the first block of stages 2 and 3 has stride 2; global average pool and a linear
classifier. Per stage d_i <= 16 and w_i <= 512, i.e. (16 x 512)^3 = 5.5e11 networks.

These are exactly rows of the AnyNet table (stem ``res_stem_cifar``, block ``R``), so the NSS
family reuses them instead of restating a conv: cost, layer sequence, module and super network
all walk ``archspace.families.anynet.table.BLOCKS["R"]`` and ``STEMS["res_stem_cifar"]`` through
``EXPANDED``. Nothing about an NSS layer is written anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from archspace.families.anynet.table import BLOCKS, STEMS, BlockRow, StemRow


@dataclass(frozen=True)
class ExpandedSpaceRow:
    """The fixed part of every expanded-space network, and the bounds of its free part."""

    stem: str = "res_stem_cifar"
    stem_width: int = 16
    block: str = "R"
    strides: tuple[int, ...] = (1, 2, 2)
    max_depth: int = 16
    max_width: int = 512
    head_width: int = 0

    @property
    def num_stages(self) -> int:
        return len(self.strides)

    @property
    def stem_row(self) -> StemRow:
        return STEMS[self.stem]

    @property
    def block_row(self) -> BlockRow:
        return BLOCKS[self.block]

    @property
    def size(self) -> int:
        """Number of networks: (max_depth x max_width) ** stages."""
        return (self.max_depth * self.max_width) ** self.num_stages


EXPANDED = ExpandedSpaceRow()
