"""The one description of attention cells: the operation choices and the layers of each op.

An attention op maps a feature volume (C_in, T, H, W) to (C_out, T, H, W). Its rows:

- ``map`` (map-based attention, one weight per position): G1 = 1x1x1 conv C_in -> C'; average
  pool over the axes *not* attended (spatial attention pools time, temporal attention pools
  space, spatiotemporal pools nothing); G2 = an MLP of two 1x1x1 convs (C' -> C', ReLU, C' -> 1,
  with biases); the activation; the weights scale the op input V = x position by position (a
  diagonal attention matrix); G3 = 1x1x1 conv C_in -> C_out.
- ``dot`` (dot-product attention, pairwise between positions): Q = G1(x), K = G2(s), both
  1x1x1 convs to C'; A = act(Q K^T / sqrt(C')) over the positions of the attended axes (spatial:
  the H*W positions of each frame; temporal: the T frames of each spatial position;
  spatiotemporal: all T*H*W); Y = A V with V = s; G3 = 1x1x1 conv C_s -> C_out. ``s`` is the op
  input or, with ``kv_source="cell"``, the cell input f0.
- optional channel attention (feature gating): y * sigmoid(Linear(C_out -> C_out)(mean of y)).

Cell: op 1 reads f0; op k reads a learnable weighted sum of a chosen subset of {f0, f1, ...};
f0 enters that sum through a 1x1x1 projection C -> C_op when C_op != C. The op outputs are
concatenated, a 1x1x1 conv (zero-initialised, so an inserted cell starts as the identity) maps
them back to C, and f0 is added.

Counting (the project's convention, extended): flops are multiply-adds of convs, linears and the
two attention matmuls (Q K^T: L*L*C' and A V: L*L*C_s per group of L positions); pooling,
activations, softmax, the diagonal scaling, gating multiplies and weighted sums are free; acts
are output elements of convs and linears.
"""

from __future__ import annotations

DIMENSIONS: tuple[str, ...] = ("spatial", "temporal", "spatiotemporal")
TEMPORAL_DIMENSIONS: frozenset[str] = frozenset({"temporal", "spatiotemporal"})
TYPES: tuple[str, ...] = ("map", "dot")
ACTIVATIONS: tuple[str, ...] = ("none", "relu", "sigmoid", "softmax")
KV_SOURCES: tuple[str, ...] = ("input", "cell")
# C_op = C // op_divisor and C' = max(1, C_in // inner_divisor): sizes relative to the insertion
# point's width, so one cell fits every stage it is inserted after.
OP_DIVISORS: tuple[int, ...] = (1, 2, 4)
INNER_DIVISORS: tuple[int, ...] = (2, 4, 8)
MAX_OPS = 8


def op_width(channels: int, op_divisor: int) -> int:
    """C_op, the output width of every op of a cell inserted where the width is ``channels``."""
    return max(1, channels // op_divisor)


def inner_width(c_in: int, inner_divisor: int) -> int:
    """C', the width of the attention map's embedding."""
    return max(1, c_in // inner_divisor)


def attended_groups(dimension: str, frames: int, height: int, width: int) -> tuple[int, int]:
    """(number of groups, positions per group L) of the attention matmuls along ``dimension``."""
    if dimension == "spatial":
        return frames, height * width
    if dimension == "temporal":
        return height * width, frames
    return 1, frames * height * width


def pooled_positions(dimension: str, frames: int, height: int, width: int) -> int:
    """Positions of the map-based attention map after pooling the axes not attended."""
    if dimension == "spatial":
        return height * width
    if dimension == "temporal":
        return frames
    return frames * height * width
