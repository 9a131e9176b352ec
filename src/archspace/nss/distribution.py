"""Exact FLOPs distributions of network spaces under uniform sampling (torch-free).

A network's flops split along the chain of stages:

    F = stem + S1(w0, w1, d1) + S2(w1, w2, d2) + S3(w2, w3, d3) + head(w3),

where S_i is stage i's cost (first block from w_{i-1} to w_i, then d_i - 1 repeats), taken from
``archspace.families.nss.cost.stage_cost`` (the same table rows the module is built from). Given
w2 the two sides are independent: P(w1, d1) = stem + S1 + first block of stage 2, and
Q(d2, w3, d3) = repeats of stage 2 + S3 + head. So the number of networks with F <= t is, summed
over w2, the number of pairs (p, q) with p + q <= t: sort Q (16 shifted copies of one sorted
run, merged), then one ``searchsorted`` per p and threshold. Counts are exact integers (int64);
sums of flops over the networks below a threshold are exact in int64 per w2 and accumulated in
float64 (relative error < 1e-15), which gives the exact mean and the conditional mean Delta.

For the full expanded space (5.5e11 networks) this takes about a second per batch of thresholds
on one core (``benchmarks/bench_nss.py``); for a network space of the default partition
(16.8M networks) a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from archspace.errors import UsageError
from archspace.families.nss.cost import flops_many, head_flops, stage_cost, stage_sizes, stem_flops
from archspace.families.nss.table import EXPANDED
from archspace.spaces.base import as_generator
from archspace.spaces.nss import NSSSpace


@dataclass(frozen=True)
class InputSpec:
    """The input FLOPs are counted at (default: CIFAR-100, the supplement's setting)."""

    resolution: int = 32
    num_classes: int = 100
    in_channels: int = 3

    def __post_init__(self) -> None:
        for name in ("resolution", "num_classes", "in_channels"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        if self.resolution < 4:
            raise UsageError(f"resolution must be >= 4 (the expanded space strides by 4), got {self.resolution}")


CIFAR_INPUT = InputSpec()  # the default: 32x32 RGB, 100 classes


@dataclass(frozen=True)
class BelowCounts:
    """For each threshold t: how many networks of the space have flops <= t, and their flops sum."""

    thresholds: np.ndarray
    counts: np.ndarray  # int64
    sums: np.ndarray  # float64
    size: int
    mean: float
    min: int
    max: int

    def probability(self) -> np.ndarray:
        return self.counts / self.size


@dataclass(frozen=True)
class FlopsLookup:
    """Per-stage flops tables over widths 1..max_width (index w - 1), from ``stage_cost``.

    F(d, w) = first1[w1] + repeat1[w1] (d1 - 1) + first2[w2, w1] + repeat2[w2] (d2 - 1)
              + first3[w3, w2] + repeat3[w3] (d3 - 1) + head[w3];
    ``first1`` includes the stem. Every entry is one stage's cost from the same table rows the
    module is built from, so a lookup equals ``family.complexity(arch).flops`` (tests check it).
    """

    first1: np.ndarray
    repeat1: np.ndarray
    first2: np.ndarray
    repeat2: np.ndarray
    first3: np.ndarray
    repeat3: np.ndarray
    head: np.ndarray

    @classmethod
    def build(cls, max_width: int, stem_width: int, inputs: InputSpec) -> FlopsLookup:
        w = np.arange(1, max_width + 1, dtype=np.int64)
        sizes = stage_sizes(inputs.resolution)
        stem = stem_flops(stem_width, inputs.resolution, inputs.in_channels)

        def first(w_in: np.ndarray | int, index: int) -> np.ndarray:
            return np.asarray(stage_cost(w_in, w if np.ndim(w_in) == 0 else w[:, None], 1, index, sizes[index]).flops,
                              dtype=np.int64)

        def repeat(index: int) -> np.ndarray:
            two = np.asarray(stage_cost(w, w, 2, index, sizes[index]).flops, dtype=np.int64)
            return two - np.asarray(stage_cost(w, w, 1, index, sizes[index]).flops, dtype=np.int64)

        return cls(stem + first(stem_width, 0), repeat(0), first(w[None, :], 1), repeat(1), first(w[None, :], 2),
                   repeat(2), np.asarray(head_flops(w, inputs.num_classes), dtype=np.int64))

    def flops(self, depths: np.ndarray, widths: np.ndarray) -> np.ndarray:
        """int64 flops of networks given as (..., 3) depth and width arrays."""
        d, w = np.asarray(depths, dtype=np.int64) - 1, np.asarray(widths, dtype=np.int64) - 1
        w1, w2, w3 = w[..., 0], w[..., 1], w[..., 2]
        return (self.first1[w1] + self.repeat1[w1] * d[..., 0] + self.first2[w2, w1] + self.repeat2[w2] * d[..., 1]
                + self.first3[w3, w2] + self.repeat3[w3] * d[..., 2] + self.head[w3])


@dataclass(frozen=True)
class StageTables:
    """The per-stage pieces of F for a space (see the module docstring)."""

    p: np.ndarray  # (W2, W1 * D1): stem + S1 + first block of stage 2, for each w2
    q_base: np.ndarray  # (W2, W3 * D3): S3 + head, for each w2
    repeat2: np.ndarray  # (W2,): flops of one repeated block of stage 2
    depth2: np.ndarray  # (D2,): depths of stage 2


def stage_tables(space: NSSSpace, inputs: InputSpec = InputSpec()) -> StageTables:
    """The chain decomposition of the flops of every network of ``space``."""
    b = space.bounds()
    look = FlopsLookup.build(int(b[:, 1, 1].max()), space.family.stem_width, inputs)
    depth = [np.arange(b[i, 0, 0], b[i, 0, 1] + 1, dtype=np.int64) for i in range(3)]
    width = [np.arange(b[i, 1, 0], b[i, 1, 1] + 1, dtype=np.int64) - 1 for i in range(3)]
    s1 = look.first1[width[0]][:, None] + look.repeat1[width[0]][:, None] * (depth[0] - 1)[None, :]  # (W1, D1)
    first2 = look.first2[np.ix_(width[1], width[0])]  # (W2, W1)
    p = (first2[:, :, None] + s1[None, :, :]).reshape(len(width[1]), -1)
    s3 = (look.first3[np.ix_(width[2], width[1])].T[:, :, None]
          + (look.repeat3[width[2]][:, None] * (depth[2] - 1)[None, :])[None, :, :]
          + look.head[width[2]][None, :, None])  # (W2, W3, D3)
    return StageTables(p, s3.reshape(len(width[1]), -1), look.repeat2[width[1]], depth[1])


def flops_below(space: NSSSpace, thresholds: Sequence[float], inputs: InputSpec = InputSpec()) -> BelowCounts:
    """Exact counts and flops sums of the networks of ``space`` with flops <= each threshold."""
    t = np.floor(np.asarray(thresholds, dtype=np.float64)).astype(np.int64)
    tables = stage_tables(space, inputs)
    counts = np.zeros(len(t), dtype=np.int64)
    sums = np.zeros(len(t), dtype=np.float64)
    total, low, high = 0.0, None, None
    shifts = (tables.depth2 - 1)[:, None]
    for j in range(len(tables.repeat2)):
        p = np.sort(tables.p[j])
        q = np.sort((np.sort(tables.q_base[j])[None, :] + shifts * tables.repeat2[j]).ravel(), kind="stable")
        prefix_q = np.concatenate(([0], np.cumsum(q)))
        prefix_p = np.concatenate(([0], np.cumsum(p)))
        # p's below t - max(q) pair with every q, p's above t - min(q) with none: search only between.
        full = np.searchsorted(p, t - q[-1], side="right")
        some = np.searchsorted(p, t - q[0], side="right")
        counts += full * len(q)
        sums += prefix_p[full].astype(np.float64) * len(q) + full.astype(np.float64) * float(prefix_q[-1])
        for k in np.flatnonzero(some > full).tolist():
            part = p[full[k]:some[k]]
            index = np.searchsorted(q, t[k] - part, side="right")
            counts[k] += int(index.sum())
            sums[k] += float((part * index + prefix_q[index]).astype(np.float64).sum())
        total += float(prefix_p[-1]) * len(q) + float(prefix_q[-1]) * len(p)
        low = min(low, int(p[0] + q[0])) if low is not None else int(p[0] + q[0])
        high = max(high, int(p[-1] + q[-1])) if high is not None else int(p[-1] + q[-1])
    size = space.size
    return BelowCounts(t, counts, sums, size, total / size, int(low), int(high))


def probability_in(space: NSSSpace, low: float, high: float, inputs: InputSpec = InputSpec()) -> float:
    """Exact probability that a uniform network of ``space`` has low <= flops <= high."""
    below = flops_below(space, [np.ceil(low) - 1, high], inputs)
    return float(below.counts[1] - below.counts[0]) / below.size


@dataclass(frozen=True)
class FlopsDistribution:
    """The exact flops distribution of a space: size, mean, range and a log-binned histogram."""

    space_id: str
    size: int
    mean: float
    min: int
    max: int
    edges: list[float]
    counts: list[int]
    quantiles: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"space_id": self.space_id, "size": self.size, "mean": self.mean, "min": self.min, "max": self.max,
                "edges": self.edges, "counts": self.counts, "quantiles": self.quantiles, "exact": True}


def flops_distribution(space: NSSSpace, bins: int = 16, inputs: InputSpec = InputSpec()) -> FlopsDistribution:
    """Exact histogram (``bins`` log-spaced bins from min to max flops) and quantiles to 1 flop.

    Quantiles (5%, 25%, 50%, 75%, 95%) are found by bisection on the exact counts.
    """
    if bins < 1:
        raise UsageError(f"bins must be >= 1, got {bins}")
    first = flops_below(space, [0], inputs)
    edges = np.unique(np.concatenate(([first.min - 1], np.geomspace(max(first.min, 1), first.max, bins + 1).round()[1:-1],
                                      [first.max])))
    below = flops_below(space, edges, inputs)
    counts = np.diff(below.counts).tolist()
    quantiles = _quantiles(space, inputs, first, (0.05, 0.25, 0.5, 0.75, 0.95))
    return FlopsDistribution(space.space_id, first.size, first.mean, first.min, first.max,
                             [float(e) for e in edges], [int(c) for c in counts], quantiles)


def _quantiles(space: NSSSpace, inputs: InputSpec, first: BelowCounts, levels: tuple[float, ...]) -> dict[str, float]:
    """Smallest flops value v with P(F <= v) >= level, by bisection on vectors of thresholds."""
    low = np.full(len(levels), first.min - 1, dtype=np.float64)
    high = np.full(len(levels), first.max, dtype=np.float64)
    need = np.ceil(np.asarray(levels) * first.size)
    while np.any(high - low > 1):
        mid = np.floor((low + high) / 2)
        ok = flops_below(space, mid, inputs).counts >= need
        high, low = np.where(ok, mid, high), np.where(ok, low, mid)
        if np.max(high - low) <= max(1.0, 1e-6 * first.max):  # within one part in 1e6 of the range
            break
    return {f"p{round(level * 100)}": float(h) for level, h in zip(levels, high, strict=True)}


def sample_flops(space: NSSSpace, n: int, seed: int | np.random.Generator | None, inputs: InputSpec = InputSpec()) -> np.ndarray:
    """Flops of ``n`` uniform draws from ``space`` (a seeded Monte-Carlo sample)."""
    depths, widths = space.sample_arrays(as_generator(seed), n)
    return flops_many(depths, widths, space.family.stem_width, inputs.resolution, inputs.num_classes, inputs.in_channels)


def sample_flops_many(bounds: np.ndarray, n: int, seed: int | np.random.Generator | None,
                      stem_width: int = EXPANDED.stem_width, inputs: InputSpec = InputSpec()) -> np.ndarray:
    """(J, n) flops of ``n`` uniform draws inside each of J spaces given as (J, 3, 2, 2) bounds."""
    gen = as_generator(seed)
    u = gen.random((2, n, 3))
    low, span = bounds[:, None, :, :, 0], bounds[:, None, :, :, 1] - bounds[:, None, :, :, 0] + 1
    draws = low + np.floor(np.stack([u[0], u[1]], axis=-1)[None] * span).astype(np.int64)  # (J, n, 3, 2)
    look = FlopsLookup.build(int(bounds[:, :, 1, 1].max()), stem_width, inputs)
    return look.flops(draws[..., 0], draws[..., 1])
