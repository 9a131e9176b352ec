"""All SQL lives in the storage layer: no module of archspace outside it holds an SQL statement."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import archspace

PACKAGE = Path(archspace.__file__).parent
# The storage layer: the file format, the studies table, the trials and their ask/tell log, and
# the read-only queries of watchers (the dashboard).
STORAGE_MODULES = {"study/storage.py", "study/study_store.py", "study/trial_store.py", "study/read_store.py"}
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|CREATE|DROP|ALTER|PRAGMA|BEGIN|COMMIT|ROLLBACK)\s")


def _sql_strings(path: Path) -> list[str]:
    """String constants (f-string pieces included) that start like an SQL statement."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(node.value)]


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).as_posix() not in STORAGE_MODULES)


def test_the_detector_finds_the_storage_layers_sql() -> None:
    for name in STORAGE_MODULES:
        assert _sql_strings(PACKAGE / name), f"{name} holds no SQL: is the pattern still right?"


def test_no_sql_outside_the_storage_modules() -> None:
    found = {p.relative_to(PACKAGE).as_posix(): _sql_strings(p) for p in _modules()}
    offenders = {name: strings for name, strings in found.items() if strings}
    assert "study/study.py" in found and not offenders, offenders


def test_only_the_storage_layer_uses_sqlite() -> None:
    users = [p.relative_to(PACKAGE).as_posix() for p in _modules() if re.search(r"^\s*import sqlite3|^\s*from sqlite3",
                                                                                p.read_text(), re.M)]
    assert not users, users
