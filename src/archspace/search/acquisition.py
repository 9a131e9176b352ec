"""Maximizing an acquisition function over a discrete space.

Candidates are random samples from the space (``optimizer="random"``); with
``optimizer="evolution"`` the pool also holds mutations of the best told architectures, and a few
generations mutate the highest-scoring candidates again. Already-evaluated (or already proposed)
architectures are excluded, so a proposal is always new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.spaces.base import Space

OPTIMIZERS = ("random", "evolution")

Scorer = Callable[[Sequence[ArchSpec]], np.ndarray]


def random_pool(
    space: Space, rng: np.random.Generator, n: int, exclude: set[ArchSpec] | dict
) -> list[ArchSpec]:
    """Up to ``n`` distinct random samples not in ``exclude`` (at most ``3 n`` draws)."""
    pool: dict[ArchSpec, None] = {}
    for _ in range(3 * n):
        if len(pool) >= n:
            break
        arch = space.sample(rng)
        if arch not in exclude:
            pool[arch] = None
    return list(pool)


def mutation_pool(
    space: Space,
    rng: np.random.Generator,
    parents: Iterable[ArchSpec],
    n_children: int,
    exclude: set[ArchSpec] | dict,
) -> list[ArchSpec]:
    """``n_children`` mutations of each parent, deduplicated, minus ``exclude``."""
    pool: dict[ArchSpec, None] = {}
    for parent in parents:
        for _ in range(n_children):
            child = space.mutate(parent, rng)
            if child not in exclude:
                pool[child] = None
    return list(pool)


def maximize_acquisition(
    space: Space,
    score: Scorer,
    rng: np.random.Generator,
    exclude: set[ArchSpec] | dict,
    parents: Sequence[ArchSpec] = (),
    n_pick: int = 1,
    n_random: int = 500,
    optimizer: str = "random",
    generations: int = 2,
    n_parents: int = 10,
    n_children: int = 10,
) -> list[ArchSpec]:
    """The ``n_pick`` candidates with the highest ``score`` (higher is better), best first."""
    if optimizer not in OPTIMIZERS:
        raise UsageError(f"unknown acquisition optimizer {optimizer!r}; choose from {OPTIMIZERS}")
    pool = random_pool(space, rng, n_random, exclude)
    if optimizer == "evolution":
        seen = set(pool)
        pool += [a for a in mutation_pool(space, rng, parents[:n_parents], n_children, exclude) if a not in seen]
    if not pool:
        return []
    scores = np.asarray(score(pool), dtype=float)
    if optimizer == "evolution":
        for _ in range(generations):
            top = [pool[i] for i in np.argsort(-scores, kind="stable")[:n_parents]]
            seen = set(pool)
            children = [c for c in mutation_pool(space, rng, top, n_children, exclude) if c not in seen]
            if not children:
                break
            pool += children
            scores = np.concatenate([scores, np.asarray(score(children), dtype=float)])
    order = np.argsort(-scores, kind="stable")[:n_pick]
    return [pool[i] for i in order]
