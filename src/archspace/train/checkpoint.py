"""Checkpoint files of resumable runs (supernets, one-shot searches, NSS searches): written
atomically, read back with their format tag checked, so a torn or foreign file is a one-line
``DataError`` rather than a crash mid-resume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from archspace.errors import DataError


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``state`` atomically (temporary file + rename): a crash never leaves a torn file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | os.PathLike[str], format_tag: str, what: str) -> dict[str, Any]:
    """The state saved at ``path`` (on CPU), checked to carry ``format`` == ``format_tag``;
    ``what`` names the kind of checkpoint in the error messages (e.g. "supernet")."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{what} checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is a data error for the user
        raise DataError(f"cannot read {what} checkpoint {path}: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != format_tag:
        raise DataError(f"{path} is not an archspace {what} checkpoint")
    return state
