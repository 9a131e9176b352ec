"""The distillation evaluator on scikit-learn's digits: the cached teacher, best-epoch A(x) on the
held-out split, the reward, invalid candidates at -1, the contract, and the final stage."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.checks import check_evaluator
from archspace.compress.distill import DistillConfig
from archspace.compress.setup import CompressionSetup
from archspace.compress.workflow import (
    CompressionConfig,
    Method,
    finetune_top,
    merge_summaries,
    reselect,
    run_compression,
)
from archspace.errors import UsageError
from archspace.evaluators.compress import CompressionEvaluator
from archspace.families.teacher.spec import GraphLayer, TeacherGraph

TEACHER = [{"kind": "conv", "width": 8, "kernel": 3, "relu": True}, {"kind": "conv", "width": 8, "kernel": 3, "relu": True},
           {"kind": "max_pool", "kernel": 2, "stride": 2}, {"kind": "conv", "width": 16, "kernel": 3, "relu": True},
           {"kind": "global_pool"}, {"kind": "linear"}]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return CompressionSetup(teacher=TEACHER, dataset="digits", train_subset=400, val_size=200,
                            teacher_training=DistillConfig(epochs=4, loss="ce", lr=0.1, batch_size=16),
                            cache_dir=str(tmp_path_factory.mktemp("teachers")))


def test_teacher_is_trained_once_and_cached(setup):
    first = CompressionEvaluator(setup).resources()["teacher"]
    second = CompressionEvaluator(setup).resources()["teacher"]  # a new evaluator loads the file
    assert first.path == second.path and first.accuracy == second.accuracy > 30.0
    assert first.params == 8 * 9 + 16 + 8 * 8 * 9 + 16 + 8 * 16 * 9 + 32 + 16 * 10 + 10
    assert tuple(first.train_logits.shape) == (400, 10)


@pytest.mark.parametrize("loss", ["kl", "mse"])
def test_a_candidate_is_distilled_and_rewarded(setup, loss):
    evaluator = CompressionEvaluator(setup, DistillConfig(epochs=2, loss=loss, lr=0.1, batch_size=16))
    space = evaluator.space()
    arch = space.sample(np.random.default_rng(0))
    result = evaluator.evaluate(arch, 0)
    teacher = evaluator.resources()["teacher"]
    m = result.metrics
    assert m["accuracy"] == max(result.info["history"])  # the best epoch
    c = 1 - result.cost["params"] / teacher.params
    assert m["reward"] == pytest.approx(c * (2 - c) * m["accuracy"] / teacher.accuracy)
    assert result.objective == -m["reward"] and m["inherited_tensors"] > 0


def test_an_invalid_candidate_scores_minus_one(setup):
    evaluator = CompressionEvaluator(setup)
    layers = list(evaluator.space().teacher_graph.layers)
    layers[3] = GraphLayer(**{**vars(layers[3]), "inputs": (2, 0)})  # sums 4x4 with 8x8 maps
    result = evaluator.evaluate(TeacherGraph(tuple(layers)), 0)
    assert result.metrics == {"reward": -1.0, "valid": 0.0} and result.objective == 1.0


def test_evaluator_contract(setup):
    evaluator = CompressionEvaluator(setup, DistillConfig(epochs=1, lr=0.1, batch_size=64))
    archs = evaluator.space().sample_batch(np.random.default_rng(1), 2)
    assert check_evaluator(evaluator, archs) == {"evaluations": 2}


def test_bad_evaluator_options(setup):
    with pytest.raises(UsageError, match="fine-tuning"):
        CompressionEvaluator(setup, DistillConfig(loss="ce"))
    with pytest.raises(UsageError, match="resolution"):
        CompressionEvaluator(setup, space_options={"resolution": 8})


def test_the_workflow_and_its_final_stage(setup, tmp_path):
    config = CompressionConfig(setup=setup, training=DistillConfig(epochs=1, lr=0.1, batch_size=64), seeds=(0,), n_trials=4,
                               methods=(Method("random", "rs"), Method("tpe", "tpe-ops")), top_k=2,
                               finetune=DistillConfig(epochs=1, loss="ce", lr=0.05, batch_size=64), db=str(tmp_path / "c.db"))
    summary = run_compression(config)
    assert [row["method"] for row in summary["table"]] == ["random", "tpe"]
    for run in summary["runs"]:
        assert len(summary["curves"][run["study"]]["reward"]) == 4
        assert 1 <= len(run["top"]) <= 2 and run["best"] == max(run["top"], key=lambda r: r["reward"])
    assert reselect(summary)["table"] == summary["table"]
    from archspace.study import Study

    evaluator = CompressionEvaluator(setup, config.training)
    again = finetune_top(Study.load("random-s0", config.db), evaluator, 2, config.finetune)
    first = next(r for r in summary["runs"] if r["study"] == "random-s0")["top"]
    assert [r["val_accuracy"] for r in again] == [r["val_accuracy"] for r in first]  # replayed exactly
    check_merging(summary, tmp_path)
    again = run_compression(config)  # complete studies: not resumed, only the final stage again
    assert [r["seconds"] for r in again["runs"]] == [0.0, 0.0] and again["table"] == summary["table"]
    other = CompressionConfig(**{**vars(config), "methods": (Method("random", "tpe-ops"),)})
    with pytest.raises(UsageError, match="was run with strategy"):
        run_compression(other)
    check_progress(summary, config.db, tmp_path)


def check_progress(summary, db, tmp_path):
    """`compress progress`: the in-search table from the database alone equals the run's curves."""
    import json

    from archspace.cli import main
    from archspace.compress.workflow import search_summary

    search = search_summary([db], n_init=2)
    assert {k: c["reward"] for k, c in search["curves"].items()} == {k: c["reward"] for k, c in summary["curves"].items()}
    for row in search["search_table"]:
        rewards = np.asarray(search["curves"][f"{row['method']}-s0"]["reward"])
        assert row["evaluations"] == [4] and row["best"]["mean"] == rewards.max()
        assert row["best_first"]["mean"] == rewards[:2].max() and row["mean_after"]["mean"] == pytest.approx(rewards[2:].mean())
    with pytest.raises(UsageError, match="more than one database"):
        search_summary([db, db])
    from archspace.study import Study

    Study.create("stopped-s1", db, seed=1)  # a run stopped as it began this study: nothing finished
    assert search_summary([db], n_init=2)["search_table"] == search["search_table"]
    assert main(["compress", "progress", "--db", db, "--n-init", "2", "--json", "--out", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "reward_over_time.png").is_file()
    assert json.loads((tmp_path / "p" / "search.json").read_text())["search_table"] == json.loads(json.dumps(search["search_table"]))
    assert main(["compress", "progress", "--db", str(tmp_path / "missing.db")]) == 2


def check_merging(summary, tmp_path):
    """Methods split across processes (one summary each) merge into the one-process table."""
    import json

    from archspace.cli import main

    halves = [{**summary, "runs": [r for r in summary["runs"] if r["method"] == m],
               "curves": {k: c for k, c in summary["curves"].items() if c["method"] == m}} for m in ("random", "tpe")]
    assert merge_summaries(halves)["table"] == summary["table"]
    with pytest.raises(UsageError, match="more than one summary"):
        merge_summaries([halves[0], halves[0]])
    other = {**halves[1], "teacher": {**halves[1]["teacher"], "params": 1}}
    with pytest.raises(UsageError, match="another teacher"):
        merge_summaries([halves[0], other])
    paths = []
    for i, half in enumerate(halves):
        paths.append(str(tmp_path / f"half{i}.json"))
        (tmp_path / f"half{i}.json").write_text(json.dumps(half, default=float))
    assert main(["compress", "table", *paths, "--out", str(tmp_path / "merged")]) == 0
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert merged["table"] == json.loads(json.dumps(summary["table"])) and len(merged["curves"]) == 2
    teacher_params = summary["teacher"]["params"]
    for row, run in zip(summary["table"], summary["runs"], strict=True):  # one seed per method
        assert row["compression"]["mean"] == pytest.approx(1 - run["best"]["params"] / teacher_params)
        assert row["ratio"]["mean"] == pytest.approx(teacher_params / run["best"]["params"])
    assert "| #Params | Ratio C(x) | Times | f(x) (final) |" in (tmp_path / "merged" / "table.md").read_text()
    (tmp_path / "bad.json").write_text("[1, 2]")
    assert main(["compress", "table", paths[0], str(tmp_path / "bad.json")]) == 2


def test_two_local_workers_give_the_inline_numbers(setup, tmp_path):
    """`compress run --workers 2`: each worker loads the cached teacher, and the stored candidates,
    accuracies and rewards equal those of the inline run (the study's numerics are per trial)."""
    from archspace.study import LocalProcessExecutor, Study

    def config(name):
        return CompressionConfig(setup=setup, training=DistillConfig(epochs=1, lr=0.1, batch_size=64), seeds=(0,),
                                 n_trials=4, methods=(Method("random", "rs"),), top_k=1,
                                 finetune=DistillConfig(epochs=1, loss="ce", lr=0.05, batch_size=64),
                                 db=str(tmp_path / f"{name}.db"))

    inline = run_compression(config("inline"))
    workers = run_compression(config("workers"), executor=lambda: LocalProcessExecutor(2))

    def trials(db):
        return {t.arch_hash: (t.objective, t.metrics["accuracy"]) for t in Study.load("random-s0", db).trials()}

    assert trials(config("inline").db) == trials(config("workers").db)
    assert len(trials(config("workers").db)) == 4
    timeless = [[{k: v for k, v in row.items() if not k.endswith("seconds")} for row in summary["table"]]
                for summary in (inline, workers)]
    assert timeless[0] == timeless[1]  # the returned model's accuracy, params, ratio and f(x)
