"""Strategies by short name: ``STRATEGIES`` (filled by ``@STRATEGIES.register``), ``make_strategy``.

Names: rs (random search), re (regularized evolution), ls (local search), bo (GP + EI on the
one-hot encoding), bo-learned (BO with K = 8 learned Bi-LSTM kernels), iso-bo (isomorphism-aware
BO over every cell), the peers at their libraries' defaults (tpe, optuna-gp,
optuna-gp-deterministic, hyperopt-tpe, smac-bb, smac-hpo; metadata ``peer`` and ``extra``), and
``na-<name>`` for the neighborhood-aware wrapper around any of them (``na-rs`` is NA-RS). Options
are forwarded to the constructor; for ``na-*`` the wrapper's options (n_nbr, distance,
criterion, lam) are separated from the inner strategy's. (The workflow strategies that propose a
given set, ``PopulationStrategy`` and ``FixedList``, are constructed directly, not by name.)

Metadata of an entry: ``model_based``, ``uses_torch`` and ``requires`` (optional Python packages).
What a strategy needs from a space (``Strategy.needs``: mutate, neighbors, encode) is declared on
its class and checked when it is constructed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from typing import Any

import numpy as np

from archspace.errors import UsageError
from archspace.parsing import parse_list
from archspace.registry import Registry
from archspace.search.base import Strategy
from archspace.spaces.base import Space

STRATEGIES: Registry[type[Strategy]] = Registry("search algorithm", modules=(
    "archspace.search.random_search", "archspace.search.evolution", "archspace.search.local_search",
    "archspace.search.bo", "archspace.search.multi_kernel", "archspace.search.optuna_baseline", "archspace.search.gp_bandit",
    "archspace.search.peers.hyperopt_tpe", "archspace.search.peers.smac_facades", "archspace.search.iso_bo",
    "archspace.search.tpe_operations"))
NA_PREFIX = "na-"
WRAPPER_OPTIONS = ("n_nbr", "distance", "criterion", "lam")


def search_names() -> list[str]:
    """The search algorithms (what a benchmark comparison runs), ``na-rs`` included."""
    return [*STRATEGIES.names(), f"{NA_PREFIX}rs"]


def strategy_metadata(name: str) -> dict[str, Any]:
    """Metadata of a strategy name (``na-<base>`` inherits its base's, plus ``neighbors``)."""
    check_strategy_name(name)
    entry = STRATEGIES.entry(name.removeprefix(NA_PREFIX))
    needs = tuple(entry.obj.needs)
    if name.startswith(NA_PREFIX):
        needs = tuple(dict.fromkeys((*needs, "neighbors")))
    return {"model_based": entry.get("model_based", False),
            "uses_torch": entry.get("uses_torch", False), "requires": tuple(entry.get("requires", ())),
            "needs": needs, "description": entry.description}


def check_requirements(name: str) -> None:
    """A UsageError naming the missing optional package a strategy needs, before any work."""
    extra = STRATEGIES.entry(name.removeprefix(NA_PREFIX)).get("extra")
    for package in strategy_metadata(name)["requires"]:
        if importlib.util.find_spec(package) is None:
            raise UsageError(f"search algorithm {name!r} needs {package}: pip install 'archspace[{extra or package}]'")


def check_strategy_name(name: str) -> str:
    """``name`` if it names a strategy (``na-`` + a base name included), else a UsageError."""
    base = name.removeprefix(NA_PREFIX)
    if base not in STRATEGIES:
        known = search_names() + [f"{NA_PREFIX}<any of {STRATEGIES.names()}>"]
        raise UsageError(f"unknown search algorithm {name!r}; known: {known}")
    return name


def parse_strategy_names(text: str | Iterable[str]) -> list[str]:
    """A comma-separated list (or iterable) of names, checked, duplicates removed, order kept."""
    try:
        names = parse_list(text, "search algorithm")
    except UsageError:
        raise UsageError(f"no search algorithm given; known: {search_names()}") from None
    return [check_strategy_name(n) for n in names]


def is_model_based(name: str) -> bool:
    return bool(strategy_metadata(name)["model_based"])


def make_strategy(name: str, space: Space, seed: int | None = None, **options: Any) -> Strategy:
    """A fresh strategy; same name, space, seed and options -> same proposals."""
    check_strategy_name(name)
    if name.startswith(NA_PREFIX):
        from archspace.search.neighborhood import NeighborhoodAware

        inner_seed, wrapper_seed = np.random.SeedSequence(seed).spawn(2)
        wrapper = {k: options.pop(k) for k in WRAPPER_OPTIONS if k in options}
        inner = _construct(name.removeprefix(NA_PREFIX), space, np.random.default_rng(inner_seed), options)
        return NeighborhoodAware(inner, space, np.random.default_rng(wrapper_seed), **wrapper)
    return _construct(name, space, seed, options)


def _construct(name: str, space: Space, seed: Any, options: dict[str, Any]) -> Strategy:
    check_requirements(name)
    cls = STRATEGIES.get(name)
    try:
        return cls(space, seed, **options)
    except TypeError as exc:
        raise UsageError(f"bad options for search algorithm {name!r}: {exc}") from None
