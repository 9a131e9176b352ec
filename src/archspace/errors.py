"""Exceptions with messages meant for users: each says what was wrong and what is allowed."""

from __future__ import annotations


class ArchspaceError(Exception):
    """Base class of every error archspace raises on purpose (the CLI turns these into exit 2)."""


class UsageError(ArchspaceError, ValueError):
    """A bad argument or option: the message names it and what is allowed."""


class InvalidArchitecture(ArchspaceError, ValueError):
    """An architecture spec that a space cannot accept.

    `field` names the offending field (e.g. ``stages[2].group_width``) and the message says what
    values are allowed.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.detail = message
        super().__init__(f"invalid architecture: {field}: {message}")


class DataError(ArchspaceError, ValueError):
    """Missing, truncated or malformed data files, or labels out of range."""


class StorageError(ArchspaceError):
    """A database that is not an archspace store, or has a schema this version cannot read."""
