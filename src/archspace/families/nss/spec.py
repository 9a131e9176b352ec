"""NSS expanded-space specs: per-stage depths and widths of a 3-stage residual network.

A spec is ``NSSArch(depths=(d1, d2, d3), widths=(w1, w2, w3))``; everything else about the
network (stem, block, strides, head) is fixed by the expanded space's table
(``archspace.families.nss.table``). Validation (bounds d_i <= 16, w_i <= 512) is here, torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archspace.arch import ArchSpec, register_kind
from archspace.errors import InvalidArchitecture
from archspace.families.nss.table import EXPANDED


def _int_tuple(value: Any, field: str) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise InvalidArchitecture(field, f"must be a list of {EXPANDED.num_stages} integers, got {value!r}")


@register_kind
@dataclass(frozen=True)
class NSSArch(ArchSpec):
    """One network of the expanded space: ``depths[i]`` basic residual blocks of width ``widths[i]``."""

    kind = "nss"
    depths: tuple[int, ...]
    widths: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "depths", _int_tuple(self.depths, "depths"))
        object.__setattr__(self, "widths", _int_tuple(self.widths, "widths"))

    @property
    def depth(self) -> int:
        return sum(self.depths)


def _check_int(value: Any, field: str, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArchitecture(field, f"must be an integer, got {value!r}")
    if not 1 <= value <= high:
        raise InvalidArchitecture(field, f"must be in [1, {high}] (the expanded space), got {value}")


def validate_nss(arch: NSSArch) -> NSSArch:
    """``arch`` when every depth is in [1, 16] and every width in [1, 512]; else name the field."""
    n = EXPANDED.num_stages
    for name, values, high in (("depths", arch.depths, EXPANDED.max_depth), ("widths", arch.widths, EXPANDED.max_width)):
        if len(values) != n:
            raise InvalidArchitecture(name, f"must have {n} entries (one per stage), got {len(values)}")
        for index, value in enumerate(values):
            _check_int(value, f"{name}[{index}]", high)
    return arch
