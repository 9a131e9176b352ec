"""The Ray executor on a real local Ray instance (``ray.init(num_cpus=2)``); one start-up only."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from archspace.compress.workflow import run_compression
from archspace.experiments.population import run_population_study
from archspace.study import InlineExecutor, RayExecutor, Study
from study_support import PacedTable, make_strategy
from test_compress_evaluator import TEACHER
from test_reproducibility import CONFIG as TRAINING
from test_reproducibility import objectives_by_arch

ray = pytest.importorskip("ray", reason="ray is an optional extra: pip install 'archspace[ray]'")


def test_ray_auto_without_a_cluster_is_one_line_before_any_work(tmp_path):
    """Runs before this file starts its Ray (the only one the suite starts): no cluster is up."""
    import subprocess

    from ray._private.services import find_gcs_addresses

    if find_gcs_addresses():
        pytest.skip("a Ray cluster is running on this machine, so --ray auto would connect to it")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    out = subprocess.run([sys.executable, "-m", "archspace", "study", "run", "s", "--space", "nb201", "--n", "4",
                          "--ray", "auto", "--db", str(tmp_path / "s.db")], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "no running Ray cluster found" in out.stderr
    assert not (tmp_path / "s.db").exists()


def test_ray_executor_runs_and_resumes_a_study(tmp_path, monkeypatch):
    # Ray workers import the test evaluators from this folder, like a cluster's shared code path.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(Path(__file__).parent), *sys.path]))
    db = tmp_path / "s.db"
    inline = Study.create("i", db)
    inline.optimize(make_strategy("population", 30), PacedTable(0.0), 30)
    study = Study.create("r", db)
    trained_inline, trained_on_ray = tmp_path / "inline.db", tmp_path / "ray.db"
    run_population_study(TRAINING, trained_inline, executor=InlineExecutor())
    compressed_inline = run_compression(_compression(tmp_path, "inline"))
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        study.optimize(make_strategy("population", 30), PacedTable(0.0), 20, executor=RayExecutor())
        assert study.counts()["complete"] == 20
        assert ray.is_initialized()  # a Ray that was already running is used, not stopped
        study.optimize(make_strategy("population", 30), PacedTable(0.0), 30, executor=RayExecutor())
        run_population_study(TRAINING, trained_on_ray, executor=RayExecutor())
        compressed_on_ray = run_compression(_compression(tmp_path, "ray"), executor=RayExecutor)
    finally:
        ray.shutdown()
    # teacher compression (`compress run --ray`): the same candidates, rewards and returned model
    assert _compressed_trials(tmp_path, "ray") == _compressed_trials(tmp_path, "inline")
    workers = Study.load("random-s0", tmp_path / "compress-ray.db").trials_dataframe()["worker"]
    assert len(workers) == 4 and workers.str.contains(":ray").all()
    assert [r["best"]["reward"] for r in compressed_on_ray["runs"]] == [r["best"]["reward"] for r in compressed_inline["runs"]]
    # real trainings (tests/test_reproducibility.py): bit-identical objectives on Ray and inline
    assert objectives_by_arch(trained_on_ray) == objectives_by_arch(trained_inline)
    frame = study.trials_dataframe()
    got = frame.set_index("arch_hash")["objective"].sort_index()
    expected = inline.trials_dataframe().set_index("arch_hash")["objective"].sort_index()
    assert got.equals(expected)  # same models, same per-trial seeds, same results as inline
    assert len(frame) == 30 and frame["worker"].str.contains(":ray").all()


def _compression(tmp_path, name):
    """A real digits compression run (4 random candidates) whose teacher is cached in ``tmp_path``."""
    from archspace.compress.distill import DistillConfig
    from archspace.compress.setup import CompressionSetup
    from archspace.compress.workflow import CompressionConfig, Method

    setup = CompressionSetup(teacher=TEACHER, dataset="digits", train_subset=400, val_size=200,
                             teacher_training=DistillConfig(epochs=4, loss="ce", lr=0.1, batch_size=16),
                             cache_dir=str(tmp_path / "teachers"))
    return CompressionConfig(setup=setup, training=DistillConfig(epochs=1, lr=0.1, batch_size=64), seeds=(0,),
                             n_trials=4, methods=(Method("random", "rs"),), top_k=1,
                             finetune=DistillConfig(epochs=1, loss="ce", lr=0.05, batch_size=64),
                             db=str(tmp_path / f"compress-{name}.db"))


def _compressed_trials(tmp_path, name):
    study = Study.load("random-s0", tmp_path / f"compress-{name}.db")
    return {t.arch_hash: (t.objective, t.metrics["accuracy"]) for t in study.trials()}
