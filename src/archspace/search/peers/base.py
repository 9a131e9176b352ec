"""What every peer adapter shares: the cell parameters, the package check, the recorded config.

``PeerStrategy`` turns a cell into ``{"edge_<i>": op}`` and back, keeps the ``History`` and the
incumbent, and matches each ``tell`` to the peer's pending trial of the same cell (results may
arrive in any order). Subclasses implement ``_peer_ask() -> dict`` (the peer's next parameters
plus a token), ``_peer_tell(token, value)`` and ``_peer_add(params, value)`` (a result the peer
did not ask for, e.g. a warm start).
"""

from __future__ import annotations

import importlib
import inspect
from collections import defaultdict
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from archspace.arch import ArchSpec
from archspace.configs import init_config, to_plain
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.base import Strategy
from archspace.search.history import History
from archspace.spaces.base import Space

PEERS_EXTRA = "archspace[peers]"


def require_package(module: str, strategy: str, distribution: str | None = None) -> Any:
    """Import ``module`` or raise a one-line UsageError naming the ``peers`` extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UsageError(f"search algorithm {strategy!r} needs {distribution or module}: "
                         f"pip install '{PEERS_EXTRA}'") from None


def int_seed(seed: int | np.random.Generator | None) -> int | None:
    """An integer seed for a peer library (a Generator is drawn from once)."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2**31))
    return None if seed is None else int(seed)


def call_arguments(target: Any, given: dict[str, Any]) -> dict[str, Any]:
    """Every parameter of ``target``'s signature with the value it gets: ``given`` over defaults.

    Callables and objects become their ``repr`` (JSON-ready); a result records what ran.
    """
    out: dict[str, Any] = {}
    for name, parameter in inspect.signature(target).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        value = given.get(name, parameter.default)
        if value is inspect.Parameter.empty:
            value = "<required>"
        out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


def package_version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


class PeerStrategy(Strategy):
    """Base of the peer adapters: edge parameters, pending trials, history and incumbent."""

    library: str = ""

    def __init__(self, space: Space, seed: int | np.random.Generator | None = None) -> None:
        ops = getattr(space, "ops", None)
        arch_class = getattr(space, "arch_class", None)
        if ops is None or arch_class is None or not hasattr(space, "sample"):
            raise UsageError(f"search algorithm {self.name!r} needs a cell space with per-edge ops "
                             f"(e.g. nb201), got {getattr(space, 'name', space)!r}")
        if len(ops) < 2:
            raise UsageError(f"search algorithm {self.name!r} needs at least two allowed ops, got {list(ops)}")
        self.space = space
        self.seed = int_seed(seed)
        self.choices: tuple[str, ...] = tuple(ops)
        self.n_edges = len(space.sample(np.random.default_rng(0)).ops)
        self.params = [f"edge_{i}" for i in range(self.n_edges)]
        self.history = History()
        self._pending: dict[ArchSpec, list[Any]] = defaultdict(list)
        self.peer_arguments: dict[str, Any] = {}

    # --- the Strategy API --------------------------------------------------------------------
    def ask(self) -> ArchSpec:
        params, token = self._peer_ask()
        arch = self.arch_of(params)
        self._pending[arch].append(token)
        return arch

    def tell(self, arch: ArchSpec, result: Result) -> None:
        value = self.history.add(arch, result)
        tokens = self._pending.get(arch)
        finite = value if np.isfinite(value) else None
        if tokens:
            self._peer_tell(tokens.pop(0), finite)
        else:
            self._peer_add(self.params_of(arch), finite)

    def recommend(self) -> ArchSpec | None:
        """The best architecture told so far."""
        return self.history.best_arch

    def config(self) -> dict[str, Any]:
        """Adapter arguments plus the peer's: library, version, class and every constructor argument."""
        return {"name": self.name, **init_config(self, exclude=("space", "seed")),
                "peer": to_plain({"library": self.library, "version": package_version(self.library),
                                  **self.peer_arguments})}

    # --- parameters ---------------------------------------------------------------------------
    def arch_of(self, params: dict[str, str]) -> ArchSpec:
        return self.space.arch_class(ops=tuple(params[p] for p in self.params))  # type: ignore[call-arg]

    def params_of(self, arch: ArchSpec) -> dict[str, str]:
        return {p: op for p, op in zip(self.params, arch.ops, strict=True)}  # type: ignore[attr-defined]

    # --- for subclasses -----------------------------------------------------------------------
    def _peer_ask(self) -> tuple[dict[str, str], Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _peer_tell(self, token: Any, value: float | None) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _peer_add(self, params: dict[str, str], value: float | None) -> None:  # pragma: no cover
        raise NotImplementedError
