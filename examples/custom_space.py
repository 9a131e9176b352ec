"""Worked example: a design space over an existing family (recipe (a) of CONTRIBUTING.md).

``NB201LiveSpace`` holds the NAS-Bench-201 cells whose output node is reachable from the input
node through edges that are not ``none``. The other 341 of the 15,625 cells are *dead*: their
cell output is zero for every input, so the network predicts a constant and any evaluation spent
on one is wasted. Leaving them out of the space (instead of filtering them in each strategy)
means random search, evolution and BO never propose one.

The space reuses the NB201 family (``archspace.families.nb201``) for cost and building; it only
adds membership, sampling and the three optional capabilities, which it really implements:

- ``sample`` / ``sample_batch``: exactly uniform over the live cells, no rejection loop;
- ``neighbors``: live cells at Hamming distance 1..d over the 6 edges;
- ``mutate``: a uniformly chosen live neighbor at distance 1 (one always exists);
- ``encode``: the 30-float one-hot that ``NB201Space.encode`` uses, so encoders and GP models
  built for ``nb201`` read it unchanged.

Run it: ``.venv/bin/python examples/custom_space.py`` (a few seconds on CPU).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from archspace.checks import check_space
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.families.nb201.family import NB201Family
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import NUM_CELLS, NUM_EDGES, NUM_OPS, OP_INDEX, PLACE
from archspace.search.registry import make_strategy
from archspace.spaces.base import Space, as_generator
from archspace.spaces.registry import SPACES, get_space
from archspace.study import Study

SPACE_NAME = "example_nb201_live"  # "example_" keeps it clear of every built-in name


def all_ops() -> np.ndarray:
    """(15625, 6) op indices of every cell, row = the cell's code (base 5, edge 1<-0 first)."""
    codes = np.arange(NUM_CELLS, dtype=np.int64)
    return (codes[:, None] // PLACE[None, :]) % NUM_OPS


def output_reachable(ops: np.ndarray) -> np.ndarray:
    """Boolean per row of an (n, 6) op-index array: node 3 is reachable from node 0.

    Edge order (``archspace.families.nb201.table.EDGES``): 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2.
    A node is reached when one of its incoming edges is not ``none`` and starts at a reached node.
    """
    live = np.asarray(ops) != OP_INDEX["none"]
    node1 = live[:, 0]
    node2 = live[:, 1] | (live[:, 2] & node1)
    return live[:, 3] | (live[:, 4] & node1) | (live[:, 5] & node2)


@SPACES.register(SPACE_NAME, description="NAS-Bench-201 cells whose output depends on the input",
                 family="nb201")
class NB201LiveSpace(Space[NB201Cell]):
    """NAS-Bench-201 cells with a non-``none`` path from the input node to the output node.

    ``channels`` (C) and ``cells_per_stage`` (N) are the family options: they size the network
    that ``complexity`` and ``build`` describe (the benchmark's table is for C = 16, N = 5).
    """

    name = SPACE_NAME
    arch_class = NB201Cell
    capabilities = frozenset({"neighbors", "mutate", "encode"})

    def __init__(self, channels: int = 16, cells_per_stage: int = 5) -> None:
        super().__init__()
        self.family = NB201Family(channels=channels, cells_per_stage=cells_per_stage)
        ops = all_ops()
        keep = output_reachable(ops)
        # Per-instance, read-only tables (no module-level state): codes and op rows of live cells.
        self._codes = np.flatnonzero(keep)
        self._ops = ops[keep]
        for table in (self._codes, self._ops):
            table.setflags(write=False)

    def options(self) -> dict[str, Any]:
        """The family options: with a cell they rebuild exactly one network."""
        return self.family.options()

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "dimension": NUM_EDGES, "size": int(self._codes.size),
                "dead_cells_removed": NUM_CELLS - int(self._codes.size), **self.options()}

    # --- membership and sampling -----------------------------------------------------------------
    def validate(self, arch: NB201Cell) -> NB201Cell:
        """``arch`` if it is a live NB201 cell; ``InvalidArchitecture`` naming the field otherwise."""
        if not isinstance(arch, NB201Cell):
            raise InvalidArchitecture("kind", f"expected an nb201 cell, got {type(arch).__name__}")
        if not output_reachable(np.array([arch.op_indices]))[0]:
            raise InvalidArchitecture("ops", f"cell {arch.to_string()} is dead: no non-'none' path "
                                             "from the input node to the output node")
        return arch

    def sample(self, rng: int | np.random.Generator | None = None) -> NB201Cell:
        """One live cell, uniform over the live cells."""
        return self.sample_batch(rng, 1)[0]

    def sample_batch(self, rng: int | np.random.Generator | None, n: int) -> list[NB201Cell]:
        """``n`` live cells at once (one vectorized draw of codes, with replacement)."""
        picks = as_generator(rng).integers(0, self._codes.size, size=n)
        return [NB201Cell.from_code(int(code)) for code in self._codes[picks]]

    # --- capabilities ----------------------------------------------------------------------------
    def neighbors(self, arch: NB201Cell, distance: int = 1) -> list[NB201Cell]:
        """Live cells whose ops differ from ``arch``'s on 1..``distance`` edges, ordered by code."""
        self.validate(arch)
        if isinstance(distance, bool) or not isinstance(distance, int) or not 1 <= distance <= NUM_EDGES:
            raise UsageError(f"distance must be an integer in [1, {NUM_EDGES}], got {distance!r}")
        differing = (self._ops != np.array(arch.op_indices)).sum(axis=1)
        chosen = self._codes[(differing >= 1) & (differing <= distance)]
        return [NB201Cell.from_code(int(code)) for code in chosen]

    def mutate(self, arch: NB201Cell, rng: int | np.random.Generator | None = None) -> NB201Cell:
        """A uniformly chosen live neighbor at distance 1.

        Every live cell has one: turning a ``none`` edge into an op, or an op into another op,
        never cuts the path to the output.
        """
        candidates = self.neighbors(arch, 1)
        return candidates[int(as_generator(rng).integers(len(candidates)))]

    def encode(self, arch: NB201Cell) -> np.ndarray:
        """One-hot of each edge's op over all 5 ops: 30 floats (the same as ``NB201Space``)."""
        out = np.zeros((NUM_EDGES, NUM_OPS))
        out[np.arange(NUM_EDGES), arch.op_indices] = 1.0
        return out.ravel()


def main() -> None:
    """Check the space's contract, then run a 20-trial evolution study on the NB201 table."""
    small = NB201LiveSpace(channels=8, cells_per_stage=1)  # small network: the build check is quick
    report = check_space(small, n=20, seed=0, build=True)
    print(f"check_space passed: {report}")

    space = get_space(SPACE_NAME)  # the registry finds it by name, like any built-in space
    print(f"space {space.name}: {space.summary()['size']} live cells "
          f"({space.summary()['dead_cells_removed']} dead cells removed)")
    with tempfile.TemporaryDirectory() as folder:
        study = Study.create("live-cells", Path(folder) / "study.db", seed=0)
        strategy = make_strategy("re", space, seed=0, population_size=8)  # needs mutate: declared here
        summary = study.optimize(strategy, NB201Benchmark(metric="cifar10_valid_200"), n_trials=20)
        best = study.best_trial()
        print(f"{summary.finished} trials finished")
        print(f"best trial #{best.number}: objective {best.objective:.2f} "
              f"(cifar10 valid accuracy {best.metrics['accuracy']:.2f}%), cell {best.arch.to_string()}")
        study.storage.close()


if __name__ == "__main__":
    main()
