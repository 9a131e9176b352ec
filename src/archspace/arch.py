"""Architecture specs: immutable, hashable, JSON-serializable frozen dataclasses.

Every spec class registers a ``kind`` so that a JSON document can be turned back into the right
class. Same spec -> same canonical JSON -> same hash, on every machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from typing import Any, ClassVar, TypeVar

from archspace.errors import InvalidArchitecture

_KINDS: dict[str, type[ArchSpec]] = {}

T = TypeVar("T", bound="ArchSpec")


def register_kind(cls: type[T]) -> type[T]:
    """Class decorator: make ``cls`` loadable by ``arch_from_dict`` under ``cls.kind``."""
    if not cls.kind:
        raise TypeError(f"{cls.__name__} needs a non-empty `kind`")
    _KINDS[cls.kind] = cls
    return cls


def _to_plain(value: Any) -> Any:
    """Turn dataclasses / tuples into JSON-ready dicts and lists."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


class ArchSpec:
    """Mixin for frozen-dataclass architecture specs.

    Subclasses are ``@dataclasses.dataclass(frozen=True)`` and set ``kind``; they implement
    ``_from_fields(d)`` when their fields are nested (the default handles flat fields).
    """

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with a ``kind`` key; the inverse of ``arch_from_dict``."""
        return {"kind": self.kind, **_to_plain(self)}

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, no spaces): the basis of ``spec_hash``."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def spec_hash(self) -> str:
        """Stable 16-hex-digit identity of the spec (sha256 of the canonical JSON)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Build from a plain dict (``kind`` optional); unknown fields are rejected by name."""
        data = {k: v for k, v in data.items() if k != "kind"}
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for key in data:
            if key not in names:
                raise InvalidArchitecture(key, f"unknown field; allowed fields: {sorted(names)}")
        return cls._from_fields(data)

    @classmethod
    def _from_fields(cls: type[T], data: dict[str, Any]) -> T:
        try:
            return cls(**data)
        except TypeError as exc:  # missing required fields
            raise InvalidArchitecture(cls.kind, str(exc)) from None


def arch_from_dict(data: dict[str, Any]) -> ArchSpec:
    """Rebuild any registered spec from its ``to_dict()`` form."""
    if not isinstance(data, dict):
        raise InvalidArchitecture("<spec>", f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in _KINDS:
        _load_family_specs()
    if kind not in _KINDS:
        raise InvalidArchitecture("kind", f"unknown kind {kind!r}; known kinds: {sorted(_KINDS)}")
    return _KINDS[kind].from_dict(data)


def _load_family_specs() -> None:
    """Import every registered family (and so its spec class), e.g. to read specs from a study
    file in a process that has not imported the family yet."""
    from archspace.families import FAMILIES

    FAMILIES.names()


class _NonFinite:
    """Stands in for a JSON number that is not finite (``NaN``, ``Infinity``, ``1e999``).

    Python's json module accepts these by default; a spec must not, so the parse hooks put this
    marker where such a number was and ``_find_non_finite`` reports the field it sits in.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _parse_float(text: str) -> float | _NonFinite:
    """``float(text)``, or a marker when the literal overflows to infinity (e.g. ``1e999``)."""
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def _find_non_finite(value: Any, path: str) -> tuple[str, str] | None:
    """``(field path, literal)`` of the first non-finite number in parsed JSON, else ``None``."""
    if isinstance(value, _NonFinite):
        return path, value.text
    if isinstance(value, dict):
        items = ((f"{path}.{key}" if path else str(key), item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for item_path, item in items:
        found = _find_non_finite(item, item_path)
        if found is not None:
            return found
    return None


def arch_from_json(text: str) -> ArchSpec:
    """Parse a JSON spec; syntax errors become ``InvalidArchitecture`` naming the position.

    ``NaN``, ``Infinity``, ``-Infinity`` and numbers too large for a float (``1e999``) are
    rejected naming the field: no spec field takes a non-finite number, and letting one through
    would only fail later, deep inside a cost computation.
    """
    try:
        data = json.loads(text, parse_constant=_NonFinite, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise InvalidArchitecture("<json>", f"JSON syntax error at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    found = _find_non_finite(data, "")
    if found is not None:
        field, literal = found
        raise InvalidArchitecture(field or "<json>", f"{literal} is not a finite number; specs take finite numbers only")
    return arch_from_dict(data)
