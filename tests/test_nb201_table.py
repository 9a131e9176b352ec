"""The packaged NAS-Bench-201 table, its packer, and the table evaluator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from archspace.bench.nb201 import ACCURACY_METRICS, MetricName, NB201Table
from archspace.bench.nb201_pack import pack
from archspace.errors import DataError, InvalidArchitecture, UsageError
from archspace.evaluation import Evaluator
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.families.nb201.index import table_path
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import NUM_CELLS
from archspace.spaces.base import Constraint
from archspace.spaces.nb201 import NB201Space

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


@pytest.fixture(scope="module")
def table() -> NB201Table:
    return NB201Table.load()


def test_known_facts(table):
    assert len(table) == NUM_CELLS
    assert table.best("cifar10_test_200") == (6111, 94.3733)
    assert round(table.best("cifar100_test_200")[1], 2) == 73.51
    assert round(table.best("imagenet16-120_test_200")[1], 2) == 47.31
    assert table.row(6111)["arch"] == BEST_C10
    assert set(ACCURACY_METRICS) <= set(table.metric_names)
    assert {"params_mb", "cifar10_train_seconds_200"} <= set(table.metric_names)


def test_load_is_cached_and_read_only(table):
    assert NB201Table.load() is table
    column = table.column("cifar10_valid_200")
    assert column.dtype == np.float64 and column.shape == (NUM_CELLS,)
    with pytest.raises(ValueError):
        column[0] = 0.0


def test_every_value_equals_the_csv(table, shared_data):
    frame = pd.read_csv(shared_data / "nb201" / "nb201.csv")
    for name in table.metric_names:
        assert np.array_equal(table.column(name), frame[name].to_numpy()), name
    for dataset in ("cifar10", "cifar100", "imagenet16"):
        texts = frame[f"{dataset}_valid_200_seeds"]
        for i in (0, 1, 6111, 15624):
            assert table.seeds(dataset, i).tolist() == [float(v) for v in texts[i].split(";")]
        counts = (~np.isnan(table.valid_seeds[dataset])).sum(axis=1)
        assert np.array_equal(counts, texts.str.count(";").to_numpy() + 1)


def test_packer_reproduces_the_packaged_resource(shared_data, tmp_path):
    out = tmp_path / "nb201.npz"
    meta = pack(shared_data / "nb201" / "nb201.csv", out)
    assert meta["rows"] == NUM_CELLS
    assert out.read_bytes() == table_path().read_bytes()
    with pytest.raises(DataError, match="not found"):
        pack(tmp_path / "missing.csv", out)


def test_bad_table_file_is_a_data_error(tmp_path):
    bogus = tmp_path / "bogus.npz"
    np.savez(bogus, x=np.zeros(3))
    with pytest.raises(DataError, match="not an archspace"):
        NB201Table.load(bogus)
    with pytest.raises(DataError, match="not found"):
        NB201Table.load(tmp_path / "nope.npz")


def test_metric_names_and_errors(table):
    assert MetricName.parse("ImageNet16-120_valid_12").column == "imagenet16_valid_12"
    with pytest.raises(UsageError, match="unknown NAS-Bench-201 dataset 'svhn'"):
        MetricName.parse("svhn_valid_200")
    with pytest.raises(UsageError, match="split must be one of"):
        MetricName.parse("cifar10_train_200")
    with pytest.raises(UsageError, match="epochs must be one of"):
        MetricName.parse("cifar10_valid_100")
    with pytest.raises(UsageError, match="unknown NAS-Bench-201 metric"):
        table.column("accuracy")


def test_mean_mode_lookup():
    bench = NB201Benchmark()
    assert isinstance(bench, Evaluator)
    result = bench.evaluate(NB201Cell.from_string(BEST_C10), seed=0)
    assert result.objective == pytest.approx(100 - 91.6067)
    assert result.metrics["cifar10_test_200"] == 94.3733
    assert set(ACCURACY_METRICS) <= set(result.metrics)
    assert result.cost["params"] == 1_073_466 and result.info["index"] == 6111
    assert result.cost["simulated_seconds"] == NB201Table.load().column("cifar10_train_seconds_200")[6111]
    assert np.array_equal(bench.objectives(), 100 - NB201Table.load().column("cifar10_valid_200"))


def test_sample_mode_draws_one_seed_with_the_trial_seed():
    bench = NB201Benchmark(metric="cifar100_valid_200", seed_mode="sample")
    table = NB201Table.load()
    cell = NB201Cell.from_string(BEST_C10)
    seeds = table.seeds("cifar100", 6111).tolist()
    draws = [bench.evaluate(cell, seed=s) for s in range(40)]
    assert [r.objective for r in draws] == [bench.evaluate(cell, seed=s).objective for s in range(40)]
    accuracies = {r.metrics["accuracy"] for r in draws}
    assert accuracies == set(seeds)  # every seed gets drawn, nothing else
    assert all(r.metrics["cifar100_valid_200"] == table.column("cifar100_valid_200")[6111] for r in draws)
    with pytest.raises(UsageError, match="integer seed"):
        bench.evaluate(cell, seed=None)


def test_low_fidelity_charges_twelve_epochs():
    bench = NB201Benchmark(metric="cifar10_valid_12")
    result = bench.evaluate_index(6111)
    table = NB201Table.load()
    assert result.metrics["accuracy"] == table.column("cifar10_valid_12")[6111]
    assert result.cost["simulated_seconds"] == pytest.approx(table.column("cifar10_train_seconds_200")[6111] * 12 / 200)


def test_evaluator_errors():
    with pytest.raises(UsageError, match="unknown NAS-Bench-201 dataset"):
        NB201Benchmark(metric="mnist_valid_200")
    with pytest.raises(UsageError, match="seed_mode must be one of"):
        NB201Benchmark(seed_mode="median")
    with pytest.raises(UsageError, match="needs a \\*_valid_200 metric"):
        NB201Benchmark(metric="cifar10_test_200", seed_mode="sample")
    masked = NB201Benchmark(space=NB201Space(ops=("skip_connect", "nor_conv_3x3")))
    with pytest.raises(InvalidArchitecture, match="masked"):
        masked.evaluate(NB201Cell(("none",) * 6), seed=0)
    with pytest.raises(InvalidArchitecture, match="index"):
        masked.evaluate_index(NUM_CELLS)
    with pytest.raises(InvalidArchitecture, match="evaluates nb201 cells"):
        masked.evaluate("not a cell", seed=0)  # type: ignore[arg-type]


def test_vectorized_sample_draws_equal_the_scalar_ones():
    bench = NB201Benchmark(metric="imagenet16_valid_200", seed_mode="sample")
    rng = np.random.default_rng(5)
    indices = rng.integers(0, NUM_CELLS, 500)
    seeds = rng.integers(-(2**40), 2**40, 500)
    vectorized = bench.sample_accuracies(indices, seeds)
    assert vectorized.tolist() == [bench.accuracy(int(i), int(s))[0] for i, s in zip(indices, seeds, strict=True)]
    # with three seeds per cell, the draws spread over all three slots
    slots = [bench.accuracy(6111, s)[1] for s in range(300)]
    assert sorted(set(slots)) == [0, 1, 2] and min(slots.count(k) for k in range(3)) > 60
    means = NB201Benchmark(metric="imagenet16_valid_200")
    assert np.array_equal(means.sample_accuracies(indices, seeds), NB201Table.load().column("imagenet16_valid_200")[indices])


def test_config_round_trip_and_light_pickles():
    import pickle

    from archspace.study.evaluator_spec import describe_evaluator, rebuild_evaluator

    bench = NB201Benchmark(metric="cifar100_valid_200", seed_mode="sample", space=NB201Space(ops=("none", "nor_conv_3x3")))
    rebuilt = rebuild_evaluator(describe_evaluator(bench))
    assert rebuilt.to_config() == bench.to_config() and rebuilt.space.ops == ("none", "nor_conv_3x3")
    blob = pickle.dumps(bench)
    assert len(blob) < 2_000
    assert pickle.loads(blob).evaluate_index(6111, 4).objective == bench.evaluate_index(6111, 4).objective
    constrained = NB201Benchmark(space=NB201Space(constraints=[Constraint("any", bool)]))
    assert pickle.loads(pickle.dumps(constrained)).evaluate_index(3).objective == constrained.evaluate_index(3).objective
