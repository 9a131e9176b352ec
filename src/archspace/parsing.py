"""Parsing of the small text values users type: numbers with unit suffixes, ranges, name lists.

These live outside ``archspace.cli`` because workflows read the same values from YAML configs
(``flops: 1M:4M``, ``spaces: anynetx_a,regnetx``) as the CLI reads from flags. Every function
raises ``UsageError`` naming the option (``what``) on bad input.
"""

from __future__ import annotations

from collections.abc import Iterable

from archspace.errors import UsageError

_SUFFIXES = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}


def parse_number(text: str, option: str) -> float:
    """A number with an optional unit suffix k, M or G (``400M`` -> 4e8)."""
    text = text.strip()
    scale = 1.0
    if text and text[-1] in _SUFFIXES:
        scale, text = _SUFFIXES[text[-1]], text[:-1]
    try:
        return float(text) * scale
    except ValueError:
        raise UsageError(f"{option}: {text!r} is not a number") from None


def parse_range(text: str, option: str) -> tuple[float, float]:
    """``LO:HI`` with optional unit suffixes (e.g. ``360M:400M``), 0 <= LO <= HI."""
    parts = text.split(":")
    if len(parts) != 2:
        raise UsageError(f"{option} expects LO:HI (e.g. 360M:400M), got {text!r}")
    low, high = (parse_number(p, option) for p in parts)
    if not 0 <= low <= high:
        raise UsageError(f"{option} expects 0 <= LO <= HI, got {text!r}")
    return low, high


def parse_list(text: str | Iterable[str], what: str) -> tuple[str, ...]:
    """A comma-separated list (or an iterable of names): stripped, empties and repeats dropped,
    order kept. ``what`` names one item (``"design space"``): an empty list is refused with
    ``UsageError("no design space given ...")``."""
    items = text.split(",") if isinstance(text, str) else [str(item) for item in text]
    names = tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
    if not names:
        raise UsageError(f"no {what} given: expected a comma-separated list, got {text!r}")
    return names
