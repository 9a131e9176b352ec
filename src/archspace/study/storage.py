"""SQLite storage for studies: one file, WAL mode, a recorded schema version, migrations.

Layout (schema version 1):

- ``meta(key, value)``: ``application = 'archspace'`` and ``schema_version``. A file without them
  is not an archspace store and is refused; a newer ``schema_version`` is refused with a message
  naming both versions; an older one is upgraded by the functions in ``MIGRATIONS``.
- ``studies``: one row per named study (seed, JSON config, stored evaluator spec, the lease of the
  driver process currently running it).
- ``trials``: one row per trial: ``number`` (0, 1, ... within the study), ``state``, architecture
  JSON and hash, evaluation seed, objective, metrics / cost / info JSON, the per-example prediction
  file (relative to the database's directory), timings, worker name, error text, attempt count.
- ``events``: the study's ask/tell log in order. ``ask`` events name the trial created by the ask;
  ``tell`` events carry the result the strategy was told (JSON), so a strategy can be rebuilt
  exactly by replaying the log even after failed trials are retried.

Concurrency: the driver of a study is the only writer of that study's rows. WAL mode lets any number
of readers (another process, the analysis code) read a consistent snapshot while the driver writes;
every state change is one transaction, so a reader never sees a half-recorded trial. Connections
wait (``busy_timeout``) instead of failing with "database is locked". ``synchronous = NORMAL``:
a killed process loses nothing that was committed; a power cut may lose the last few commits but
never corrupts the file.

Open a store with ``Storage.open(path_or_url)``; both ``runs/studies.db`` and
``sqlite:///runs/studies.db`` work.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from archspace.errors import StorageError

APPLICATION = "archspace"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 60_000

_SCHEMA_V1 = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS studies (
    study_id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    seed INTEGER NOT NULL,
    config_json TEXT NOT NULL DEFAULT '{}',
    strategy_json TEXT,
    evaluator_json TEXT,
    n_trials INTEGER,
    driver TEXT,
    driver_heartbeat REAL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN
        ('waiting', 'running', 'complete', 'failed', 'diverged', 'interrupted')),
    arch_json TEXT NOT NULL,
    arch_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    objective REAL,
    metrics_json TEXT,
    cost_json TEXT,
    info_json TEXT,
    predictions_path TEXT,
    error TEXT,
    worker TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    duration_s REAL,
    UNIQUE (study_id, number)
);
CREATE INDEX IF NOT EXISTS trials_by_state ON trials (study_id, state);
CREATE INDEX IF NOT EXISTS trials_by_hash ON trials (study_id, arch_hash);
CREATE INDEX IF NOT EXISTS trials_by_objective ON trials (study_id, state, objective);
CREATE TABLE IF NOT EXISTS events (
    event_id INTEGER PRIMARY KEY AUTOINCREMENT,
    study_id INTEGER NOT NULL REFERENCES studies(study_id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('ask', 'tell')),
    trial_number INTEGER NOT NULL,
    payload_json TEXT
);
CREATE INDEX IF NOT EXISTS events_by_study ON events (study_id, event_id);
"""

# MIGRATIONS[v] upgrades a store from schema version v to v + 1, inside one transaction.
Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: dict[int, Migration] = {}


def path_from_url(url: str | os.PathLike[str]) -> Path:
    """``sqlite:///relative.db``, ``sqlite:////abs/path.db`` or a plain path -> Path."""
    text = os.fspath(url)
    if text.startswith("sqlite:"):
        if not text.startswith("sqlite:///"):
            raise StorageError(f"storage URL must look like sqlite:///path/to/file.db, got {text!r}")
        text = text[len("sqlite:///"):]
    elif "://" in text:
        raise StorageError(f"unsupported storage URL {text!r}: only sqlite:///FILE or a file path")
    if not text or text == ":memory:":
        raise StorageError("a study store needs a file path (in-memory databases cannot be shared)")
    return Path(text)


