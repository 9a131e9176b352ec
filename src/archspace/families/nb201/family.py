"""``NB201Family``: the NAS-Bench-201 macro network around one cell (spec kind ``nb201``).

Family options: ``channels`` (C) and ``cells_per_stage`` (N); the benchmark's table is for
C = 16, N = 5. A cell plus (C, N) rebuilds exactly one network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from archspace.complexity.counts import Complexity
from archspace.errors import InvalidArchitecture
from archspace.families import FAMILIES
from archspace.families.base import Family, positive_option
from archspace.families.layers import LayerConfig
from archspace.families.nb201.cost import cell_complexity, cells_complexity
from archspace.families.nb201.layers import nb201_layer_sequence
from archspace.families.nb201.spec import NB201Cell


@FAMILIES.register("nb201")
class NB201Family(Family):
    """Stem, 3 stages of N cells (C, 2C, 4C channels) with residual reductions, BN-ReLU, classifier."""

    kind = "nb201"
    spec_class = NB201Cell
    default_input = {"resolution": 32, "num_classes": 10, "in_channels": 3}

    def __init__(self, channels: int = 16, cells_per_stage: int = 5) -> None:
        self.channels = positive_option(channels, "channels")
        self.cells_per_stage = positive_option(cells_per_stage, "cells_per_stage")

    def options(self) -> dict[str, Any]:
        return {"channels": self.channels, "cells_per_stage": self.cells_per_stage}

    def validate(self, arch: Any) -> NB201Cell:
        if not isinstance(arch, NB201Cell):
            raise InvalidArchitecture("kind", f"expected an nb201 cell, got {type(arch).__name__}")
        return arch

    def cost(self, arch: NB201Cell, resolution: int, num_classes: int, in_channels: int) -> Complexity:
        return cell_complexity(arch.op_indices, self.channels, self.cells_per_stage, resolution, num_classes,
                               in_channels)

    def complexity_many(self, archs: Sequence[NB201Cell], validate: bool = True, **input_spec: Any) -> list[Complexity]:
        ops = np.array([self.validate(a).op_indices for a in archs], dtype=np.int64).reshape(len(archs), -1)
        counts = self.complexity_of_ops(ops, **input_spec)
        return [Complexity(int(f), int(p), int(a)) for f, p, a in zip(*counts, strict=True)]

    def complexity_of_ops(self, ops: np.ndarray, resolution: int | None = None, num_classes: int | None = None,
                          in_channels: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """flops, params, acts arrays of cells given as an (n, 6) array of op indices."""
        spec = self.input_spec(resolution, num_classes, in_channels)
        return cells_complexity(ops, self.channels, self.cells_per_stage, spec["resolution"],
                                spec["num_classes"], spec["in_channels"])

    def layer_sequence(self, arch: NB201Cell, num_classes: int | None = None,
                       in_channels: int | None = None) -> list[LayerConfig]:
        spec = self.input_spec(None, num_classes, in_channels)
        return nb201_layer_sequence(self.validate(arch).ops, self.channels, self.cells_per_stage,
                                    spec["num_classes"], spec["in_channels"])

    def feature_sequence(self, arch: NB201Cell, channels: int | None = None, cells_per_stage: int = 1,
                         num_classes: int = 10, macro: bool = True, **_: Any) -> list[LayerConfig]:
        """The learned kernel's view: one cell per stage by default (repeats carry no information
        about the cell), ``macro=False`` for the 6 edge layers alone."""
        return nb201_layer_sequence(self.validate(arch).ops, positive_option(channels or self.channels, "channels"),
                                    positive_option(cells_per_stage, "cells_per_stage"), num_classes, 3, macro)

    def build(self, arch: NB201Cell, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        from archspace.families.nb201.modules import NB201Network

        spec = self.input_spec(None, num_classes, in_channels)
        return NB201Network(self.validate(arch).ops, channels=self.channels, cells_per_stage=self.cells_per_stage,
                            num_classes=spec["num_classes"], in_channels=spec["in_channels"])
