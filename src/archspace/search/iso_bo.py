"""``iso-bo``: isomorphism-aware Bayesian optimization over every cell of a NAS-Bench-201 space.

Three things set it apart from the generic ``bo``:

* **Never an isomorph twice.** NAS-Bench-201's 15,625 cells fall into 6,466 isomorphism classes
  (cells computing the same function; ``families.nb201.index``). Once a cell has been proposed,
  every cell of its class is excluded, so no evaluation is spent on a cell whose computation was
  already measured.
* **Exhaustive acquisition.** A GP with a Hamming-distance kernel (``search.hamming_gp.SpaceGP``)
  keeps its posterior over *all* cells of the space, so expected improvement is maximized over
  every unexcluded cell, not over a sample of candidates; a step costs milliseconds.
* **One point per class.** With ``encoding="canonical"`` (the default) a cell is encoded by its
  class's representative, so all isomorphs share one kernel input and what is learned about a
  class transfers to its other members.

Hyperparameters (length scale, noise) come from a grid by marginal likelihood, refitted each
time the data grow by ``refit_growth``. The first ``n_init`` proposals are uniform random cells
(of unseen classes). ``recommend()`` is the best observed cell, or with ``select="posterior"`` the
observed cell of lowest posterior mean (for noisy protocols).
"""

from __future__ import annotations

import math

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.families.nb201.index import benchmark_ops_matrix, isomorphism_class_ids
from archspace.search.base import SearchExhausted, Strategy
from archspace.search.gp import expected_improvement
from archspace.search.hamming_gp import KERNELS, SpaceGP
from archspace.search.history import History
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space, as_generator

SELECTIONS: tuple[str, ...] = ("observed", "posterior")


def space_cells(space: Space) -> np.ndarray:
    """Benchmark indices of every cell of an NB201-like space (op mask and constraints applied)."""
    indices = getattr(space, "allowed_indices", None)
    if indices is None or not hasattr(space, "index_of") or not hasattr(space, "cell_at"):
        raise UsageError(f"search algorithm 'iso-bo' needs an enumerable NB201 cell space, got "
                         f"{getattr(space, 'name', space)!r}")
    indices = np.asarray(indices, dtype=np.int64)
    if getattr(space, "constraints", ()):
        indices = np.array([i for i in indices if space.satisfies(space.cell_at(int(i)))], dtype=np.int64)
    if len(indices) < 2:
        raise UsageError(f"search algorithm 'iso-bo' needs a space of at least two cells, got {len(indices)}")
    return indices


@STRATEGIES.register("iso-bo", description="isomorphism-aware BO: Hamming GP, EI over every unseen class",
                     model_based=True)
class IsomorphismAwareBO(Strategy):
    """GP + EI over the isomorphism classes of an NB201 space, one evaluation per class."""

    name = "iso-bo"

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        n_init: int = 10,
        kernel: str = "laplace",
        ard: bool = True,
        refit_growth: float = 1.2,
        select: str = "observed",
        region: int = 2,
        region_size: int = 1,
        patience: int = 10,
    ) -> None:
        if n_init < 1:
            raise UsageError(f"n_init must be >= 1, got {n_init}")
        if kernel not in KERNELS:
            raise UsageError(f"unknown kernel {kernel!r}; choose from {KERNELS}")
        if select not in SELECTIONS:
            raise UsageError(f"unknown selection {select!r}; choose from {SELECTIONS}")
        if not refit_growth > 1.0:
            raise UsageError(f"refit_growth must be > 1, got {refit_growth}")
        self.space = space
        self.rng = as_generator(seed)
        self.n_init = n_init
        self.kernel = kernel
        self.ard = ard
        self.refit_growth = refit_growth
        self.select = select
        self.region = region
        self.region_size = region_size
        self.patience = patience
        cells = space_cells(space)  # benchmark indices, ascending
        self._class_of_index = {}
        ids, first, klass = np.unique(isomorphism_class_ids()[cells], return_index=True, return_inverse=True)
        self.representatives = cells[first]  # per class: its first cell in benchmark order
        self.class_sizes = np.bincount(klass, minlength=len(ids))
        self._class_of_index = dict(zip(cells.tolist(), klass.tolist(), strict=True))
        self.gp = SpaceGP(benchmark_ops_matrix()[self.representatives], kernel=kernel, ard=ard)
        self.history = History()
        self._excluded = np.zeros(len(ids), dtype=bool)  # classes proposed or told
        self._asked = 0
        self._next_fit = 3
        self._since_improvement = 0

    # --- the Strategy API --------------------------------------------------------------------
    def ask(self) -> ArchSpec:
        if self._excluded.all():
            raise SearchExhausted("every isomorphism class of the space has been proposed")
        if self._asked < self.n_init or len(self.gp) < 2:
            row = self._random_class()
        else:
            row = self._best_ei_class()
        self._asked += 1
        self._excluded[row] = True
        return self.space.cell_at(int(self.representatives[row]))  # type: ignore[attr-defined]

    def tell(self, arch: ArchSpec, result: Result) -> None:
        before = self.history.best_objective
        value = self.history.add(arch, result)
        self._since_improvement = 0 if value < before else self._since_improvement + 1
        row = self._class_of_index.get(self.space.index_of(arch))  # type: ignore[attr-defined]
        if row is None:
            return  # a cell outside the space (e.g. a warm start under another mask): history only
        self._excluded[row] = True
        if math.isfinite(value):
            self.gp.add(row, value)
            if len(self.gp) >= self._next_fit:
                self.gp.fit_hyperparameters()
                self._next_fit = max(self._next_fit + 1, math.ceil(len(self.gp) * self.refit_growth))

    def recommend(self) -> ArchSpec | None:
        """The best observed cell (``select="observed"``) or the observed cell of lowest posterior mean."""
        if self.select == "observed" or len(self.gp) < 3:
            return self.history.best_arch
        mean, _ = self.gp.posterior()
        told = [a for a in self.history.by_arch if self._class_of_index.get(self.space.index_of(a)) is not None]
        rows = [self._class_of_index[self.space.index_of(a)] for a in told]  # type: ignore[attr-defined]
        return told[int(np.argmin(mean[rows]))] if told else self.history.best_arch

    # --- internals ---------------------------------------------------------------------------
    def _random_class(self) -> int:
        """A uniform random cell of an unseen class (classes weighted by their size, as sampling cells)."""
        free = np.flatnonzero(~self._excluded)
        weights = self.class_sizes[free].astype(float)
        return int(free[self.rng.choice(len(free), p=weights / weights.sum())])

    def _best_ei_class(self) -> int:
        mean, std = self.gp.posterior()
        best = self.gp.standardize(float(np.min(self.gp.y)))
        score = expected_improvement(mean, std, best)
        score[self._excluded] = -np.inf
        stuck = self.patience and self._since_improvement >= self.patience
        if self.region and not stuck:
            best = np.argsort(self.gp.y, kind="stable")[: self.region_size]  # observations, best first
            near = np.any([self.gp.mismatch_counts(int(i)) <= self.region for i in best], axis=0)
            if np.isfinite(score[near]).any():
                score[~near] = -np.inf
        return int(np.argmax(score))
