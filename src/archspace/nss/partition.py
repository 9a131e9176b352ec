"""The partition of the expanded space into network spaces (what the NSS distribution ranges over).

Choice (default): per stage, depth is cut into 4 bins (1-4, 5-8, 9-12, 13-16) and width into 8
bins of 64 (1-64, ..., 449-512); a network space takes one depth bin and one width bin per stage,
so there are (4 x 8)^3 = 32,768 spaces of 256^3 = 16.8M networks each. Why this one:

- tractable for a categorical distribution: theta is a vector of 32,768 logits, a Gumbel-softmax
  draw over it costs microseconds, and the mixture of masks it induces is computed by scatter-adds
  (``archspace.families.nss.supernet``), not per space;
- every space is homogeneous enough in FLOPs that "its models meet a regime" is a property of the
  space (within a bin, depth varies 4x and width 64 steps) while still holding millions of
  networks, so NAS inside it has room to choose;
- finer cuts grow the number of spaces with the cube of the per-stage choices (8 x 16 bins would
  give 2.1M spaces), coarser ones make spaces span most of the FLOPs range.

It is configurable: ``Partition(depth_edges, width_edges)`` takes the inclusive upper edges of the
bins (any increasing sequence ending at the reduced or full maximum), ``Partition.uniform`` cuts
evenly. Spaces are indexed j = c1 * S^2 + c2 * S + c3 with per-stage choice c = depth_bin * n_w +
width_bin and S = n_d * n_w choices per stage.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archspace.errors import UsageError
from archspace.families.nss.table import EXPANDED
from archspace.spaces.nss import NSSSpace, StageRange, check_ranges


def _bins(edges: tuple[int, ...], top: int, what: str) -> tuple[tuple[int, int], ...]:
    edges = tuple(int(e) for e in edges)
    if not edges or any(b <= a for a, b in zip((0, *edges), edges)):
        raise UsageError(f"{what} edges must be increasing positive integers, got {list(edges)}")
    if edges[-1] > top:
        raise UsageError(f"{what} edges end at {edges[-1]}, outside the expanded space (1-{top})")
    return tuple(zip((1, *(e + 1 for e in edges[:-1])), edges, strict=True))


@dataclass(frozen=True)
class Partition:
    """Per-stage depth and width bins (inclusive upper edges); spaces are their products."""

    depth_edges: tuple[int, ...] = (4, 8, 12, 16)
    width_edges: tuple[int, ...] = (64, 128, 192, 256, 320, 384, 448, 512)
    stem_width: int = EXPANDED.stem_width

    def __post_init__(self) -> None:
        object.__setattr__(self, "depth_edges", tuple(int(e) for e in self.depth_edges))
        object.__setattr__(self, "width_edges", tuple(int(e) for e in self.width_edges))
        _bins(self.depth_edges, EXPANDED.max_depth, "depth")
        _bins(self.width_edges, EXPANDED.max_width, "width")

    @classmethod
    def uniform(cls, max_depth: int = EXPANDED.max_depth, max_width: int = EXPANDED.max_width,
                depth_bins: int = 4, width_bins: int = 8, stem_width: int = EXPANDED.stem_width) -> Partition:
        """Even bins: ``depth_bins`` over 1..max_depth, ``width_bins`` over 1..max_width."""
        for name, top, bins in (("depth", max_depth, depth_bins), ("width", max_width, width_bins)):
            if bins < 1 or top % bins:
                raise UsageError(f"{name}_bins={bins} must be >= 1 and divide max_{name}={top}")
        return cls(tuple(range(max_depth // depth_bins, max_depth + 1, max_depth // depth_bins)),
                   tuple(range(max_width // width_bins, max_width + 1, max_width // width_bins)), stem_width)

    @property
    def depth_bins(self) -> tuple[tuple[int, int], ...]:
        return _bins(self.depth_edges, EXPANDED.max_depth, "depth")

    @property
    def width_bins(self) -> tuple[tuple[int, int], ...]:
        return _bins(self.width_edges, EXPANDED.max_width, "width")

    @property
    def max_depth(self) -> int:
        return self.depth_edges[-1]

    @property
    def max_width(self) -> int:
        return self.width_edges[-1]

    @property
    def stage_choices(self) -> int:
        return len(self.depth_edges) * len(self.width_edges)

    @property
    def num_spaces(self) -> int:
        return self.stage_choices ** EXPANDED.num_stages

    def stage_range(self, choice: int) -> StageRange:
        d, w = divmod(int(choice), len(self.width_edges))
        return StageRange(self.depth_bins[d], self.width_bins[w])

    def choices(self, index: int) -> tuple[int, ...]:
        """Per-stage choices of space ``index``."""
        if not 0 <= index < self.num_spaces:
            raise UsageError(f"space index must be in [0, {self.num_spaces}), got {index}")
        out, s = [], self.stage_choices
        for _ in range(EXPANDED.num_stages):
            index, c = divmod(index, s)
            out.append(c)
        return tuple(reversed(out))

    def space(self, index: int) -> NSSSpace:
        """Network space ``index`` (its name is ``nss:<space-id>``)."""
        ranges = check_ranges(tuple(self.stage_range(c) for c in self.choices(int(index))))
        space_id = "_".join(r.to_id() for r in ranges)
        return NSSSpace(ranges, f"nss:{space_id}", self.stem_width)

    def index_of(self, space: NSSSpace) -> int:
        """Index of a space of this partition; ``UsageError`` for a space that is not one."""
        index = 0
        for stage in space.ranges:
            try:
                d, w = self.depth_bins.index(stage.depth), self.width_bins.index(stage.width)
            except ValueError:
                raise UsageError(f"space {space.space_id} is not a space of this partition") from None
            index = index * self.stage_choices + d * len(self.width_edges) + w
        return index

    def bounds(self) -> np.ndarray:
        """(J, 3, 2, 2) int64: [space, stage, depth/width, low/high] of every space."""
        per_stage = np.array([[self.depth_bins[d], self.width_bins[w]] for d in range(len(self.depth_edges))
                              for w in range(len(self.width_edges))], dtype=np.int64)  # (S, 2, 2)
        s = self.stage_choices
        grid = np.stack(np.meshgrid(*(np.arange(s),) * EXPANDED.num_stages, indexing="ij"), axis=-1).reshape(-1, 3)
        return per_stage[grid]

    def expanded(self) -> NSSSpace:
        """The (reduced) expanded space this partition covers."""
        ranges = tuple(StageRange((1, self.max_depth), (1, self.max_width)) for _ in range(EXPANDED.num_stages))
        options = {} if (self.max_depth, self.max_width) == (EXPANDED.max_depth, EXPANDED.max_width) else \
            {"max_depth": self.max_depth, "max_width": self.max_width}
        return NSSSpace(ranges, "nss", self.stem_width, options)

    def to_dict(self) -> dict:
        return {"depth_edges": list(self.depth_edges), "width_edges": list(self.width_edges),
                "stem_width": self.stem_width}
