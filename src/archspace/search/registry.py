"""Strategies by short name: ``make_strategy("re", space, seed=0)``.

Names: rs (random search), re (regularized evolution), ls (local search), bo (GP + EI on the
one-hot encoding), bo-learned (BO with K = 8 learned Bi-LSTM kernels), tpe (Optuna's TPE), and
``na-<name>`` for the neighborhood-aware wrapper around any of them (``na-rs`` is NA-RS).
Options are forwarded to the constructor; for ``na-*`` the wrapper's options (n_nbr, distance,
criterion, lam) are separated from the inner strategy's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from archspace.errors import UsageError
from archspace.search.base import Strategy
from archspace.spaces.base import Space

NA_PREFIX = "na-"
WRAPPER_OPTIONS = ("n_nbr", "distance", "criterion", "lam")


def _rs(space: Space, seed: Any, **options: Any) -> Strategy:
    from archspace.search.random_search import RandomSearch

    return RandomSearch(space, seed, **options)


def _re(space: Space, seed: Any, **options: Any) -> Strategy:
    from archspace.search.evolution import RegularizedEvolution

    return RegularizedEvolution(space, seed, **options)


def _ls(space: Space, seed: Any, **options: Any) -> Strategy:
    from archspace.search.local_search import LocalSearch

    return LocalSearch(space, seed, **options)


def _bo(space: Space, seed: Any, **options: Any) -> Strategy:
    from archspace.search.bo import BayesianOptimization

    return BayesianOptimization(space, seed, **options)


def _bo_learned(space: Space, seed: Any, **options: Any) -> Strategy:
    from archspace.search.multi_kernel import MultiKernelBO

    return MultiKernelBO(space, seed, **options)


def _tpe(space: Space, seed: Any, **options: Any) -> Strategy:
    from archspace.search.optuna_baseline import OptunaTPE

    return OptunaTPE(space, seed, **options)


BASE_STRATEGIES: dict[str, Callable[..., Strategy]] = {
    "rs": _rs,
    "re": _re,
    "ls": _ls,
    "bo": _bo,
    "bo-learned": _bo_learned,
    "tpe": _tpe,
}
DESCRIPTIONS: dict[str, str] = {
    "rs": "random search",
    "re": "regularized evolution",
    "ls": "local search",
    "bo": "Bayesian optimization, GP + EI on the one-hot encoding",
    "bo-learned": "BO with learned Bi-LSTM architecture kernels (K = 8)",
    "na-rs": "neighborhood-aware random search",
    "tpe": "Optuna TPE (external baseline)",
}
STRATEGY_NAMES: tuple[str, ...] = ("rs", "re", "ls", "bo", "bo-learned", "na-rs", "tpe")
MODEL_BASED: frozenset[str] = frozenset({"bo", "bo-learned"})


def check_strategy_name(name: str) -> str:
    """``name`` if it names a strategy (``na-`` + a base name included), else a UsageError."""
    base = name.removeprefix(NA_PREFIX)
    if base not in BASE_STRATEGIES:
        known = list(STRATEGY_NAMES) + [f"{NA_PREFIX}<any of {list(BASE_STRATEGIES)}>"]
        raise UsageError(f"unknown search algorithm {name!r}; known: {known}")
    return name


def parse_strategy_names(text: str | Iterable[str]) -> list[str]:
    """A comma-separated list (or iterable) of names, checked, duplicates removed, order kept."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else [str(n) for n in text]
    names = [n for n in names if n]
    if not names:
        raise UsageError(f"no search algorithm given; known: {list(STRATEGY_NAMES)}")
    return list(dict.fromkeys(check_strategy_name(n) for n in names))


def is_model_based(name: str) -> bool:
    return name.removeprefix(NA_PREFIX) in MODEL_BASED


def make_strategy(name: str, space: Space, seed: int | None = None, **options: Any) -> Strategy:
    """A fresh strategy; same name, space, seed and options -> same proposals."""
    check_strategy_name(name)
    if name.startswith(NA_PREFIX):
        from archspace.search.neighborhood import NeighborhoodAware

        inner_seed, wrapper_seed = np.random.SeedSequence(seed).spawn(2)
        wrapper = {k: options.pop(k) for k in WRAPPER_OPTIONS if k in options}
        inner = BASE_STRATEGIES[name.removeprefix(NA_PREFIX)](
            space, np.random.default_rng(inner_seed), **options
        )
        return NeighborhoodAware(inner, space, np.random.default_rng(wrapper_seed), **wrapper)
    try:
        return BASE_STRATEGIES[name](space, seed, **options)
    except TypeError as exc:
        raise UsageError(f"bad options for search algorithm {name!r}: {exc}") from None
