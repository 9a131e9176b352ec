"""Protocols, the comparison grid, the thesis's NA harness and iso-bo on the real NB201 table."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from scipy import stats

from archspace.bench.nb201 import NB201Table
from archspace.cli import main
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.experiments.nb201_grid import GridConfig, run_grid
from archspace.experiments.nb201_na import NAConfig, run_na
from archspace.experiments.nb201_search import (
    BenchConfig,
    load_records,
    ours_vs_peers,
    protocol_metric,
    run_comparison,
    run_comparisons,
    run_search,
    summarize,
)
from archspace.families.nb201.index import (
    benchmark_index_of,
    benchmark_ops_matrix,
    isomorphism_class_ids,
)
from archspace.report.nb201_search import grid_cost_markdown, grid_markdown
from archspace.search.hamming_gp import KERNELS, WARPS, SpaceGP, kernel_of
from archspace.search.registry import make_strategy
from archspace.spaces.nb201 import NB201Space

TABLE = NB201Table.load()
TEST = TABLE.column("cifar10_test_200")

# Runs logged by the code before the grid-speed work (the 100-run grid in docs/nb201-search):
# (protocol, budget, algorithm, run) -> (sha256 of [evaluated, selected], final cell, its CIFAR-10 test).
# iso-bo ran on raw values then (``warp="none"``; the copula warping became its default later).
BEFORE_SPEEDUPS = {
    ("mean", 50, "rs", 0): ("5429fb6f80a50022", 3255, 93.87),
    ("mean", 50, "re", 0): ("6188be2b2ae0a014", 1317, 94.09),
    ("mean", 50, "ls", 0): ("330d537ca7b36ef4", 14139, 93.92),
    ("mean", 50, "na-rs", 0): ("4380a106bf483db4", 14306, 93.09),
    ("mean", 50, "iso-bo", 0): ("4e3ab0dcd770ca8b", 6111, 94.37),
    ("mean", 50, "tpe", 0): ("983144534646d043", 1459, 94.30),
    ("mean", 50, "hyperopt-tpe", 0): ("6ae2d4cd5dcc55e2", 8162, 93.67),
    ("mean", 50, "iso-bo", 1): ("0d97987fb876501f", 1459, 94.30),
    ("sample", 100, "iso-bo", 0): ("86fdf42468b8b091", 6111, 94.37),
    ("valid12", 100, "iso-bo", 0): ("09b46711b5ca87d8", 13714, 94.37),
}


def _digest(record) -> str:
    return hashlib.sha256(json.dumps([record.evaluated, record.selected]).encode()).hexdigest()[:16]


def test_protocols_map_to_the_table_columns() -> None:
    assert protocol_metric("mean", "cifar100") == ("cifar100_valid_200", "mean")
    assert protocol_metric("sample", "imagenet16-120") == ("imagenet16_valid_200", "sample")
    assert protocol_metric("valid12", "cifar10") == ("cifar10_valid_12", "mean")
    with pytest.raises(UsageError, match="unknown protocol"):
        protocol_metric("valid90", "cifar10")


def test_valid12_searches_the_12_epoch_column_and_reports_test_200() -> None:
    metric, mode = protocol_metric("valid12", "cifar100")
    config = BenchConfig(algorithms=("rs",), budget=20, runs=2, search_metric=metric, seed_mode=mode)
    records = run_comparison(config)
    assert np.allclose(records[0].observed, TABLE.column("cifar100_valid_12")[records[0].evaluated])
    summary = summarize(records, config)
    assert summary["headline_metric"] == "cifar100_test_200"
    finals = TABLE.column("cifar100_test_200")[[r.selected[-1] for r in records]]
    assert summary["algorithms"]["rs"]["cifar100_test_200"]["mean"] == pytest.approx(finals.mean())
    assert summary["best_cell"]["cifar100_test_200"] == pytest.approx(73.51, abs=0.005)


def test_sample_protocol_draws_one_training_seed_per_evaluation() -> None:
    config = BenchConfig(algorithms=("rs",), budget=60, runs=1, seed_mode="sample").checked()
    record = run_search("rs", 0, config)
    seeds = TABLE.valid_seeds["cifar10"][record.evaluated]
    observed = np.array(record.observed)
    assert np.all(np.isclose(seeds, observed[:, None]).any(axis=1))  # each value is one seed's
    assert not np.allclose(observed, TABLE.column("cifar10_valid_200")[record.evaluated])


@pytest.mark.parametrize(("changes", "message"), [
    ({"ops": ("none",)}, "at least two ops"),
    ({"ops": ("none", "skip_connect"), "budget": 65}, "budget 65 is larger than the space (64 cells"),
    ({"budget": 15626}, "larger than the space (15625 cells"),
])
def test_bad_budgets_and_masks_fail_first(changes: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        BenchConfig(**{"algorithms": ("rs",), **changes}).checked()


def test_ours_vs_peers_is_a_welch_test_of_the_two_leaders() -> None:
    rng = np.random.default_rng(0)
    finals = {"rs": rng.normal(93.8, 0.3, 40), "iso-bo": rng.normal(94.3, 0.1, 40),
              "tpe": rng.normal(94.2, 0.2, 40), "hyperopt-tpe": rng.normal(94.0, 0.2, 40)}
    versus = ours_vs_peers(finals)
    assert (versus["our_best"], versus["best_peer"]) == ("iso-bo", "tpe")
    assert versus["p_value"] == pytest.approx(stats.ttest_ind(finals["iso-bo"], finals["tpe"], equal_var=False).pvalue)
    assert versus["difference"] == pytest.approx(finals["iso-bo"].mean() - finals["tpe"].mean())
    assert versus["verdict"] == ("ours better" if versus["p_value"] < 0.05 else "tie")


def test_grid_runs_every_cell_resumes_and_restricts_slow_algorithms(tmp_path) -> None:
    config = GridConfig(algorithms=("rs", "ls", "tpe"), protocols=("mean", "valid12"), budgets=(8, 12),
                        datasets=("cifar10",), runs=3, runs_for={"tpe": 2}, cells_for={"tpe": ("mean/cifar10/12",)})
    grid = run_grid(config, out=tmp_path, figures=False)
    assert set(grid["cells"]) == {"mean/cifar10/8", "mean/cifar10/12", "valid12/cifar10/8", "valid12/cifar10/12"}
    cell = grid["cells"]["mean/cifar10/12"]
    assert cell["algorithms"]["tpe"]["runs"] == 2 and cell["algorithms"]["rs"]["runs"] == 3
    assert cell["ours_vs_peers"]["best_peer"] == "tpe"
    assert "tpe" not in grid["cells"]["mean/cifar10/8"]["algorithms"]
    log = tmp_path / "mean-cifar10-12" / "runs.jsonl"
    lines = log.read_text().splitlines()
    assert len(lines) == 8
    again = run_grid(config, out=tmp_path, figures=False)
    assert log.read_text().splitlines() == lines  # resumed: nothing re-run
    resumed = again["cells"]["mean/cifar10/12"]["algorithms"]
    assert {n: e["cifar10_test_200"] for n, e in resumed.items()} == {
        n: e["cifar10_test_200"] for n, e in cell["algorithms"].items()}
    assert json.loads((tmp_path / "grid_summary.json").read_text())["config"]["runs_for"] == {"tpe": 2}
    # cost: per cell the runs' own CPU; per algorithm CPU per run by budget, and the full grid at that rate
    logged = load_records(log)
    assert cell["seconds"]["cpu"] == pytest.approx(sum(r.cpu_seconds for r in logged))
    cost = grid["cost"]["algorithms"]
    rates = cost["rs"]["cpu_per_run"]
    assert set(rates) == {"8", "12"} and cost["rs"]["full_grid_runs"] == 12
    assert cost["rs"]["full_grid_cpu"] == pytest.approx(3 * 2 * (rates["8"] + rates["12"]))
    assert cost["tpe"]["full_grid_runs"] == 2 and cost["tpe"]["peer"]
    assert cost["tpe"]["full_grid_cpu"] == pytest.approx(2 * cost["tpe"]["cpu_per_run"]["12"])
    totals = grid["cost"]["full_grid_cpu"]
    assert totals["peers"] == pytest.approx(cost["tpe"]["full_grid_cpu"])
    assert totals["ours"] == pytest.approx(cost["rs"]["full_grid_cpu"] + cost["ls"]["full_grid_cpu"])
    table = grid_cost_markdown(grid)
    assert "| tpe (peer) | - | " in table and "Ours only:" in table and "With the peers:" in table


def test_transfer_is_the_welch_test_on_the_other_datasets_tests_of_the_same_cells(tmp_path) -> None:
    config = GridConfig(algorithms=("rs", "ls", "tpe"), protocols=("mean",), budgets=(15,),
                        datasets=("cifar10", "cifar100"), runs=5)
    grid = run_grid(config, out=tmp_path, figures=False)
    records = load_records(tmp_path / "mean-cifar10-15" / "runs.jsonl")
    transfer = grid["cells"]["mean/cifar10/15"]["transfer"]
    assert set(transfer) == {"cifar100_test_200", "imagenet16_test_200"}
    for metric, versus in transfer.items():
        column = TABLE.column(metric)
        finals = {a: column[[r.selected[-1] for r in records if r.algorithm == a]] for a in config.algorithms}
        assert versus == ours_vs_peers(finals)
    assert set(grid["cells"]["mean/cifar100/15"]["transfer"]) == {"cifar10_test_200", "imagenet16_test_200"}
    table = grid_markdown(grid, metric="cifar100_test_200").splitlines()
    assert len(table) == 3 and table[2].startswith("| mean/cifar10/15 |")  # the CIFAR-100-searched cell is left out
    versus = transfer["cifar100_test_200"]
    assert f"{versus['our_best']} vs {versus['best_peer']}: {versus['difference']:+.3f}" in table[2]


def test_grid_refuses_bad_restrictions_before_running() -> None:
    with pytest.raises(UsageError, match="cells outside the grid"):
        GridConfig(algorithms=("rs",), cells_for={"rs": ("mean/cifar10/77",)}).checked()
    with pytest.raises(UsageError, match="not in the grid"):
        GridConfig(algorithms=("rs",), runs_for={"tpe": 3}).checked()
    with pytest.raises(UsageError, match="unknown protocol"):
        GridConfig(algorithms=("rs",), protocols=("mean", "valid90")).checked()


def test_na_harness_is_the_thesis_protocol_over_any_inner_strategy(tmp_path) -> None:
    config = NAConfig(inner=("rs", "re"), signals=("valid_200",), criteria=("median",), centers=4, n_nbr=5, runs=2)
    bench = config.checked().bench("valid_200", "median")
    assert bench.budget == 20 and bench.algorithms == ("na-rs", "na-re", "rs", "re")
    assert bench.options["na-rs"] == {"n_nbr": 4, "distance": 1, "criterion": "median"}  # 5 cells incl. center
    result = run_na(config, out=tmp_path)
    rows = {r["inner"]: r for r in result["rows"]}
    assert set(rows) == {"rs", "re"} and all(r["evaluations"] == 20 for r in rows.values())
    assert (tmp_path / "na_summary.json").is_file()
    with pytest.raises(UsageError, match="without 'na-'"):
        NAConfig(inner=("na-rs",)).checked()


def test_cli_grid_and_na_one_line_errors(capsys) -> None:
    for argv, message in [
        (["bench", "nb201-grid", "--algorithms", "rs", "--budgets", "10,x"], "is not a positive integer"),
        (["bench", "nb201-grid", "--algorithms", "rs", "--runs-for", "rs"], "expected NAME=VALUE"),
        (["bench", "nb201-grid", "--algorithms", "rs,nope"], "unknown search algorithm 'nope'"),
        (["bench", "nb201-na", "--signals", "valid_90"], "unknown signal"),
        (["bench", "nb201", "--ops", "none", "--runs", "1"], "at least two ops"),
        (["bench", "nb201", "--protocol", "valid12", "--dataset", "mnist"], "unknown NAS-Bench-201 dataset"),
    ]:
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err


@pytest.mark.parametrize("warp", WARPS)
def test_space_gp_posterior_equals_the_dense_formula(warp: str) -> None:
    """Incremental posterior over every point == the textbook GP computed densely (and after a refit),
    on the raw values or on the normal scores of their ranks."""
    rng = np.random.default_rng(1)
    points = rng.integers(0, 4, size=(120, 6))
    gp = SpaceGP(points, kernel="matern52", ard=True, weight=0.4, noise=0.05, warp=warp)
    rows = rng.choice(120, 25, replace=False)
    values = rng.normal(size=25) + points[rows, 0]
    values[:3] += 40.0  # a few very bad points, as broken cells are on NB201
    for row, value in zip(rows, values, strict=True):
        gp.add(int(row), float(value))
    # the copula scores by hand: rank r of 25 (1 = lowest) -> Phi^-1((r - 1/2) / 25)
    target = values if warp == "none" else stats.norm.ppf((np.argsort(np.argsort(values)) + 0.5) / 25)
    for _ in range(2):
        mismatch = (points[:, None, :] != points[None, :, :]) @ gp.weights
        k = kernel_of(mismatch, "matern52")
        y = (target - target.mean()) / target.std()
        assert gp.standardize(float(values.min())) == pytest.approx(y.min())
        gram = k[np.ix_(rows, rows)] + gp.noise * np.eye(25)
        alpha = np.linalg.solve(gram, y)
        amplitude = y @ alpha / 25
        mean = k[:, rows] @ alpha
        var = amplitude * (1.0 - np.einsum("ij,ji->i", k[:, rows], np.linalg.solve(gram, k[rows, :])))
        got_mean, got_std = gp.posterior()
        assert np.allclose(got_mean, mean, atol=1e-8)
        assert np.allclose(got_std**2, np.maximum(var, 1e-12 * amplitude), atol=1e-8)
        gp.fit_hyperparameters()


def test_iso_bo_never_spends_an_evaluation_on_an_isomorph() -> None:
    space = NB201Space(ops=("none", "skip_connect", "nor_conv_3x3"))
    strategy = make_strategy("iso-bo", space, 0, n_init=5, probe_at=0)  # no noise probes (tests/test_iso_bo_noise.py)
    classes = isomorphism_class_ids()
    valid = TABLE.column("cifar10_valid_200")
    seen = []
    from archspace.search.base import SearchExhausted

    for _ in range(1000):
        try:
            arch = strategy.ask()
        except SearchExhausted:
            break
        index = benchmark_index_of(arch)
        seen.append(int(classes[index]))
        strategy.tell(arch, Result(objective=float(100 - valid[index])))
    assert len(seen) == len(set(seen)) == space.num_isomorphism_classes()  # every class once, then exhausted
    assert 100 - strategy.history.best_objective == pytest.approx(valid[space.allowed_indices].max())


def test_only_finished_summarizes_an_interrupted_grid_without_running(tmp_path) -> None:
    small = GridConfig(algorithms=("rs", "re"), protocols=("mean",), budgets=(6,), datasets=("cifar10",), runs=2)
    run_grid(small, out=tmp_path, figures=False)
    bigger = GridConfig(algorithms=("rs", "re", "ls"), protocols=("mean",), budgets=(6, 9), datasets=("cifar10",),
                        runs=5)
    grid = run_grid(bigger, out=tmp_path, figures=False, only_finished=True)
    assert set(grid["cells"]) == {"mean/cifar10/6"}  # the empty cell is left out, nothing ran
    assert {n: e["runs"] for n, e in grid["cells"]["mean/cifar10/6"]["algorithms"].items()} == {"rs": 2, "re": 2}
    assert len((tmp_path / "mean-cifar10-6" / "runs.jsonl").read_text().splitlines()) == 4


@pytest.mark.parametrize("case", sorted(BEFORE_SPEEDUPS), ids=lambda c: "-".join(map(str, c)))
def test_runs_are_identical_to_those_logged_before_the_speedups(case) -> None:
    protocol, budget, algorithm, run = case
    if algorithm == "tpe":
        pytest.importorskip("optuna")
    if algorithm == "hyperopt-tpe":
        pytest.importorskip("hyperopt")
    metric, mode = protocol_metric(protocol, "cifar10")
    options = {"iso-bo": {"warp": "none"}} if algorithm == "iso-bo" else {}
    config = BenchConfig(algorithms=(algorithm,), budget=budget, runs=run + 1, search_metric=metric,
                         seed_mode=mode, options=options).checked()
    record = run_search(algorithm, run, config)
    assert (_digest(record), record.final, round(float(TEST[record.final]), 2)) == BEFORE_SPEEDUPS[case]
    assert record.cpu_seconds is not None and record.cpu_seconds > 0


def test_space_gp_kernel_lookup_is_the_direct_kernel_bit_for_bit() -> None:
    """Kernel rows from mismatch codes == kernel_of(mismatch @ weights) exactly, at any weights."""
    rng = np.random.default_rng(4)
    _, first = np.unique(isomorphism_class_ids(), return_index=True)
    points = benchmark_ops_matrix()[first]  # the 6,466 class representatives iso-bo uses
    for kernel in KERNELS:
        gp = SpaceGP(points, kernel=kernel)
        for row in rng.choice(len(points), 20, replace=False):
            gp.add(int(row), float(rng.normal()))
        for _ in range(3):
            gp.weights = np.exp(rng.uniform(np.log(1e-3), np.log(20.0), points.shape[1]))
            for i, row in enumerate(gp.rows):
                mismatch = points != points[row]
                assert np.array_equal(gp._observed_kernel(i), kernel_of(mismatch @ gp.weights, kernel))
                assert np.array_equal(gp.mismatch_counts(i), mismatch.sum(axis=1))


def test_one_pool_serves_many_comparisons_each_with_its_own_log(tmp_path) -> None:
    first = BenchConfig(algorithms=("rs", "iso-bo"), budget=12, runs=2, seed=3)
    second = BenchConfig(algorithms=("re",), budget=9, runs=3, seed=3, seed_mode="sample")
    both = run_comparisons([(first, tmp_path / "a"), (second, tmp_path / "b")], workers=2)
    for config, records in zip((first, second), both, strict=True):
        assert [_digest(r) for r in records] == [_digest(r) for r in run_comparison(config)]
    assert [len(load_records(tmp_path / d / "runs.jsonl")) for d in ("a", "b")] == [4, 3]
    again = run_comparisons([(first, tmp_path / "a"), (second, tmp_path / "b")])  # resumed: nothing re-run
    assert [[_digest(r) for r in rs] for rs in again] == [[_digest(r) for r in rs] for rs in both]
    assert len(load_records(tmp_path / "a" / "runs.jsonl")) == 4
