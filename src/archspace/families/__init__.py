"""Network families: one description per network kind (spec, table, cost, layers, module).

``FAMILIES`` registers each family class by the ``kind`` of its specs; ``family_for(arch,
**options)`` is the family that validates, costs and builds a spec. Importing this package (and
every family's spec, table, cost and layer modules) does not import torch.
"""

from __future__ import annotations

from typing import Any

from archspace.arch import ArchSpec
from archspace.families.base import Family
from archspace.registry import Registry

FAMILIES: Registry[type[Family]] = Registry(
    "network family", modules=("archspace.families.anynet.family", "archspace.families.nb201.family",
                          "archspace.families.r3d.family", "archspace.families.attention.family",
                          "archspace.families.resized.family",
                          "archspace.families.nss.family", "archspace.families.teacher.family",
                          "archspace.families.darts.family"))


def get_family(kind: str, **options: Any) -> Family:
    """The family of spec kind ``kind`` with its options (e.g. ``channels=32`` for nb201)."""
    from archspace.errors import UsageError

    cls = FAMILIES.get(kind)
    try:
        return cls(**options)
    except TypeError as exc:
        raise UsageError(f"family {kind!r} does not take options {sorted(options)}: {exc}") from None


def family_for(arch: ArchSpec, **options: Any) -> Family:
    """The family that builds ``arch`` (by its kind), with the given family options."""
    return get_family(arch.kind, **options)


__all__ = ["FAMILIES", "Family", "family_for", "get_family"]
