"""Measured cost: measure_cost on modules and specs, the MeasuredCostEvaluator wrapper, and the
latency / throughput cost axes in trial tables and reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from archspace.analysis.table import COST_COLUMNS, HIGHER_IS_BETTER, load_studies, normalize_table
from archspace.complexity.latency import MeasuredCost, TimingConfig, measure_cost
from archspace.errors import UsageError
from archspace.evaluators.complexity import ComplexityEvaluator
from archspace.evaluators.measured import MeasuredCostEvaluator
from archspace.evaluators.registry import EVALUATORS
from archspace.families.anynet.spec import AnyNetArch
from archspace.search.fixed import FixedList
from archspace.study import Study
from archspace.study.evaluator_spec import describe_evaluator, rebuild_evaluator

FAST = {"warmup": 1, "repeats": 4, "max_seconds": 0.5}
RESNET8 = AnyNetArch.from_lists([1, 1, 1], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)


def test_a_spec_is_timed_with_its_analytic_counts_beside():
    cost = measure_cost(RESNET8, "cpu", batch_sizes=(1, 4), input_shape=(1, 28, 28), num_classes=10, **FAST)
    assert isinstance(cost, MeasuredCost)
    # the published-in-the-zoo count of resnet8_fmnist: ~2.5 MFLOPs at 28x28
    assert cost.flops == 2_552_010 and cost.params == 77_754 and cost.acts > 0
    assert [t.batch_size for t in cost.timings] == [1, 4] and cost.throughput_batch == 4
    for timing in cost.timings:
        assert 1 <= timing.repeats <= 4 and timing.warmup == 1 and len(timing.times_ms) == timing.repeats
        assert timing.min_ms <= timing.median_ms <= timing.max_ms and timing.iqr_ms >= 0
    assert cost.latency_ms == cost.timings[0].median_ms
    assert cost.throughput == pytest.approx(4000 / cost.timings[1].median_ms)
    assert cost.peak_memory_mb > 0 and cost.memory_source
    assert {"device", "torch", "python", "numpy", "device_name", "torch_threads"} <= set(cost.environment)
    assert set(cost.as_cost()) == {"latency_ms", "latency_iqr_ms", "throughput", "peak_memory_mb", "latency_cpu_ms"}
    assert 0 <= cost.as_cost()["latency_cpu_ms"] < 10 * cost.latency_ms + 10


def test_a_module_needs_its_input_shape_and_reports_only_params():
    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))
    with pytest.raises(UsageError, match="input_shape"):
        measure_cost(module)
    module.train()
    cost = measure_cost(module, input_shape=(3, 16, 16), batch_sizes=(2,), threads=1, **FAST)
    assert cost.params == 3 * 8 * 9 + 8 + 8 * 2 + 2 and cost.flops is None
    assert module.training, "the module's training mode is restored"
    assert cost.environment["torch_threads"] == 1


@pytest.mark.parametrize(("options", "match"), [
    ({"batch_sizes": ()}, "batch_sizes"), ({"batch_sizes": (0,)}, "batch_sizes"), ({"repeats": 0}, "repeats"),
    ({"min_repeats": 5, "repeats": 3}, "min_repeats"), ({"max_seconds": 0}, "max_seconds"), ({"threads": 0}, "threads"),
])
def test_bad_timing_options_are_refused(options, match):
    with pytest.raises(UsageError, match=match):
        TimingConfig(**options)


def test_an_unknown_device_is_refused_before_timing():
    with pytest.raises(UsageError, match="device"):
        measure_cost(RESNET8, "tpu", input_shape=(1, 28, 28), num_classes=10)


def test_the_budget_bounds_the_repeats():
    # min_repeats always run; a tiny budget stops right after them
    cost = measure_cost(RESNET8, batch_sizes=(1,), input_shape=(1, 28, 28), num_classes=10, warmup=0,
                        repeats=10_000, min_repeats=3, max_seconds=1e-6)
    assert cost.timings[0].repeats == 3


def _wrapper() -> MeasuredCostEvaluator:
    inner = ComplexityEvaluator("anynetx_a", resolution=28, num_classes=10, in_channels=1)
    return MeasuredCostEvaluator(inner, batch_sizes=(1, 2), warmup=1, repeats=3, max_seconds=0.3)


def test_the_wrapper_keeps_the_inner_result_and_adds_measured_cost():
    wrapper = _wrapper()
    direct = wrapper.inner.evaluate(RESNET8, 0)
    result = wrapper.evaluate(RESNET8, 0)
    assert result.objective == direct.objective and result.metrics == direct.metrics
    assert {"latency_ms", "latency_iqr_ms", "throughput", "peak_memory_mb", "flops", "params", "acts"} <= set(result.cost)
    assert result.cost["flops"] == 2_552_010 == direct.cost["flops"]
    info = result.info["measured_cost"]
    assert info["input_shape"] == [1, 28, 28] and info["throughput_batch"] == 2
    assert [t["batch_size"] for t in info["timings"]] == [1, 2]


def test_the_wrapper_reads_the_input_from_a_training_evaluators_dataset_name():
    from archspace.evaluators.training import TrainingEvaluator

    wrapper = MeasuredCostEvaluator(TrainingEvaluator("cifar10"), repeats=3, max_seconds=0.1)
    assert wrapper.input_spec(RESNET8) == {"resolution": 32, "in_channels": 3, "num_classes": 10}
    assert MeasuredCostEvaluator(resolution=20).input_spec(RESNET8)["resolution"] == 20


def test_the_wrapper_is_registered_and_round_trips_through_its_stored_description():
    assert EVALUATORS.get("measured") is MeasuredCostEvaluator
    wrapper = _wrapper()
    rebuilt = rebuild_evaluator(describe_evaluator(wrapper))
    assert isinstance(rebuilt, MeasuredCostEvaluator) and rebuilt.to_config() == wrapper.to_config()
    assert isinstance(rebuilt.inner, ComplexityEvaluator) and rebuilt.inner.space == "anynetx_a"
    with pytest.raises(UsageError, match="inner"):
        MeasuredCostEvaluator(inner=42)
    with pytest.raises(UsageError, match="device"):
        MeasuredCostEvaluator(device="tpu")


def test_without_an_inner_evaluator_the_objective_is_latency():
    result = MeasuredCostEvaluator(resolution=28, in_channels=1, num_classes=10, repeats=3, max_seconds=0.1).evaluate(RESNET8, 0)
    assert result.objective == result.cost["latency_ms"] > 0


def test_a_study_stores_latency_as_a_cost_column(tmp_path):
    study = Study.create("measured", tmp_path / "m.db", seed=0)
    archs = [RESNET8, RESNET8.with_stages(width=[8, 16, 32])]
    study.optimize(FixedList(archs), _wrapper(), 2)
    frame = study.trials_dataframe()
    assert {"latency_ms", "throughput", "peak_memory_mb"} <= set(frame.columns)
    study.storage.close()
    table = load_studies(["measured"], tmp_path / "m.db")
    assert len(table) == 2 and np.all(table["latency_ms"] > 0) and np.all(table["throughput"] > 0)


def test_cost_kinds_are_axes_of_tables_and_reports():
    from archspace.report.build import ReportConfig, analyze_table

    assert {"latency_ms", "throughput"} <= set(COST_COLUMNS) and {"throughput"} == HIGHER_IS_BETTER
    # timm's benchmark column names are detected as the throughput axis
    frame = pd.DataFrame({"model": ["a", "b", "c", "d"], "top1_err": [20.0, 25.0, 22.0, 30.0],
                          "infer_samples_per_sec": [100.0, 400.0, 50.0, 300.0], "latency": [10.0, 2.5, 20.0, 3.0]})
    table = normalize_table(frame)
    assert table["throughput"].tolist() == [100.0, 400.0, 50.0, 300.0]
    content = analyze_table(table, ReportConfig(reps=50))
    # more throughput is better: a (20 %, 100/s) and b (25 %, 400/s) are the front; c and d are beaten
    assert sorted(p["name"] for p in content.summary["pareto"]["throughput"]) == ["a", "b"]
    assert sorted(p["name"] for p in content.summary["pareto"]["latency_ms"]) == ["a", "b"]


def test_analyze_cli_takes_a_latency_column(tmp_path):
    from archspace.cli import main

    csv = tmp_path / "models.csv"
    pd.DataFrame({"name": list("abcdef"), "error": [5.0, 4.0, 6.0, 3.0, 7.0, 4.5],
                  "ms": [1.0, 2.0, 0.5, 4.0, 0.4, 3.0]}).to_csv(csv, index=False)
    assert main(["analyze", "--csv", str(csv), "--latency-ms-column", "ms", "--out", str(tmp_path / "r"),
                 "--reps", "20"]) == 0
    import json

    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert [p["name"] for p in summary["pareto"]["latency_ms"]] == ["e", "c", "a", "b", "d"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_on_cuda_peak_memory_comes_from_the_allocator():
    cost = measure_cost(RESNET8, "cuda", input_shape=(1, 28, 28), num_classes=10, **FAST)
    assert cost.memory_source == "cuda max_memory_allocated" and cost.environment["device_name"]
