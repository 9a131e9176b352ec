"""Crash safety: kill -9 the driver or a worker, Ctrl-C, then rerun; nothing lost or duplicated."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from archspace.study import LocalProcessExecutor, Study
from archspace.study.progress import StudyProgress
from study_support import PacedTable, make_strategy
from study_support import try_load as _try_load

SUPPORT = str(Path(__file__).with_name("study_support.py"))


def _command(db, n, strategy="evolution", executor="inline", pace=0.0):
    return [sys.executable, SUPPORT, str(db), "s", str(n), strategy, executor, str(pace)]


def _check_study(db, n):
    frame = Study.load("s", db).trials_dataframe()
    assert list(frame["number"]) == list(range(len(frame)))
    assert (frame["state"] == "complete").sum() == n and len(frame) == n
    return frame


def test_kill_9_driver_at_random_moments_then_rerun(tmp_path):
    n = 400
    reference = tmp_path / "ref.db"
    started = time.time()
    assert subprocess.run(_command(reference, n), timeout=120).returncode == 0
    duration = time.time() - started
    expected = _check_study(reference, n)[["arch_hash", "objective"]]

    db = tmp_path / "killed.db"
    rng = np.random.default_rng(0)
    kills = 0
    completed_before = 0
    for _ in range(12):
        if kills >= 5:
            break
        proc = subprocess.Popen(_command(db, n))
        time.sleep(rng.uniform(0.2, 0.8 * duration))
        if proc.poll() is None:
            proc.kill()
            kills += 1
        proc.wait(timeout=60)
        study = _try_load(db)
        if study is not None and proc.returncode != 0:
            counts = study.counts()
            assert counts["complete"] >= completed_before  # nothing that completed was lost
            assert counts["running"] <= 1
            completed_before = counts["complete"]
            study.storage.close()
    assert kills >= 3
    assert subprocess.run(_command(db, n), timeout=120).returncode == 0
    got = _check_study(db, n)[["arch_hash", "objective"]]
    assert got.equals(expected)  # the resumed search went through the very same sequence


def test_kill_9_driver_with_local_workers_then_rerun(tmp_path):
    db, n = tmp_path / "s.db", 100
    for delay in (2.0,):
        proc = subprocess.Popen(_command(db, n, "population", "local", 0.02))
        time.sleep(delay)
        proc.kill()
        proc.wait(timeout=60)
    assert subprocess.run(_command(db, n, "population", "local", 0.02), timeout=120).returncode == 0
    frame = _check_study(db, n)
    assert frame["arch_hash"].is_unique


class _KillOneWorker:
    """Progress reporter that kills a busy worker (SIGKILL) after ``at`` finished trials."""

    def __init__(self, executor: LocalProcessExecutor, at: int) -> None:
        self.executor, self.at, self.killed = executor, at, None

    def start(self, state: StudyProgress) -> None:
        pass

    def update(self, state: StudyProgress) -> None:
        if self.killed is None and state.done >= self.at:
            self.killed = self.executor.pids[0]
            os.kill(self.killed, signal.SIGKILL)

    def stop(self) -> None:
        pass


def test_killed_worker_is_replaced_and_its_trial_requeued(tmp_path):
    study = Study.create("w", tmp_path / "s.db")
    executor = LocalProcessExecutor(2)
    killer = _KillOneWorker(executor, at=10)
    study.optimize(make_strategy("population", 40), PacedTable(0.05), 40, executor=executor, progress=killer)
    frame = study.trials_dataframe()
    assert killer.killed is not None
    assert (frame["state"] == "complete").sum() == 40 and frame["arch_hash"].is_unique
    assert frame["attempts"].max() == 2  # the trial the dead worker held ran again
    retried = frame[frame["attempts"] == 2]
    assert len(retried) == 1 and f":{killer.killed}:" not in retried["worker"].iloc[0]
    assert retried["error"].isna().all()  # the retry succeeded


def test_ctrl_c_stops_gracefully_and_resume_requeues(tmp_path):
    db, n = tmp_path / "s.db", 40
    # SIGINT back to its default in the child: a test run started in the background by a shell
    # without job control inherits SIGINT ignored, and Python then installs no Ctrl-C handler.
    proc = subprocess.Popen(_command(db, n, "population", "inline", 0.05),
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while time.time() < deadline:  # wait until some trials are done
        time.sleep(0.2)
        study = _try_load(db)
        if study is not None:
            done = study.counts()["complete"]
            study.storage.close()
            if done >= 5:
                break
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    study = Study.load("s", db)
    counts = study.counts()
    assert counts["interrupted"] == 1 and counts["running"] == 0
    interrupted = study.trials(("interrupted",))[0].number
    study.storage.close()
    assert subprocess.run(_command(db, n, "population", "inline", 0.0), timeout=120).returncode == 0
    frame = _check_study(db, n)
    assert frame.set_index("number").loc[interrupted, "state"] == "complete"
    assert frame["arch_hash"].is_unique
