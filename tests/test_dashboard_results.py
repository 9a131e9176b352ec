"""Results folders (``--results DIR``): real ``archspace bench nb201`` output and a one-shot-style
alpha trajectory, found and turned into tables and line series; paths stay inside the folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from archspace.dashboard import create_app
from archspace.study import Study
from study_support import PacedTable, make_strategy

BENCH_RESULTS = Path(__file__).resolve().parents[1] / "docs" / "nb201-search" / "summary.json"


@pytest.fixture()
def client(tmp_path):
    db = tmp_path / "studies.db"
    study = Study.create("s", db, seed=0)
    study.optimize(make_strategy("population", 4), PacedTable(0.0), 4)
    study.storage.close()
    results = tmp_path / "results"
    (results / "nb201").mkdir(parents=True)
    shutil.copy(BENCH_RESULTS, results / "nb201" / "summary.json")
    rng = np.random.default_rng(0)
    alphas = rng.dirichlet(np.ones(5), size=(30, 6)).tolist()  # 30 steps x 6 edges x 5 ops
    (results / "oneshot.json").write_text(json.dumps({"method": "darts", "alphas": alphas, "loss": list(range(30))}))
    history = [{"epoch": e, "train_loss": 2.0 / (e + 1), "arch": {"cell": rng.normal(size=(6, 5)).tolist()},
                "note": "x"} for e in range(4)]  # the shape of a one-shot run's per-epoch history
    (results / "run.json").write_text(json.dumps({"config": {"seed": 0}, "history": history}))
    (results / "runs.csv").write_text("step,error,note\n1,9.5,a\n2,8.25,b\n3,,c\n")
    (results / "runs.jsonl").write_text('{"run": 0, "best": 91.2}\n{"run": 1, "best": 91.4}\n')
    (results / ".hidden.json").write_text("{}")
    (tmp_path / "outside.json").write_text("{}")
    return TestClient(create_app(str(db), str(results)))


def test_result_files_are_listed(client):
    files = client.get("/api/results").json()["files"]
    assert [f["path"] for f in files] == ["nb201/summary.json", "oneshot.json", "run.json", "runs.csv", "runs.jsonl"]
    assert client.get("/results").status_code == 200


def test_bench_curves_and_alpha_trajectories_become_line_series(client):
    summary = json.loads(BENCH_RESULTS.read_text())
    answer = client.get("/api/results/file", params={"path": "nb201/summary.json"}).json()
    series = {s["name"]: s for s in answer["series"]}
    curve = series["algorithms.rs.curve.best_so_far_search.mean"]["lines"][0]["y"]
    assert curve == summary["algorithms"]["rs"]["curve"]["best_so_far_search"]["mean"]
    assert len(curve) == summary["config"]["budget"]
    oneshot = client.get("/api/results/file", params={"path": "oneshot.json"}).json()
    alphas = next(s for s in oneshot["series"] if s["name"] == "alphas")
    assert len(alphas["lines"]) == 30 and all(len(line["y"]) == 30 for line in alphas["lines"])  # 6 x 5 lines
    assert alphas["lines"][7]["name"] == "[1,2]"  # edge 1, op 2
    assert {s["name"] for s in oneshot["series"]} == {"alphas", "loss"}
    assert client.get("/results/view", params={"path": "oneshot.json"}).status_code == 200
    run = client.get("/api/results/file", params={"path": "run.json"}).json()
    series = {s["name"]: s["lines"] for s in run["series"]}
    assert set(series) == {"history[*].epoch", "history[*].train_loss", "history[*].arch.cell"}
    cell = series["history[*].arch.cell"]  # one trajectory over the 4 epochs per edge x op alpha
    assert len(cell) == 30 and cell[7]["name"] == "[1,2]"
    assert cell[7]["y"] == [r["arch"]["cell"][1][2] for r in json.loads((client.app.state.dashboard.results
                                                                          / "run.json").read_text())["history"]]


def test_tables_keep_their_rows_and_missing_values(client):
    csv = client.get("/api/results/file", params={"path": "runs.csv"}).json()
    assert csv["columns"] == ["step", "error", "note"] and csv["rows"][2] == [3, None, "c"]
    assert [s["name"] for s in csv["series"]] == ["step", "error"]
    jsonl = client.get("/api/results/file", params={"path": "runs.jsonl"}).json()
    assert jsonl["rows"] == [[0, 91.2], [1, 91.4]]


@pytest.mark.parametrize("path", ["../outside.json", "/etc/passwd", "nope.json", ".hidden.json/x", "runs.txt"])
def test_paths_outside_or_missing_are_404(client, path):
    assert client.get("/api/results/file", params={"path": path}).status_code == 404
    assert client.get("/results/view", params={"path": path}).status_code == 404
