"""The analytic NAS-inside-Elite-Space vs expanded-space table (supplement Table 1), without training.

For a FLOPs budget T, NAS samples networks until one meets the constraint flops <= T. Sampling
uniformly from a space with p = P(flops <= T), the number of samples until the first success is
geometric: mean 1 / p, and ceil(log 0.05 / log(1 - p)) samples reach a 95% chance. The first
success is a uniform draw among the networks that meet the budget, so its expected deviation
from the target is Delta = E[(T - F) / T | F <= T] = 1 - (sum of their flops) / (count x T). All
three come from the exact counts of ``archspace.nss.distribution.flops_below``: no sampling.

The Elite Space of a regime in this table is the space of the partition a search would return
if every space were equally accurate: the one with the highest exact probability that a uniform
network falls in the regime band [(1 - tolerance) T, T] (the FLOPs term of the NSS objective
alone). Finding it: a seeded 64-network estimate of that probability for every space of the
partition screens the candidates; the 8 best are then counted exactly and the best exact one is
chosen. ``elite_table`` also takes Elite Spaces found by a real search instead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from archspace.errors import UsageError
from archspace.nss.distribution import CIFAR_INPUT, InputSpec, flops_below, sample_flops_many
from archspace.nss.partition import Partition
from archspace.nss.regimes import DEFAULT_TOLERANCE, FlopsRegime, regnet_regimes
from archspace.spaces.nss import NSSSpace

SCREEN_SAMPLES = 64
EXACT_CANDIDATES = 8


@dataclass(frozen=True)
class BudgetStats:
    """How NAS by uniform sampling in one space meets the budget ``target``."""

    probability: float
    expected_samples: float
    samples_95: float
    delta_percent: float
    in_band: float

    def to_dict(self) -> dict:
        return {"probability": self.probability, "expected_samples": self.expected_samples,
                "samples_95": self.samples_95, "delta_percent": self.delta_percent, "in_band": self.in_band}


@dataclass(frozen=True)
class TableRow:
    regime: FlopsRegime
    expanded: BudgetStats
    elite: BudgetStats
    elite_space: str

    @property
    def fewer_samples_percent(self) -> float:
        return 100.0 * (1 - self.elite.expected_samples / self.expanded.expected_samples)

    def to_dict(self) -> dict:
        return {"regime": self.regime.name, "target": self.regime.target, "band": [self.regime.low, self.regime.high],
                "elite_space": self.elite_space, "expanded": self.expanded.to_dict(), "elite": self.elite.to_dict(),
                "fewer_samples_percent": self.fewer_samples_percent}


def budget_stats(space: NSSSpace, target: FlopsRegime, inputs: InputSpec = CIFAR_INPUT) -> BudgetStats:
    """Exact samples-to-satisfy and Delta % of uniform NAS in ``space`` for budget ``target.high``."""
    return _stats(flops_below(space, [math.ceil(target.low) - 1, target.high], inputs), target)


def _stats(below, target: FlopsRegime) -> BudgetStats:  # noqa: ANN001 - a BelowCounts for [low - 1, high]
    count, total = int(below.counts[1]), below.size
    p = count / total
    band = (count - int(below.counts[0])) / total
    if count == 0:
        return BudgetStats(0.0, math.inf, math.inf, math.nan, band)
    delta = 100.0 * (1.0 - below.sums[1] / (count * target.high))
    n95 = 1.0 if p >= 1 else math.ceil(math.log(0.05) / math.log1p(-p))
    return BudgetStats(p, 1.0 / p, float(n95), float(delta), band)


def analytic_elite(partition: Partition, target: FlopsRegime, inputs: InputSpec = CIFAR_INPUT, seed: int = 0,
                   screen: np.ndarray | None = None) -> NSSSpace:
    """The space of ``partition`` with the highest exact probability of the band (see the module doc)."""
    flops = screen if screen is not None else sample_flops_many(partition.bounds(), SCREEN_SAMPLES, seed,
                                                                partition.stem_width, inputs)
    estimate = ((flops >= target.low) & (flops <= target.high)).mean(axis=1)
    order = np.argsort(-estimate, kind="stable")[:EXACT_CANDIDATES]
    best, best_p = None, -1.0
    for index in order.tolist():
        space = partition.space(index)
        stats = budget_stats(space, target, inputs)
        if stats.in_band > best_p:
            best, best_p = space, stats.in_band
    return best


def elite_table(partition: Partition | None = None, regimes: Sequence[FlopsRegime] | None = None,
                inputs: InputSpec = CIFAR_INPUT, elites: dict[str, NSSSpace] | None = None,
                seed: int = 0) -> list[TableRow]:
    """One row per regime: uniform NAS in the expanded space vs in the regime's Elite Space.

    ``elites`` maps a regime name to an Elite Space found by search; the others are the analytic
    Elite Spaces of ``partition`` (default: the default partition of the full expanded space).
    """
    partition = partition or Partition()
    regimes = list(regimes or regnet_regimes(DEFAULT_TOLERANCE))
    expanded = partition.expanded()
    points = sorted({v for r in regimes for v in (math.ceil(r.low) - 1, r.high)})
    below = flops_below(expanded, points, inputs)
    position = {v: i for i, v in enumerate(points)}
    for r in regimes:  # refused before any screening: a regime no network of the space can meet
        if below.counts[position[r.high]] == below.counts[position[math.ceil(r.low) - 1]]:
            raise UsageError(f"no network of space {expanded.name} has flops in regime {r.name} "
                             f"({r.low:.4g}..{r.high:.4g}); reachable flops are {below.min:.4g}..{below.max:.4g} "
                             f"at {inputs.resolution}x{inputs.resolution}")
    elites = dict(elites or {})
    screen = None
    if any(r.name not in elites for r in regimes):
        screen = sample_flops_many(partition.bounds(), SCREEN_SAMPLES, seed, partition.stem_width, inputs)
    rows = []
    for r in regimes:
        pick = [position[math.ceil(r.low) - 1], position[r.high]]
        sub = type(below)(below.thresholds[pick], below.counts[pick], below.sums[pick], below.size, below.mean,
                          below.min, below.max)
        elite = elites.get(r.name) or analytic_elite(partition, r, inputs, seed, screen)
        rows.append(TableRow(r, _stats(sub, r), budget_stats(elite, r, inputs), elite.space_id))
    return rows
