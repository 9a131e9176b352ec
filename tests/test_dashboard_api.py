"""The dashboard's JSON API over real studies (NB201 table lookups, analytic RegNet costs).

Checked against the Study API and the analysis functions on the same data: counts, best trials,
``?after=`` paging (exactly the new trials, each once, also while another process writes the
study and after failed trials are retried), the EDF / front / best-so-far charts, trial pages,
a driver killed with ``kill -9`` shown as dead, and a file left byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from archspace.analysis.edf import error_edf
from archspace.analysis.widths import model_statistics
from archspace.dashboard import create_app
from archspace.dashboard.charts import EDF_POINTS
from archspace.evaluation import Result
from archspace.evaluators.complexity import ComplexityEvaluator
from archspace.search.population import PopulationStrategy
from archspace.search.random_search import RandomSearch
from archspace.spaces.nb201 import NB201Space
from archspace.spaces.registry import get_space
from archspace.study import Study
from study_support import PacedTable, TroubledTable, make_strategy, try_load

SUPPORT = str(Path(__file__).with_name("study_support.py"))


@dataclass
class RecordedCurve:
    """NB201 lookups that also record a per-epoch history, the way the trainer does in ``info``."""

    def evaluate(self, arch, seed: int) -> Result:
        result = PacedTable(0.0).evaluate(arch, seed)
        final = result.objective
        result.info["history"] = [{"epoch": e, "train_loss": 2.0 / e, "train_error": final + 20 / e,
                                   "val_error": final + 10 / e, "lr": 0.1, "seconds": 0.5} for e in (1, 2, 3)]
        return result


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """Two finished studies: 40 NB201 cells (some failed, some diverged) and 30 RegNetX costs."""
    path = tmp_path_factory.mktemp("dashboard") / "studies.db"
    cells = Study.create("cells", path, seed=0, config={"space": "nb201"})
    cells.optimize(PopulationStrategy(NB201Space(), 40, seed=0), TroubledTable(), 40)
    regnet = Study.create("regnet", path, seed=1, config={"space": "regnetx"})
    regnet.optimize(RandomSearch(get_space("regnetx"), seed=1),
                    ComplexityEvaluator("regnetx", resolution=32, num_classes=10), 30)
    cells.storage.close()
    regnet.storage.close()
    return path


@pytest.fixture()
def client(db: Path) -> TestClient:
    return TestClient(create_app(str(db)))


def _get(client: TestClient, url: str, status: int = 200) -> dict:
    response = client.get(url)
    assert response.status_code == status, response.text
    return response.json()


def _finished(study: Study) -> dict[int, float | None]:
    return {t.number: t.objective for t in study.trials(("complete", "failed", "diverged"))}


def test_study_list_matches_the_study_api(client, db):
    listed = {s["name"]: s for s in _get(client, "/api/studies")["studies"]}
    assert sorted(listed) == ["cells", "regnet"]
    for name, shown in listed.items():
        study = Study.load(name, db)
        best = study.best_trial()
        assert shown["counts"] == study.counts()
        assert (shown["best_objective"], shown["best_number"]) == (best.objective, best.number)
        assert shown["status"] == "finished" and shown["finished"] == shown["n_trials"]
        assert shown["last_activity"] >= max(t.finished_at for t in study.trials())
    cells = listed["cells"]
    assert cells["counts"]["failed"] > 0 and cells["counts"]["diverged"] > 0  # TroubledTable's doing
    assert (cells["space"], listed["regnet"]["space"]) == ("nb201", "regnetx")
    assert cells["evaluator"] == "TroubledTable" and listed["regnet"]["evaluator"].startswith("ComplexityEvaluator(")


def test_after_cursor_returns_exactly_the_later_trials(client, db):
    everything = _get(client, "/api/studies/cells/trials?after=0")
    rows = everything["trials"]
    assert {r["number"]: r["objective"] for r in rows} == _finished(Study.load("cells", db))
    cursors = [r["cursor"] for r in rows]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(rows) and everything["cursor"] == cursors[-1]
    for k in (0, 7, len(rows) - 2):
        later = _get(client, f"/api/studies/cells/trials?after={cursors[k]}")["trials"]
        assert [r["number"] for r in later] == [r["number"] for r in rows[k + 1:]]
    assert _get(client, f"/api/studies/cells/trials?after={everything['cursor']}")["trials"] == []
    failed = [r for r in rows if r["state"] == "failed"]
    assert failed and all("has no input edge" in r["error"] for r in failed)  # the exception line, not the traceback


def test_charts_are_the_analysis_functions_on_the_complete_trials(client, db):
    charts = _get(client, "/api/studies/regnet/charts")
    trials = Study.load("regnet", db).trials(("complete",))
    errors = np.array([t.objective for t in trials])
    assert charts["edf"] == json.loads(json.dumps(error_edf(errors, points=EDF_POINTS).to_dict()))
    assert charts["costs"] == ["flops", "params", "acts"]
    # the front by brute force: no other trial at most as costly and as wrong, one strictly
    flops = np.array([t.cost["flops"] for t in trials])
    on_front = {trials[i].number for i in range(len(trials))
                if not np.any((flops <= flops[i]) & (errors <= errors[i]) & ((flops < flops[i]) | (errors < errors[i])))}
    assert set(charts["fronts"]["flops"]["number"]) == on_front
    assert charts["fronts"]["flops"]["x"] == sorted(charts["fronts"]["flops"]["x"])
    best = charts["best_so_far"]
    assert best["y"][-1] == errors.min() and best["x"][-1] == 30 and best["y"] == sorted(best["y"], reverse=True)
    assert charts["edf_normalized"]["n"] == 30 and charts["edf_normalized"]["by"] == "flops"
    stats = {s["name"]: s for s in charts["statistics"]}
    assert {"depth", "w1", "d1"} <= set(stats) and "w4" in stats["w_last"]["same"]
    specs = [model_statistics(t.arch, with_fit=False) for t in trials]
    for shown in stats.values():  # a statistic left out is equal to the one it is listed under
        assert all(spec[twin] == spec[shown["name"]] for twin in shown["same"] for spec in specs)
    assert sum(box["n"] for box in stats["depth"]["boxes"]) == 30
    order = list(stats)
    assert order.index("depth") < order.index("d1") < order.index("d2") < order.index("w1")  # model, then stages


def test_cell_statistics_are_ops_per_edge_and_op_counts(client, db):
    charts = _get(client, "/api/studies/cells/charts")
    stats = {s["name"]: s for s in charts["statistics"]}
    complete = Study.load("cells", db).trials(("complete",))
    edge = stats["edge 1<-0"]
    assert edge["kind"] == "category"
    # cells whose first edge is none fail and avg_pool cells diverge, so neither is among the complete
    assert {b["label"] for b in edge["boxes"]} == {t.arch.ops[0] for t in complete} - {"none", "avg_pool_3x3"}
    counts = stats["count nor_conv_3x3"]["boxes"]
    expected = {str(k): sum(t.arch.ops.count("nor_conv_3x3") == k for t in complete) for k in range(7)}
    assert {b["label"]: b["n"] for b in counts} == {k: v for k, v in expected.items() if v}
    assert "edf_normalized" not in charts  # the NB201 table records params, no flops


def test_trial_detail_has_spec_cost_and_the_full_error(client, db):
    study = Study.load("cells", db)
    failed = study.trials(("failed",))[0]
    detail = _get(client, f"/api/studies/cells/trials/{failed.number}")
    assert detail["state"] == "failed" and detail["error"] == failed.error and "Traceback" in detail["error"]
    assert detail["spec"] == {"kind": "nb201", "ops": list(failed.arch.ops)}
    done = study.trials(("complete",))[0]
    detail = _get(client, f"/api/studies/cells/trials/{done.number}")
    assert detail["cost"] == done.cost and detail["metrics"] == done.metrics and detail["complexity"] is None
    assert detail["statistics"]["edge 1<-0"] == done.arch.ops[0]
    assert client.get(f"/study/cells/trial/{done.number}").status_code == 200


def test_compare_overlays_edfs_on_one_grid_and_fronts(client):
    answer = _get(client, "/api/compare?study=cells&study=regnet")
    assert answer["with_trials"] == ["cells", "regnet"]
    assert answer["edf"]["cells"]["grid"] == answer["edf"]["regnet"]["grid"]
    assert answer["costs"] == ["params"]  # the only cost both record
    assert set(answer["fronts"]["params"]) == {"cells", "regnet"}
    assert _get(client, "/api/compare?study=cells&study=nope", 404)["error"].startswith("no study named 'nope'")


def test_reading_writes_nothing(db):
    before = (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns)
    client = TestClient(create_app(str(db)))
    for url in ("/", "/study/cells", "/study/regnet/trial/3", "/compare?study=cells&study=regnet",
                "/api/studies", "/api/studies/cells", "/api/studies/cells/trials?after=0",
                "/api/studies/cells/charts", "/api/studies/regnet/charts", "/api/studies/cells/trials/5",
                "/api/compare?study=cells&study=regnet"):
        assert client.get(url).status_code == 200, url
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before
    wal = db.with_name(db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # a WAL reader may map the index, never log a change


def test_after_while_another_process_writes_the_study(tmp_path):
    db = tmp_path / "live.db"
    n = 30
    writer = subprocess.Popen([sys.executable, SUPPORT, str(db), "s", str(n), "population", "inline", "0.03"])
    try:
        while try_load(db) is None:
            assert writer.poll() is None, "the writer died"
            time.sleep(0.05)
        client = TestClient(create_app(str(db)))
        cursor, seen, batches = 0, [], 0
        while True:
            answer = _get(client, f"/api/studies/s/trials?after={cursor}")
            assert all(r["cursor"] > cursor for r in answer["trials"])
            seen += [r["number"] for r in answer["trials"]]
            batches += bool(answer["trials"])
            cursor = answer["cursor"]
            if answer["status"] == "finished" and answer["finished"] == len(seen):
                break
            assert answer["status"] == "running" or writer.poll() is None or answer["finished"] > len(seen)
            time.sleep(0.02)
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
        writer.wait()
    assert sorted(seen) == list(range(n))  # every trial exactly once
    assert batches >= 3  # it really arrived in pieces, while the writer ran
    assert _get(client, f"/api/studies/s/trials?after={cursor}")["trials"] == []
    stored = _finished(Study.load("s", db))
    assert {r["number"]: r["objective"] for r in _get(client, "/api/studies/s/trials?after=0")["trials"]} == stored


def test_retried_trials_come_again_once_with_their_new_state(tmp_path):
    db = tmp_path / "retry.db"
    study = Study.create("s", db, seed=0)
    study.optimize(make_strategy("population", 20), TroubledTable(), 20)
    client = TestClient(create_app(str(db)))
    first = _get(client, "/api/studies/s/trials?after=0")
    failed = sorted(r["number"] for r in first["trials"] if r["state"] == "failed")
    assert failed
    assert study.retry_failed() == failed
    waiting = _get(client, f"/api/studies/s/trials?after={first['cursor']}")
    assert waiting["trials"] == [] and sorted(r["number"] for r in waiting["open"]) == failed
    study.optimize(make_strategy("population", 20), PacedTable(0.0), 20)
    again = _get(client, f"/api/studies/s/trials?after={first['cursor']}")
    assert sorted(r["number"] for r in again["trials"]) == failed and {r["state"] for r in again["trials"]} == {"complete"}
    everything = _get(client, "/api/studies/s/trials?after=0")["trials"]
    assert sorted(r["number"] for r in everything) == list(range(20))  # each once, at its latest finish


def test_a_killed_driver_is_shown_as_dead(tmp_path):
    db = tmp_path / "dead.db"
    writer = subprocess.Popen([sys.executable, SUPPORT, str(db), "s", "6", "population", "inline", "0.4"])
    try:
        while (study := try_load(db)) is None or study.counts()["complete"] < 1:
            assert writer.poll() is None, "the writer died"
            time.sleep(0.05)
        client = TestClient(create_app(str(db)))
        assert _get(client, "/api/studies")["studies"][0]["status"] == "running"
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
    finally:
        writer.kill()
        writer.wait()
    shown = _get(client, "/api/studies/s")
    assert shown["status"] == "dead" and shown["driver"].endswith(f":{writer.pid}")
    assert shown["counts"]["running"] <= 1 and shown["finished"] < 6


def test_the_command_serves_until_interrupted(db):
    import httpx

    before = (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns)
    server = subprocess.Popen([sys.executable, "-m", "archspace.cli", "dashboard", "--db", str(db), "--port", "0"],
                              stderr=subprocess.PIPE, text=True)
    try:
        assert server.stderr.readline().startswith("archspace dashboard: read 70 trials in ")  # the warm-up
        line = server.stderr.readline()
        assert line.startswith("archspace dashboard on http://127.0.0.1:"), line
        url = line.split()[3]
        names = [s["name"] for s in httpx.get(url + "api/studies", timeout=30).json()["studies"]]
        assert names == ["cells", "regnet"]
        assert "archspace dashboard" in httpx.get(url, timeout=30).text
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        server.kill()
        server.wait()
    assert (hashlib.sha256(db.read_bytes()).hexdigest(), db.stat().st_mtime_ns) == before


def test_a_recorded_learning_curve_is_on_the_trial_page(tmp_path):
    db = tmp_path / "curve.db"
    study = Study.create("s", db, seed=0)
    study.optimize(make_strategy("population", 3), RecordedCurve(), 3)
    detail = _get(TestClient(create_app(str(db))), "/api/studies/s/trials/1")
    trial = study.trial(1)
    assert detail["learning_curve"] == trial.info["history"] and len(detail["learning_curve"]) == 3
    assert "history" not in detail["info"] and detail["info"]["metric"] == "cifar10_valid_200"
