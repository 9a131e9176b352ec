"""The Elite Space a search returns: its ranges, size, exact FLOPs distribution and regime fit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspace.nss.distribution import FlopsDistribution, InputSpec, flops_distribution
from archspace.nss.partition import Partition
from archspace.nss.regimes import FlopsRegime
from archspace.nss.table import BudgetStats, budget_stats
from archspace.spaces.nss import NSSSpace


@dataclass(frozen=True)
class EliteSpace:
    """A network space chosen for a FLOPs regime, described exactly (no sampling)."""

    space: NSSSpace
    index: int
    probability: float
    regime: FlopsRegime
    inputs: InputSpec
    distribution: FlopsDistribution
    budget: BudgetStats

    @property
    def space_name(self) -> str:
        """What ``get_space`` and ``archspace study run --space`` take: ``nss:<space-id>``."""
        return self.space.name

    def to_dict(self) -> dict[str, Any]:
        return {"space": self.space.name, "space_id": self.space.space_id, "index": self.index,
                "probability": self.probability, "size": self.space.size,
                "ranges": self.space.summary()["ranges"], "regime": self.regime.to_dict(),
                "inputs": {"resolution": self.inputs.resolution, "num_classes": self.inputs.num_classes,
                           "in_channels": self.inputs.in_channels},
                "in_regime": self.budget.in_band, "budget": self.budget.to_dict(),
                "flops": self.distribution.to_dict()}


def describe_elite(partition: Partition, index: int, probability: float, regime: FlopsRegime,
                   inputs: InputSpec, bins: int = 12) -> EliteSpace:
    """Space ``index`` of ``partition`` with its exact flops distribution and fit to ``regime``."""
    space = partition.space(index)
    return EliteSpace(space, int(index), float(probability), regime, inputs,
                      flops_distribution(space, bins, inputs), budget_stats(space, regime, inputs))
