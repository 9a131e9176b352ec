"""RegNet: the quantized linear parametrization of AnyNet widths and depths.

RegNet is only a *generator* of ``AnyNetArch`` specs: (d, w0, wa, wm, b, g) -> per-block widths
u_j = w0 + wa * j, quantized to w0 * wm^round(log(u_j / w0) / log(wm)) and rounded to multiples
of 8; stages are runs of equal width. ``fit_regnet`` does the inverse for any AnyNet model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.anynet.cost import StageArrays, network_cost
from archspace.families.anynet.spec import (
    AnyNetArch,
    StageSpec,
    adjust_compatibility,
)
from archspace.spaces.anynet import AnyNetSpaceBase
from archspace.spaces.base import SAMPLE_CHUNK, Regime, as_generator
from archspace.spaces.registry import SPACES

WIDTH_QUANTUM = 8


@dataclass(frozen=True)
class RegNetParams:
    """The six RegNet parameters (b is the paper's bottleneck ratio, g the group width)."""

    depth: int
    w0: int
    wa: float
    wm: float
    group_width: int
    bottleneck_ratio: float = 1.0

    def validate(self) -> RegNetParams:
        if not isinstance(self.depth, int) or self.depth < 1:
            raise InvalidArchitecture("depth", f"must be a positive integer, got {self.depth!r}")
        if not isinstance(self.w0, int) or self.w0 <= 0 or self.w0 % WIDTH_QUANTUM:
            raise InvalidArchitecture("w0", f"must be a positive multiple of {WIDTH_QUANTUM}, got {self.w0!r}")
        if not (self.wa >= 0 and math.isfinite(self.wa)):
            raise InvalidArchitecture("wa", f"must be a finite number >= 0, got {self.wa!r}")
        if not (self.wm > 1 and math.isfinite(self.wm)):
            raise InvalidArchitecture("wm", f"must be a finite number > 1, got {self.wm!r}")
        if not isinstance(self.group_width, int) or self.group_width < 1:
            raise InvalidArchitecture("group_width", f"must be a positive integer, got {self.group_width!r}")
        if not self.bottleneck_ratio > 0:
            raise InvalidArchitecture("bottleneck_ratio", f"must be > 0, got {self.bottleneck_ratio!r}")
        return self


@dataclass(frozen=True)
class QuantizedWidths:
    """Per-block widths of a RegNet before they are grouped into stages."""

    block_widths: list[int]
    exponents: list[int]
    continuous: list[float]

    @property
    def num_stages(self) -> int:
        return len(set(self.block_widths))

    @property
    def max_stages(self) -> int:
        """Stages the exponents would give if no quantization level were skipped."""
        return max(self.exponents) + 1


def block_width_matrix(depth: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray,
                       quantum: int = WIDTH_QUANTUM) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Quantized per-block widths for many parametrizations at once (float64, as the published models).

    Returns (widths, exponents, continuous, valid), each of shape (models, max depth); ``valid``
    marks real blocks (row i has depth[i] of them).
    """
    depth, w0, wa, wm = (np.atleast_1d(np.asarray(v)) for v in (depth, w0, wa, wm))
    blocks = np.arange(int(depth.max()))[None, :]
    widths, exponents, continuous = quantize(blocks, w0, wa, wm, quantum)
    return widths, exponents.astype(int), continuous, blocks < depth[:, None]


def quantize(blocks: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray,
             quantum: int = WIDTH_QUANTUM) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The RegNet quantization, one row per parametrization: u_j = w0 + wa * j, then
    w0 * wm^round(log(u_j / w0) / log(wm)) rounded to a multiple of ``quantum``.

    Returns (int widths, float exponents, continuous widths u_j) of shape (models, len(blocks)).
    """
    continuous = blocks * wa[:, None] + w0[:, None]
    exponents = np.round(np.log(continuous / w0[:, None]) / np.log(wm[:, None]))
    widths = np.round(np.divide(w0[:, None] * np.power(wm[:, None], exponents), quantum)).astype(int) * quantum
    return widths, exponents, continuous


def quantized_widths(depth: int, w0: float, wa: float, wm: float, quantum: int = WIDTH_QUANTUM) -> QuantizedWidths:
    """Per-block widths of one RegNet parametrization."""
    widths, exponents, continuous, _ = block_width_matrix(depth, w0, wa, wm, quantum)
    return QuantizedWidths(widths[0].tolist(), exponents[0].tolist(), continuous[0].tolist())


def stage_matrix(widths: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split per-block widths (non-decreasing per row) into stages: runs of equal width.

    Returns (stage_widths, stage_depths, num_stages); the stage arrays have shape
    (models, max stages) and are 0 past each row's last stage.
    """
    changes = (np.diff(widths, axis=1) != 0) & valid[:, 1:]
    stage_index = np.concatenate([np.zeros((len(widths), 1), int), np.cumsum(changes, axis=1)], axis=1)
    stage_index = np.where(valid, stage_index, -1)
    num_stages = stage_index.max(axis=1) + 1
    members = stage_index[:, None, :] == np.arange(int(num_stages.max()))[None, :, None]
    stage_depths = members.sum(axis=2)
    stage_widths = np.where(members, widths[:, None, :], 0).max(axis=2)
    return stage_widths, stage_depths, num_stages


@dataclass
class RegNetBatch:
    """Stage arrays of many RegNet parametrizations, shape (models, max stages)."""

    widths: np.ndarray
    depths: np.ndarray
    ratios: np.ndarray
    group_widths: np.ndarray
    num_stages: np.ndarray

    @classmethod
    def from_params(cls, params: list[RegNetParams]) -> RegNetBatch:
        columns = np.array([(p.depth, p.w0, p.wa, p.wm, p.group_width, p.bottleneck_ratio) for p in params]).T
        block_widths, _, _, valid = block_width_matrix(columns[0].astype(int), *columns[1:4])
        stage_widths, stage_depths, num_stages = stage_matrix(block_widths, valid)
        ratios = np.broadcast_to(columns[5][:, None], stage_widths.shape)
        groups = np.broadcast_to(columns[4].astype(np.int64)[:, None], stage_widths.shape)
        widths, group_widths = adjust_compatibility(np.maximum(stage_widths, 1), ratios, groups)
        return cls(widths, stage_depths, ratios, group_widths, num_stages)

    def complexity(self, block: str, se_ratio: float, stem: str, stem_width: int,
                   **input_spec: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """flops, params, acts arrays; every model must have the same number of stages."""
        if len(set(self.num_stages.tolist())) != 1:
            raise ValueError("batched complexity needs models with equal stage counts")
        bottleneck = np.rint(self.widths / self.ratios).astype(np.int64)
        stages = [StageArrays(self.depths[:, k], self.widths[:, k], 2, bottleneck[:, k],
                              bottleneck[:, k] // self.group_widths[:, k]) for k in range(self.widths.shape[1])]
        spec = {"resolution": 224, "num_classes": 1000, "in_channels": 3, **input_spec}
        cx = network_cost(block, stem, stem_width, 0, se_ratio, stages, **spec)
        return tuple(np.broadcast_to(v, self.widths.shape[:1]) for v in (cx.flops, cx.params, cx.acts))

    def archs(self, rows: Any, block: str, stem: str, stem_width: int, se_ratio: float) -> list[AnyNetArch]:
        out = []
        for i in rows:
            n = int(self.num_stages[i])
            stages = tuple(StageSpec(int(d), int(w), 2, float(b), int(g)) for d, w, b, g in zip(
                self.depths[i, :n], self.widths[i, :n], self.ratios[i, :n], self.group_widths[i, :n]))
            out.append(AnyNetArch(stages=stages, block=block, stem=stem, stem_width=stem_width, se_ratio=se_ratio))
        return out


def regnet_archs(params: list[RegNetParams], block: str = "X", stem_width: int = 32,
                 stem: str = "simple_stem_in", se_ratio: float = 0.25) -> list[AnyNetArch]:
    """The AnyNet specs that RegNet parametrizations generate (with the compatibility adjustment)."""
    if not params:
        return []
    return RegNetBatch.from_params(params).archs(range(len(params)), block, stem, stem_width, se_ratio)


def regnet_to_anynet(params: RegNetParams, block: str = "X", stem_width: int = 32,
                     stem: str = "simple_stem_in", se_ratio: float = 0.25) -> AnyNetArch:
    """The AnyNet spec one RegNet parametrization generates."""
    return regnet_archs([params.validate()], block, stem_width, stem, se_ratio)[0]


@dataclass(frozen=True)
class RegNetFit:
    """Best quantized linear fit of a model's per-block widths, and its error e_fit."""

    w0: float
    wa: float
    wm: float
    e_fit: float
    predicted_widths: list[int]


def _fit_errors(observed: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """e_fit and predicted widths of every (w0, wa, wm) candidate (1-d arrays of equal length)."""
    widths, _, _ = quantize(np.arange(observed.size)[None, :], w0, wa, wm)
    predicted = np.maximum(widths, WIDTH_QUANTUM)
    return np.abs(np.log(predicted) - np.log(observed[None, :])).mean(axis=1), predicted


def _grid(*axes: np.ndarray) -> tuple[np.ndarray, ...]:
    return tuple(g.ravel() for g in np.meshgrid(*axes, indexing="ij"))


def fit_regnet(block_widths: list[int] | AnyNetArch, refine_top: int = 8) -> RegNetFit:
    """Fit (w0, wa, wm) minimizing e_fit, the mean |log(predicted / observed)| per-block width.

    The depth is the model's own; w0 ranges over multiples of 8 around the first block width, wa
    over [0, 256) and wm over [1.5, 3] (the paper's RegNet ranges). The search is coarse-to-fine:
    a coarse grid, then a fine grid around each of the ``refine_top`` best coarse points.
    """
    observed = np.asarray(block_widths.block_widths() if isinstance(block_widths, AnyNetArch) else block_widths, float)
    if observed.ndim != 1 or observed.size == 0 or np.any(observed <= 0):
        raise InvalidArchitecture("block_widths", "must be a non-empty list of positive widths")
    w0_axis = np.unique(np.clip(np.round(np.geomspace(observed[0] / 2, observed[0] * 2, 16) / 8) * 8, 8, None))
    wa_axis = np.concatenate([[0.0], np.geomspace(0.5, 255.0, 23)])
    wm_axis = np.linspace(1.5, 3.0, 16)
    w0, wa, wm = _grid(w0_axis, wa_axis, wm_axis)
    errors, _ = _fit_errors(observed, w0, wa, wm)
    candidates = [(w0, wa, wm)]
    for index in np.argsort(errors, kind="stable")[:refine_top]:
        fine_w0 = np.arange(max(8.0, w0[index] - 16), w0[index] + 17, 8)
        fine_wa = np.clip(wa[index] * np.geomspace(0.75, 1.33, 17), 0, 255.99) if wa[index] else np.linspace(0, 0.6, 7)
        fine_wm = np.clip(np.linspace(wm[index] - 0.1, wm[index] + 0.1, 21), 1.5, 3.0)
        candidates.append(_grid(fine_w0, fine_wa, fine_wm))
    w0, wa, wm = (np.concatenate(axis) for axis in zip(*candidates))
    errors, predicted = _fit_errors(observed, w0, wa, wm)
    best = int(np.argmin(errors))
    return RegNetFit(float(w0[best]), float(wa[best]), float(wm[best]), float(errors[best]),
                     predicted[best].astype(int).tolist())


@dataclass(frozen=True)
class RegNetRanges:
    """Sampling ranges of the RegNet design space (the paper's: d < 64, w0, wa < 256, 1.5 <= wm <= 3)."""

    depth: tuple[int, int] = (1, 63)
    w0: tuple[int, int] = (8, 248)
    wa: tuple[float, float] = (1.0, 255.99)
    wm: tuple[float, float] = (1.5, 3.0)
    bottleneck_ratios: tuple[float, ...] = (1.0, 2.0, 4.0)
    group_widths: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    num_stages: int = 4


def _log_uniform(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), size=size))


def _stage_counts_fit(depth: np.ndarray, w0: np.ndarray, wa: np.ndarray, wm: np.ndarray,
                      num_stages: int) -> np.ndarray:
    """True where the quantization has exactly ``num_stages`` levels and skips none."""
    widths, exponents, _, valid = block_width_matrix(depth, w0, wa, wm)
    max_exponent = np.where(valid, exponents, -1).max(axis=1)
    changes = ((np.diff(widths, axis=1) != 0) & valid[:, 1:]).sum(axis=1)
    return (max_exponent + 1 == num_stages) & (changes + 1 == num_stages)


class RegNetSpace(AnyNetSpaceBase):
    """The RegNet design space: samples RegNet params, returns the AnyNet specs they generate.

    Stage-count policy: a draw is rejected when its quantization skips a level or it does not have
    exactly ``ranges.num_stages`` stages.
    """

    def __init__(self, block: str = "X", ranges: RegNetRanges | None = None, constraints: tuple = (),
                 stem: str = "simple_stem_in", stem_width: int = 32, se_ratio: float = 0.25) -> None:
        super().__init__(constraints)
        self.block = block
        self.name = f"regnet{block.lower()}"
        self.ranges = ranges or RegNetRanges()
        self.stem, self.stem_width, self.se_ratio = stem, stem_width, se_ratio

    def options(self) -> dict[str, Any]:
        return {"stem": self.stem, "stem_width": self.stem_width, "se_ratio": self.se_ratio}

    def sample_params(self, rng: int | np.random.Generator | None = None, n: int = 1) -> list[RegNetParams]:
        """``n`` parameter draws that pass the stage-count policy (vectorized rejection)."""
        gen = as_generator(rng)
        out: list[RegNetParams] = []
        while len(out) < n:
            # _draw_params applies the policy with the same float64 operations as quantized_widths.
            out.extend(self._draw_params(gen, max(64, 8 * (n - len(out)))))
        return out[:n]

    def _draw_params(self, gen: np.random.Generator, m: int) -> list[RegNetParams]:
        """Draw ``m`` raw parameter sets; keep those whose stage count fits (checked vectorized)."""
        r = self.ranges
        depth = gen.integers(r.depth[0], r.depth[1] + 1, size=m)
        w0 = np.maximum(np.round(_log_uniform(gen, r.w0[0], r.w0[1] + 1, m) / 8) * 8, 8)
        wa = np.round(_log_uniform(gen, r.wa[0], r.wa[1], m), 2)
        wm = np.round(gen.uniform(r.wm[0], r.wm[1], size=m), 2)
        groups = np.asarray(r.group_widths)[gen.integers(len(r.group_widths), size=m)]
        ratios = np.asarray(r.bottleneck_ratios, float)[gen.integers(len(r.bottleneck_ratios), size=m)]
        keep = np.flatnonzero(_stage_counts_fit(depth, w0, wa, wm, r.num_stages))
        return [RegNetParams(int(depth[i]), int(w0[i]), float(wa[i]), float(wm[i]), int(groups[i]), float(ratios[i]))
                for i in keep]

    def to_arch(self, params: RegNetParams) -> AnyNetArch:
        return regnet_to_anynet(params, self.block, self.stem_width, self.stem, self.se_ratio)

    def sample_batch(self, rng: int | np.random.Generator | None, n: int) -> list[AnyNetArch]:
        gen = as_generator(rng)
        out: list[AnyNetArch] = []
        while len(out) < n:
            archs = regnet_archs(self.sample_params(gen, n - len(out)), self.block, self.stem_width, self.stem,
                                 self.se_ratio)
            out.extend(a for a in archs if self.satisfies(a))
        return out

    def sample_distinct(self, n: int, rng: int | np.random.Generator | None = None, regime: Regime | None = None,
                        max_draws: int | None = None, complexity_kwargs: dict[str, Any] | None = None) -> list[AnyNetArch]:
        """As ``Space.sample_distinct``, but draws are filtered by regime on stage arrays before any
        spec object is built (most draws fall outside a narrow regime)."""
        if self.constraints or regime is None or regime.is_unbounded or n < 0:
            return super().sample_distinct(n, rng, regime, max_draws, complexity_kwargs)
        gen = as_generator(rng)
        limit = max_draws if max_draws is not None else 1000 * n + 10_000
        chosen: dict[AnyNetArch, None] = {}
        draws = 0
        while len(chosen) < n and draws < limit:
            params = self.sample_params(gen, min(SAMPLE_CHUNK, limit - draws))
            draws += len(params)
            batch = RegNetBatch.from_params(params)
            counts = batch.complexity(self.block, self.se_ratio, self.stem, self.stem_width, **(complexity_kwargs or {}))
            inside = regime.mask(*counts)
            for arch in batch.archs(np.flatnonzero(inside), self.block, self.stem, self.stem_width, self.se_ratio):
                chosen.setdefault(arch, None)
                if len(chosen) == n:
                    break
        if len(chosen) < n:
            raise UsageError(f"only {len(chosen)} of {n} distinct models of {self.name} fell in the regime "
                             f"after {limit} draws; widen the regime")
        return list(chosen)

    def validate(self, arch: AnyNetArch) -> AnyNetArch:
        self.family.validate(arch)
        if arch.block != self.block:
            raise InvalidArchitecture("block", f"{self.name} models use {self.block} blocks, got {arch.block!r}")
        return arch

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "block": self.block, "stem": self.stem, "stem_width": self.stem_width,
                "dimension": 6, "size": None,
                "parameters": ["depth", "w0", "wa", "wm", "bottleneck_ratio", "group_width"]}



def _register_regnet_spaces() -> None:
    for block in ("X", "Y"):
        def make(block: str = block, **options: Any) -> RegNetSpace:
            return RegNetSpace(block=block, **options)

        SPACES.register(f"regnet{block.lower()}", description=f"RegNet{block}: (d, w0, wa, wm, b, g) -> AnyNet{block}", family="anynet")(make)


_register_regnet_spaces()
