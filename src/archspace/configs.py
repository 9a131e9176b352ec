"""Configurations derived from constructor signatures, and the one "stored config must match" check.

``init_config(obj)`` reads every parameter of ``type(obj).__init__`` back from the attribute of
the same name, so a strategy's or evaluator's stored configuration can never silently drop an
argument (a parameter without its attribute is an error, caught by the contract checks).
``check_same_config`` is what every resumable workflow (studies, the design study, the ranking
study, ``study run``) uses to refuse a resume under different settings.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Iterable, Mapping
from typing import Any

from archspace.errors import UsageError


def to_plain(value: Any) -> Any:
    """JSON-ready form: dataclasses and objects with ``to_dict`` become dicts, tuples lists,
    numpy scalars/arrays Python values; non-finite floats become None."""
    if hasattr(value, "to_dict") and callable(value.to_dict) and not isinstance(value, type):
        return to_plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [to_plain(v) for v in items]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if hasattr(value, "tolist"):
        return to_plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def init_parameters(cls: type, exclude: Iterable[str] = ()) -> list[str]:
    """Names of the explicit parameters of ``cls.__init__`` (no self, *args, **kwargs).

    An ``__init__`` that takes ``**kwargs`` forwards them to its base class, whose parameters
    are then included too.
    """
    skip = {"self", *exclude}
    names: list[str] = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass) or klass is object:
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        names += [p.name for p in params if p.name not in skip and p.name not in names
                  and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return names


def init_config(obj: Any, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """``{parameter: to_plain(getattr(obj, parameter))}`` over ``type(obj).__init__``'s parameters."""
    out: dict[str, Any] = {}
    for name in init_parameters(type(obj), exclude):
        if not hasattr(obj, name):
            raise TypeError(f"{type(obj).__name__}.__init__ takes {name!r} but the object keeps no attribute "
                            f"of that name, so its configuration cannot be stored")
        out[name] = to_plain(getattr(obj, name))
    return out


def check_same_config(stored: Mapping[str, Any], wanted: Mapping[str, Any], what: str,
                      may_change: Iterable[str] = ()) -> None:
    """Refuse to resume ``what`` when a setting other than ``may_change`` differs from the stored one."""
    free = set(may_change)
    stored_plain, wanted_plain = to_plain(dict(stored)), to_plain(dict(wanted))
    changed = sorted(k for k in set(stored_plain) | set(wanted_plain)
                     if k not in free and stored_plain.get(k) != wanted_plain.get(k))
    if changed:
        details = "; ".join(f"{k}: stored {stored_plain.get(k)!r}, given {wanted_plain.get(k)!r}" for k in changed)
        raise UsageError(f"{what} was created with different settings ({details}); "
                         "use the stored settings or a new name")
