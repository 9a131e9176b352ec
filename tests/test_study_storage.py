"""SQLite storage: schema, WAL, URLs, refusing foreign or newer files, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archspace.errors import StorageError
from archspace.spaces.nb201 import NB201Space
from archspace.study import SCHEMA_VERSION, Storage, Study
from archspace.study import storage as storage_module

SUPPORT = str(Path(__file__).with_name("study_support.py"))


def test_new_store_is_wal_with_version_and_indexes(tmp_path):
    store = Storage.open(tmp_path / "s.db")
    assert store.journal_mode == "wal"
    assert store.schema_version == SCHEMA_VERSION
    indexes = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"trials_by_state", "trials_by_hash", "trials_by_objective", "events_by_study"} <= indexes
    assert store.artifacts_dir == tmp_path / "s.db.predictions"


def test_url_and_path_open_the_same_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Study.create("x", "sqlite:///rel.db")
    assert [s.name for s in Study.list(tmp_path / "rel.db")] == ["x"]
    assert [s.name for s in Study.list(f"sqlite:///{tmp_path / 'rel.db'}")] == ["x"]
    with pytest.raises(StorageError, match="sqlite:///"):
        Storage.open("sqlite://host/x.db")
    with pytest.raises(StorageError, match="only sqlite"):
        Storage.open("postgresql://u@h/db")


def test_foreign_files_are_refused(tmp_path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE people (name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="not an archspace study database"):
        Storage.open(other)
    text = tmp_path / "notes.db"
    text.write_text("this is not sqlite at all, just some text " * 100)
    with pytest.raises(StorageError, match="not an archspace study database"):
        Storage.open(text)
    with pytest.raises(StorageError, match="no study database"):
        Study.load("x", tmp_path / "missing.db")


def test_newer_schema_is_refused_and_older_is_migrated(tmp_path, monkeypatch):
    path = tmp_path / "s.db"
    Storage.open(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 1}, newer"):
        Storage.open(path)

    # An older file is upgraded through the MIGRATIONS hook, in one transaction.
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION - 1),))
    con.commit()
    con.close()
    applied = []

    def add_column(db):
        applied.append(True)
        db.execute("ALTER TABLE studies ADD COLUMN note TEXT")

    monkeypatch.setitem(storage_module.MIGRATIONS, SCHEMA_VERSION - 1, add_column)
    store = Storage.open(path)
    assert applied == [True] and store.schema_version == SCHEMA_VERSION
    assert "note" in {r[1] for r in store.query("PRAGMA table_info(studies)")}


def _run_support(db, name, n, strategy="population", executor="inline", pace=0.0):
    return subprocess.Popen([sys.executable, SUPPORT, str(db), name, str(n), strategy, executor, str(pace)])


def test_two_studies_in_one_file_run_concurrently_without_interference(tmp_path):
    shared = tmp_path / "shared.db"
    procs = [_run_support(shared, "a", 300, "evolution"), _run_support(shared, "b", 300, "population")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    alone = tmp_path / "alone.db"
    assert _run_support(alone, "a", 300, "evolution").wait(timeout=120) == 0
    a, b = Study.load("a", shared), Study.load("b", shared)
    assert a.counts()["complete"] == 300 and b.counts()["complete"] == 300
    assert list(a.trials_dataframe()["arch_hash"]) == list(Study.load("a", alone).trials_dataframe()["arch_hash"])
    population = [c.spec_hash() for c in NB201Space().sample_distinct(300, 0)]
    assert list(b.trials_dataframe()["arch_hash"]) == population


def test_concurrent_reader_never_sees_locked_or_partial_state(tmp_path):
    db = tmp_path / "s.db"
    Study.create("live", db)
    writer = _run_support(db, "live", 800, "population")
    reads, last_complete = 0, 0
    try:
        while writer.poll() is None:
            study = Study.load("live", db)  # a fresh connection each time, like another process
            frame = study.trials_dataframe()
            complete = frame[frame["state"] == "complete"]
            assert list(frame["number"]) == list(range(len(frame)))  # no gaps, no duplicates
            assert complete["objective"].notna().all()
            assert complete["duration_s"].notna().all()
            assert (frame["state"] == "running").sum() <= 1  # inline: at most one trial running
            assert len(complete) >= last_complete
            last_complete = len(complete)
            study.storage.close()
            reads += 1
            time.sleep(0.01)
    finally:
        writer.wait(timeout=120)
    assert writer.returncode == 0
    assert reads >= 5
    assert Study.load("live", db).counts()["complete"] == 800
