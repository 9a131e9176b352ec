"""Named plug-ins with metadata: the registries of families, spaces, strategies and evaluators.

A registry maps a name to an object (a class or a factory) plus metadata (what a strategy needs
from a space, whether an evaluator trains a model, ...). Modules register their plug-ins with the
``register`` decorator when they are imported; a registry imports the modules it was told about
on first lookup, so asking for a name never depends on what the caller happened to import, and
importing the registry itself stays cheap. Registration happens only at import time.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from archspace.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """One registered plug-in: its name, the object, a one-line description and its metadata."""

    name: str
    obj: T
    description: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.metadata[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)


class Registry(Generic[T]):
    """A name -> ``Entry`` table filled by ``@registry.register(name, ...)``.

    what: the word used in error messages ("space", "strategy" ...). modules: modules that hold
    the built-in plug-ins, imported on first lookup.
    """

    def __init__(self, what: str, modules: tuple[str, ...] = ()) -> None:
        self.what = what
        self._modules = modules
        self._loaded = not modules
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, description: str = "", **metadata: Any) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name`` with ``metadata``."""
        key = _normalize(name)

        def wrap(obj: T) -> T:
            previous = self._entries.get(key)
            if previous is not None and previous.obj is not obj:
                raise ValueError(f"{self.what} {key!r} is registered twice")
            text = description or next(iter((obj.__doc__ or "").strip().splitlines()), "")
            self._entries[key] = Entry(key, obj, text, MappingProxyType(dict(metadata)))
            return obj

        return wrap

    def unregister(self, name: str) -> None:
        """Remove ``name`` (for tests and notebooks that registered a plug-in temporarily)."""
        self._entries.pop(_normalize(name), None)

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def entry(self, name: str) -> Entry[T]:
        """The entry of ``name``; a ``UsageError`` listing the known names otherwise."""
        self._load()
        key = _normalize(name) if isinstance(name, str) else name
        if key not in self._entries:
            raise UsageError(f"unknown {self.what} {name!r}; known: {', '.join(self._entries)}")
        return self._entries[key]

    def get(self, name: str) -> T:
        return self.entry(name).obj

    def names(self) -> list[str]:
        self._load()
        return list(self._entries)

    def entries(self) -> list[Entry[T]]:
        self._load()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        self._load()
        return isinstance(name, str) and _normalize(name) in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def _normalize(name: str) -> str:
    return name.strip().lower()
