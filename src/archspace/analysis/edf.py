"""Error empirical distribution functions (EDFs), complexity normalization and KS distance.

The error EDF of n models with errors e_i is F(e) = (1/n) sum_i 1[e_i < e] (eq. 1 of *Designing
Network Design Spaces*): the fraction of models with error below e. Comparing whole populations
by their EDFs is the paper's way of comparing design spaces. Two populations with different
complexity distributions are compared fairly by reweighting each model so that both populations
put the same mass on each complexity bin (the *normalized* EDF).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from archspace.errors import DataError, UsageError


@dataclass(frozen=True)
class EDF:
    """An error EDF evaluated on ``grid``, with the population's n, min and (weighted) mean."""

    grid: np.ndarray
    values: np.ndarray
    n: int
    min: float
    mean: float

    def label(self, name: str) -> str:
        """Legend text in the paper's style: ``name: n|min|mean``."""
        return f"{name}  {self.n} | {self.min:.2f} | {self.mean:.2f}"

    def to_dict(self) -> dict[str, object]:
        return {"n": self.n, "min": self.min, "mean": self.mean, "grid": self.grid.tolist(), "values": self.values.tolist()}


def edf_values(errors: np.ndarray, at: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """F(e) = sum_i w_i 1[e_i < e] / sum_i w_i at every point of ``at`` (w_i = 1 by default)."""
    errors, weights = _checked(errors, weights)
    order = np.argsort(errors, kind="stable")
    sorted_errors = errors[order]
    cumulative = np.concatenate([[0.0], np.cumsum(weights[order])])
    below = np.searchsorted(sorted_errors, np.asarray(at, dtype=float), side="left")
    return cumulative[below] / cumulative[-1]


def error_edf(
    errors: np.ndarray, grid: np.ndarray | None = None, weights: np.ndarray | None = None, points: int = 256
) -> EDF:
    """The error EDF of ``errors`` on ``grid`` (default: ``points`` values spanning the sample)."""
    errors, weights = _checked(errors, weights)
    if grid is None:
        grid = np.linspace(errors.min(), errors.max() + 1e-9 * max(1.0, abs(errors.max())), points)
    grid = np.asarray(grid, dtype=float)
    mean = float(np.sum(weights * errors) / np.sum(weights))
    # Models with zero weight do not count towards n or the minimum of a normalized population.
    kept = errors[weights > 0]
    return EDF(grid, edf_values(errors, grid, weights), int(kept.size), float(kept.min()), mean)


def complexity_bin_edges(complexities: list[np.ndarray], bins: int = 10, log: bool = True) -> np.ndarray:
    """Shared bin edges spanning every population's complexity (log-spaced by default)."""
    if bins < 1:
        raise UsageError(f"bins must be >= 1, got {bins}")
    values = np.concatenate([np.asarray(c, dtype=float).ravel() for c in complexities])
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise DataError("complexity values must be finite and non-empty")
    if log:
        if np.any(values <= 0):
            raise DataError("log-spaced complexity bins need positive values (use log=False)")
        values = np.log(values)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        high = low + 1.0
    edges = np.linspace(low, high, bins + 1)
    return np.exp(edges) if log else edges


def complexity_weights(
    complexity: np.ndarray, edges: np.ndarray, target: np.ndarray | None = None
) -> np.ndarray:
    """Per-model weights that give each complexity bin the mass ``target`` (default uniform).

    A model in bin j gets weight target_j / (number of models in bin j), so the weighted
    complexity histogram equals ``target`` whatever the sampled one was. Models in bins with zero
    target mass get weight 0. Weights sum to 1 over the bins the population occupies.
    """
    complexity = np.asarray(complexity, dtype=float)
    bins = len(edges) - 1
    index = _bin_index(complexity, edges)
    counts = np.bincount(index, minlength=bins).astype(float)
    target = np.ones(bins) if target is None else np.asarray(target, dtype=float)
    if target.shape != (bins,) or np.any(target < 0):
        raise UsageError(f"target must hold {bins} non-negative bin masses")
    mass = np.where(counts > 0, target, 0.0)
    if mass.sum() <= 0:
        raise DataError("no model falls in a bin with positive target mass")
    mass = mass / mass.sum()
    return mass[index] / counts[index]


def normalized_edfs(
    populations: Mapping[str, tuple[np.ndarray, np.ndarray]],
    bins: int = 10,
    grid: np.ndarray | None = None,
    log: bool = True,
    points: int = 256,
) -> dict[str, EDF]:
    """Complexity-normalized EDFs of several populations, given as name -> (errors, complexity).

    Complexity is binned on shared edges; the target mass is uniform over the bins that every
    population occupies, so each EDF describes the same complexity mix. Duplicating or dropping
    models within a bin (resampling the complexity distribution) leaves the result unchanged.
    """
    if not populations:
        raise UsageError("no populations to compare")
    edges = complexity_bin_edges([c for _, c in populations.values()], bins, log)
    occupied = np.ones(bins, dtype=bool)
    for _, comp in populations.values():
        occupied &= np.bincount(_bin_index(np.asarray(comp, dtype=float), edges), minlength=bins) > 0
    if not occupied.any():
        raise DataError("the populations share no complexity bin; use fewer bins")
    if grid is None:
        all_errors = np.concatenate([np.asarray(e, dtype=float) for e, _ in populations.values()])
        grid = np.linspace(all_errors.min(), all_errors.max() + 1e-9, points)
    result = {}
    for name, (errors, comp) in populations.items():
        weights = complexity_weights(np.asarray(comp, dtype=float), edges, occupied.astype(float))
        result[name] = error_edf(errors, grid, weights)
    return result


def ks_distance(
    errors_a: np.ndarray,
    errors_b: np.ndarray,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
) -> float:
    """Kolmogorov-Smirnov distance sup_e |F_a(e) - F_b(e)| between two (weighted) EDFs."""
    a, weights_a = _checked(errors_a, weights_a)
    b, weights_b = _checked(errors_b, weights_b)
    # The EDFs are step functions; the supremum is attained just after some sample point.
    points = np.unique(np.concatenate([a, b]))
    at = np.nextafter(points, np.inf)
    return float(np.max(np.abs(edf_values(a, at, weights_a) - edf_values(b, at, weights_b))))


def _bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each value; values outside the edges go to the first or last bin."""
    return np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)


def _checked(errors: np.ndarray, weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    errors = np.asarray(errors, dtype=float).ravel()
    if errors.size == 0:
        raise DataError("an EDF needs at least one error value")
    if not np.all(np.isfinite(errors)):
        raise DataError("error values must be finite (drop failed trials first)")
    if weights is None:
        return errors, np.ones_like(errors)
    weights = np.asarray(weights, dtype=float).ravel()
    if weights.shape != errors.shape:
        raise UsageError(f"{weights.size} weights for {errors.size} errors")
    if np.any(weights < 0) or weights.sum() <= 0:
        raise UsageError("weights must be non-negative with a positive sum")
    return errors, weights
