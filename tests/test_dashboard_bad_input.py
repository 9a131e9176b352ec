"""Bad input to the dashboard: refused at start-up with one line and exit 2, or a message page
while serving; never a traceback, never a write to the file."""

from __future__ import annotations

import hashlib
import socket
import sqlite3

import pytest
from starlette.testclient import TestClient

from archspace.cli import main
from archspace.dashboard import create_app
from archspace.study import Study
from study_support import PacedTable, make_strategy


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "studies.db"
    study = Study.create("s", path, seed=0)
    study.optimize(make_strategy("population", 8), PacedTable(0.0), 8)
    study.storage.close()
    return path


def _fingerprint(path):
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def _cli(capsys, *args):
    status = main(["dashboard", *map(str, args)])
    captured = capsys.readouterr()
    return status, captured.err.strip()


def _corrupt(tmp_path, db):
    path = tmp_path / "corrupt.db"
    data = bytearray(db.read_bytes())
    data[:100] = b"\x13" * 100  # the header: no longer an SQLite file
    path.write_bytes(bytes(data))
    return path


def test_missing_database_exits_2_before_serving(tmp_path, capsys):
    status, err = _cli(capsys, "--db", tmp_path / "missing.db", "--port", 0)
    assert status == 2 and err == f"archspace: error: no study database at {tmp_path / 'missing.db'}"
    assert not (tmp_path / "missing.db").exists()  # not created either


@pytest.mark.parametrize("kind", ["corrupt", "foreign", "empty", "directory", "text"])
def test_a_file_that_is_not_an_archspace_database_exits_2(tmp_path, capsys, db, kind):
    if kind == "corrupt":
        path = _corrupt(tmp_path, db)
    elif kind == "foreign":
        path = tmp_path / "other.db"
        with sqlite3.connect(path) as other:
            other.execute("CREATE TABLE t (x)")
        other.close()
    elif kind == "empty":
        path = tmp_path / "empty.db"
        path.touch()
    elif kind == "directory":
        path = tmp_path / "folder.db"
        path.mkdir()
    else:
        path = tmp_path / "notes.db"
        path.write_text("not a database at all\n" * 100)
    before = None if path.is_dir() else _fingerprint(path)
    status, err = _cli(capsys, "--db", path, "--port", 0)
    assert status == 2 and err.count("\n") == 0 and str(path) in err
    assert "study database" in err and "Traceback" not in err
    assert before is None or _fingerprint(path) == before


def test_a_port_in_use_is_named(db, capsys):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        status, err = _cli(capsys, "--db", db, "--port", port)
    finally:
        taken.close()
    assert status == 2 and err == f"archspace: error: port {port} on 127.0.0.1 is already in use; choose another with --port"


def test_a_missing_results_folder_exits_2(db, tmp_path, capsys):
    status, err = _cli(capsys, "--db", db, "--port", 0, "--results", tmp_path / "nowhere")
    assert status == 2 and "results folder" in err and "nowhere" in err


def test_unknown_study_trial_and_paths_are_404_pages(db):
    client = TestClient(create_app(str(db)))
    for url in ("/study/nope", "/study/nope/trial/1", "/study/s/trial/99", "/study/s/trial/x", "/nothing",
                "/compare?study=s&study=nope", "/results", "/static/secret.py"):
        page = client.get(url)
        assert page.status_code == 404, url
        assert page.headers["content-type"].startswith("text/html") and "Traceback" not in page.text
        assert "<h1>Not found</h1>" in page.text
    assert "no study named &#x27;nope&#x27;" in client.get("/study/nope").text
    assert client.get("/api/studies/nope").json() == {"error": f"no study named 'nope' in {db}"}
    assert client.get("/api/studies/s/trials/99").status_code == 404
    assert client.get("/api/studies/s/trials?after=-1").status_code == 400


def test_a_database_that_breaks_while_serving_gives_a_message_page(db, tmp_path):
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())
    client = TestClient(create_app(str(copy)))
    assert client.get("/api/studies").status_code == 200
    copy.unlink()
    page = client.get("/study/s")
    assert page.status_code == 503 and "Cannot read the study database" in page.text
    assert f"no study database at {copy}" in page.text
    assert client.get("/api/studies").json() == {"error": f"no study database at {copy}"}
    broken = _corrupt(tmp_path, db)
    broken.rename(copy)  # another file at the same path: reopened, and refused
    before = _fingerprint(copy)
    page = client.get("/")
    assert page.status_code == 503 and "is not an archspace study database" in page.text
    assert _fingerprint(copy) == before
