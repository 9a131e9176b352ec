"""Design spaces by name: ``SPACES`` (a registry filled by ``@SPACES.register``) and ``get_space``.

Each registered entry is a space class or factory with a description and its ``family`` (the spec
kind); a space declares its optional methods in ``Space.capabilities``. ``get_space(name,
**options)`` builds one;
``space.options()`` gives back the options, so ``get_space(space.name, **space.options())``
rebuilds a space that builds every spec into exactly the same network.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archspace.arch import ArchSpec, arch_from_json
from archspace.errors import UsageError
from archspace.registry import Registry
from archspace.spaces.base import Space

SPACES: Registry[Any] = Registry(
    "space", modules=("archspace.spaces.anynet", "archspace.spaces.regnet", "archspace.spaces.nb201",
                      "archspace.spaces.darts", "archspace.spaces.teacher",
                      "archspace.spaces.attention", "archspace.spaces.nss"))


def space_names() -> list[str]:
    return SPACES.names()


def get_space(name: str, **options: Any) -> Space:
    """A fresh space object for a registered name (anynetx_a..e, regnetx, regnety, nb201, ...).

    ``options`` go to the space's constructor, e.g. ``stem="res_stem_cifar", stem_width=16`` for
    AnyNet/RegNet models on 28x28 or 32x32 images (the paper's stem would leave a feature map below
    1x1 after four stride-2 stages), or ``ops=(...)`` to mask NAS-Bench-201 operations.
    ``name:argument`` passes ``argument`` as the first positional argument of the registered
    factory: ``nss:<space-id>`` is one network space of the NSS expanded space.
    """
    base, sep, argument = name.partition(":")
    entry = SPACES.entry(base if sep else name)
    try:
        return entry.obj(argument, **options) if sep else entry.obj(**options)
    except TypeError as exc:
        raise UsageError(f"space {entry.name!r} does not take options {sorted(options)}: {exc}") from None


def space_config(space: Space) -> dict[str, Any]:
    """``{"name": ..., "options": {...}}``: what ``space_from_config`` rebuilds the space from."""
    return {"name": space.name, "options": space.options()}


def space_from_config(config: dict[str, Any]) -> Space:
    if not isinstance(config, dict) or "name" not in config:
        raise UsageError(f"a space config is {{'name': ..., 'options': {{...}}}}, got {config!r}")
    return get_space(config["name"], **dict(config.get("options") or {}))


def resolve_arch(text: str) -> ArchSpec:
    """A spec from a zoo name, a JSON document, or the path of a JSON file."""
    from archspace.spaces.zoo import get_model

    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return arch_from_json(_spec_of_sample_line(stripped))
    if stripped.endswith((".json", ".jsonl")) or Path(stripped).is_file():
        path = Path(stripped)
        if not path.is_file():
            raise UsageError(f"spec file {path} does not exist")
        try:
            content = path.read_text(encoding="utf-8").strip()
        except UnicodeDecodeError as exc:
            raise UsageError(f"spec file {path} is not UTF-8 text (byte {exc.start})") from None
        if not content:
            raise UsageError(f"spec file {path} is empty")
        return arch_from_json(_spec_of_sample_line(content))
    return get_model(stripped)


def _spec_of_sample_line(text: str) -> str:
    """A line of ``archspace sample`` output carries the spec under ``"arch"``: use that."""
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return text  # arch_from_json reports the syntax error with its position
    if isinstance(data, dict) and "kind" not in data and isinstance(data.get("arch"), dict):
        return json.dumps(data["arch"])
    return text
