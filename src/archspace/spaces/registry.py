"""Design spaces by name, and the space that knows how to cost and build a given spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.spaces.base import Space


def _anynet(letter: str) -> Callable[..., Space]:
    def make(**options: Any) -> Space:
        from archspace.spaces.anynet_space import anynet_design_space

        return anynet_design_space(letter, **options)

    return make


def _regnet(block: str) -> Callable[..., Space]:
    def make(**options: Any) -> Space:
        from archspace.spaces.regnet import RegNetSpace

        return RegNetSpace(block=block, **options)

    return make


def _nb201(**options: Any) -> Space:
    from archspace.spaces.nb201 import NB201Space

    return NB201Space(**options)


def _free_anynet() -> Space:
    from archspace.spaces.anynet_space import AnyNetSpace

    return AnyNetSpace(name="anynet")


SPACES: dict[str, Callable[..., Space]] = {
    **{f"anynetx_{letter}": _anynet(letter) for letter in "abcde"},
    "regnetx": _regnet("X"),
    "regnety": _regnet("Y"),
    "nb201": _nb201,
}


def space_names() -> list[str]:
    return list(SPACES)


def get_space(name: str, **options: Any) -> Space:
    """A fresh space object for a registered name (anynetx_a..e, regnetx, regnety, nb201).

    ``options`` go to the space's constructor, e.g. ``stem="res_stem_cifar", stem_width=16`` for
    AnyNet/RegNet models on 28x28 or 32x32 images (the paper's stem would leave a feature map below
    1x1 after four stride-2 stages), or ``ops=(...)`` to mask NAS-Bench-201 operations.
    """
    key = name.strip().lower()
    if key not in SPACES:
        raise UsageError(f"unknown space {name!r}; choose one of {', '.join(SPACES)}")
    try:
        return SPACES[key](**options)
    except TypeError as exc:
        raise UsageError(f"space {key!r} does not take options {sorted(options)}: {exc}") from None


def space_for(arch: ArchSpec) -> Space:
    """The space that validates, costs and builds ``arch`` (by its kind), with no extra constraints."""
    if arch.kind == "anynet":
        return _free_anynet()
    if arch.kind == "nb201":
        return _nb201()
    raise UsageError(f"no space builds specs of kind {arch.kind!r}")


def resolve_arch(text: str) -> ArchSpec:
    """A spec from a zoo name, a JSON document, or the path of a JSON file."""
    from pathlib import Path

    from archspace.arch import arch_from_json
    from archspace.spaces.zoo import get_model

    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return arch_from_json(stripped)
    if stripped.endswith(".json") or Path(stripped).is_file():
        path = Path(stripped)
        if not path.is_file():
            raise UsageError(f"spec file {path} does not exist")
        return arch_from_json(path.read_text())
    return get_model(stripped)