class Storage:
    """An open archspace SQLite store (one connection, used by one thread)."""

    def __init__(self, path: Path, connection: sqlite3.Connection) -> None:
        self.path = path
        self.connection = connection

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | os.PathLike[str], create: bool = True) -> Storage:
        """Open (and, with ``create``, initialize) the store at a path or sqlite:/// URL."""
        path = path_from_url(url)
        if not path.exists() and not create:
            raise StorageError(f"no study database at {path}")
        if path.is_dir():
            raise StorageError(f"{path} is a directory, not a study database")
        if not path.exists():
            _create_atomically(path)
        connection = _connect(path)
        store = cls(path, connection)
        try:
            store._prepare(create)
        except BaseException:
            connection.close()
            raise
        return store

    def _prepare(self, create: bool) -> None:
        version = self._read_version()
        if version is None:
            if not create:
                raise StorageError(f"{self.path} is an empty file, not an archspace study database")
            self._initialize()
            return
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path} has schema version {version}, newer than this archspace "
                f"(reads up to {SCHEMA_VERSION}); upgrade archspace"
            )
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _read_version(self) -> int | None:
        """Schema version of an archspace store, None for an empty file; refuse anything else."""
        try:
            tables = {r[0] for r in self.connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"{self.path} is not an archspace study database ({exc})") from None
        if not tables:
            return None
        if "meta" not in tables:
            raise StorageError(f"{self.path} is an SQLite database but not an archspace study database")
        rows = dict(self.connection.execute("SELECT key, value FROM meta").fetchall())
        if rows.get("application") != APPLICATION or "schema_version" not in rows:
            raise StorageError(f"{self.path} is an SQLite database but not an archspace study database")
        try:
            return int(rows["schema_version"])
        except ValueError:
            raise StorageError(f"{self.path}: unreadable schema version {rows['schema_version']!r}") from None

    def _initialize(self) -> None:
        self.connection.execute("PRAGMA journal_mode = WAL")
        with self.transaction() as db:
            # Another process may have initialized the file since we looked.
            if db.execute("SELECT name FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
                for statement in _SCHEMA_V1.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO meta VALUES ('application', ?)", (APPLICATION,))
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def _migrate(self, version: int) -> None:
        with self.transaction() as db:
            current = int(db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
            while current < SCHEMA_VERSION:
                if current not in MIGRATIONS:
                    raise StorageError(f"{self.path}: no migration from schema version {current}")
                MIGRATIONS[current](db)
                current += 1
                db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(current),))

    # --- use -------------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error): one atomic state change."""
        db = self.connection
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def query(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        """Rows of a read-only query (one consistent snapshot)."""
        return self.connection.execute(sql, params).fetchall()

    @property
    def journal_mode(self) -> str:
        return str(self.connection.execute("PRAGMA journal_mode").fetchone()[0])

    @property
    def schema_version(self) -> int:
        return int(self.connection.execute(
            "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])

    @property
    def artifacts_dir(self) -> Path:
        """Directory for per-example prediction files: ``<db file name>.predictions`` beside it."""
        return self.path.with_name(self.path.name + ".predictions")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (see Storage.transaction).
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("PRAGMA foreign_keys = ON")
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path} is not an archspace study database ({exc})") from None
    return connection


def _create_atomically(path: Path) -> None:
    """Build an initialized store beside ``path`` and link it into place, so that a process that
    opens the path at any moment sees either no file or a complete archspace store."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.creating")
    try:
        connection = _connect(partial)
        Storage(partial, connection)._initialize()
        connection.close()  # checkpoints and removes the -wal / -shm files
        # Fails if another process created the store first, which is just as good.
        with contextlib.suppress(FileExistsError):
            os.link(partial, path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)


def open_storage(storage: Storage | str | os.PathLike[str], create: bool = True) -> Storage:
    """Accept an open ``Storage`` or a path / sqlite:/// URL."""
    if isinstance(storage, Storage):
        return storage
    return Storage.open(storage, create=create)
