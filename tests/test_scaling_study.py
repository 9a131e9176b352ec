"""The scaling workflow: rule analysis with bootstrap over seeds, a small end-to-end study on
digits (resumable, with measured cost and a comparison population), and the ``scale`` CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from archspace.cli import main
from archspace.errors import UsageError
from archspace.experiments.scaling import ScalingConfig, make_plan, run_scaling
from archspace.families.anynet.spec import AnyNetArch
from archspace.scaling.analysis import (
    best_rules,
    bootstrap_means,
    rule_curves,
    variant_trials,
    verdict,
)

RESNET8 = AnyNetArch.from_lists([1, 1, 1], [8, 16, 32], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=8)


def _variant(name, rule, multiplier, arch):
    return {"name": name, "rule": rule, "multiplier": multiplier, "ratio": multiplier, "arch": arch.to_dict()}


def _table(errors: dict[str, list[float]], archs: dict[str, AnyNetArch]) -> pd.DataFrame:
    rows = [{"arch": archs[name].to_json(), "error": e, "flops": 1e6 * (1 + i)}
            for i, (name, values) in enumerate(errors.items()) for e in values]
    return pd.DataFrame(rows)


ARCHS = {"base": RESNET8, "depth@2x": RESNET8.with_stages(depth=[2, 2, 2]),
         "width@2x": RESNET8.with_stages(width=[12, 24, 48])}
VARIANTS = [_variant("base", "base", 1.0, ARCHS["base"]), _variant("depth@2x", "depth", 2.0, ARCHS["depth@2x"]),
            _variant("width@2x", "width", 2.0, ARCHS["width@2x"])]


def test_a_clear_winner_has_p_best_one_and_is_not_within_noise():
    table = _table({"base": [30.0, 31.0], "depth@2x": [20.0, 21.0], "width@2x": [25.0, 26.0]}, ARCHS)
    curves, draws = rule_curves(variant_trials(table, VARIANTS), ["flops"], reps=500, seed=0)
    assert curves.set_index("variant").loc["depth@2x", "mean_error"] == 20.5
    low, high = curves.set_index("variant").loc["depth@2x", ["ci_low", "ci_high"]]
    assert 20.0 <= low <= high <= 21.0  # resampled means of two seeds lie between them
    [best] = best_rules(curves, draws)
    assert best["best_rule"] == "depth" and best["p_best"] == 1.0 and best["within_noise"] is False
    assert best["runner_up"] == "width" and best["margin"] == pytest.approx(5.0)
    assert "depth" in verdict([best]) and "beats width" in verdict([best])


def test_overlapping_seeds_are_called_within_noise():
    table = _table({"base": [30.0, 31.0], "depth@2x": [20.0, 26.0], "width@2x": [21.0, 25.0]}, ARCHS)
    curves, draws = rule_curves(variant_trials(table, VARIANTS), ["flops"], reps=2000, seed=1)
    [best] = best_rules(curves, draws)
    assert best["within_noise"] is True and 0.0 < best["p_best"] < 1.0
    assert "within noise" in verdict([best])


def test_bootstrap_means_are_vectorized_resamples():
    draws = bootstrap_means(np.array([1.0, 3.0]), 4000, np.random.default_rng(0))
    assert set(np.unique(draws)) == {1.0, 2.0, 3.0}
    assert np.mean(draws == 2.0) == pytest.approx(0.5, abs=0.03)  # P(one of each) = 1/2


def test_an_untrained_plan_is_a_data_error():
    from archspace.errors import DataError

    with pytest.raises(DataError, match="no stored trial"):
        variant_trials(pd.DataFrame({"arch": ['{"kind":"x"}'], "error": [1.0]}), VARIANTS)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scaling")
    other = folder / "other.csv"
    pd.DataFrame({"model": ["m1", "m2", "m3"], "top1_err": [60.0, 40.0, 30.0],
                  "flops": [3e5, 6e5, 2e6]}).to_csv(other, index=False)
    config = ScalingConfig(base=RESNET8.to_json(), rules=("depth", "width", "resolution"), multipliers=(2.0,),
                           dataset="digits", epochs=1, subset=256, val_size=128, batch_size=64, seeds=2,
                           latency_batch_sizes=(1, 4), latency_seconds=0.05, db=str(folder / "s.db"),
                           out=str(folder / "report"), reps=200, compare_csv=(str(other),))
    return config, run_scaling(config, progress=False)


def test_the_study_trains_every_variant_per_seed_with_measured_cost(digits_run):
    from archspace.study import Study

    config, outcome = digits_run
    archs = outcome.plan.unique_archs()
    assert len(archs) == 4  # base + one variant per rule
    frame = Study.load(config.study, config.db).trials_dataframe()
    assert len(frame) == 8 and set(frame["state"]) == {"complete"}
    assert frame["latency_ms"].notna().all() and frame["throughput"].notna().all()
    assert frame.groupby("arch_json").size().tolist() == [2, 2, 2, 2]
    summary = json.loads(outcome.summary_json.read_text())
    assert [b["multiplier"] for b in summary["best_rule_per_budget"]] == [2.0]
    assert {r["rule"] for r in summary["best_rule_per_budget"][0]["ranking"]} == {"depth", "width", "resolution"}
    assert summary["verdict"].startswith("at 2x:")
    assert {"error_vs_flops", "error_vs_latency", "achieved_ratio", "comparison_flops"} <= set(summary["figures"])
    assert summary["comparison"]["models"] == {"scaled": 8, "all": 3}
    assert outcome.report_html.read_text().count("data:image/png;base64") == len(summary["figures"])


def test_rerunning_resumes_without_training_again(digits_run):
    from archspace.experiments.scaling import stored_plan
    from archspace.study import Study

    config, outcome = digits_run
    again = run_scaling(config, progress=False)
    assert len(Study.load(config.study, config.db).trials()) == 8
    # the study holds its plan: a resumed run trains exactly the stored variants
    assert stored_plan(config).to_dict() == outcome.plan.to_dict() == again.plan.to_dict()
    with pytest.raises(UsageError, match="different settings"):
        run_scaling(config.replace(epochs=2), progress=False)


def test_a_population_trained_with_the_same_recipe_is_compared_at_equal_flops_and_cpu_latency(digits_run, tmp_path):
    """The trained population goes through the variants' own evaluator (same recipe and measurement)."""
    from archspace.experiments.scaling import (
        make_evaluator,
        population_range,
        train_population,
        write_scaling_report,
    )
    from archspace.search.population import PopulationStrategy
    from archspace.spaces.anynet import AnyNetRanges
    from archspace.spaces.base import Regime
    from archspace.spaces.registry import get_space
    from archspace.study import Study

    config, outcome = digits_run
    config = config.replace(population="anynetx_a", population_n=3, compare_csv=(), out=str(tmp_path / "r"))
    low, high = population_range(outcome.plan)
    assert (low, high) == (min(v.cost["flops"] for v in outcome.plan.variants + [outcome.plan.base]),
                           max(v.cost["flops"] for v in outcome.plan.variants + [outcome.plan.base]))
    # digits are 8x8: a 2-stage AnyNetX space (the default 4 stride-2 stages need 16x16 or more)
    space = get_space("anynetx_a", ranges=AnyNetRanges(num_stages=2, max_depth=2, max_width=32),
                      stem="res_stem_cifar", stem_width=8)
    strategy = PopulationStrategy(space, 3, Regime(flops=(low, high)), seed=0,
                                  complexity_kwargs=outcome.plan.input_spec.as_kwargs())
    name = train_population(config, outcome.plan, make_evaluator(config), progress=False, strategy=strategy)
    frame = Study.load(name, config.db).trials_dataframe()
    assert name == "scaling-population-anynetx_a" and len(frame) == 3 and set(frame["state"]) == {"complete"}
    assert frame["latency_cpu_ms"].notna().all()
    summary = json.loads(write_scaling_report(config, outcome.plan).summary_json.read_text())
    assert summary["comparison"]["models"] == {"scaled": 8, "anynetx_a": 3}
    assert summary["comparison_cpu_latency"]["models"] == {"scaled": 8, "anynetx_a": 3}
    assert {"comparison_flops", "comparison_cpu_latency"} <= set(summary["figures"])
    with pytest.raises(UsageError, match="different settings"):
        train_population(config.replace(epochs=2), outcome.plan, make_evaluator(config), progress=False,
                         strategy=strategy)


def test_a_study_stored_before_the_prehead_strategies_existed_resumes_as_stride_only(digits_run):
    from archspace.experiments.scaling import stored_plan
    from archspace.study import Study

    config, outcome = digits_run
    study = Study.load(config.study, config.db)
    current = dict(study.config)
    study.update_config({k: v for k, v in current.items() if k not in ("prehead_strategies", "upsample_mode")})
    try:
        with pytest.raises(UsageError, match="prehead_strategies: stored \\['stride'\\]"):
            stored_plan(config)  # the default now tries both strategies: not what that study did
        assert stored_plan(config.replace(prehead_strategies=("stride",))).to_dict() == outcome.plan.to_dict()
    finally:
        study.update_config(current)


def test_the_population_is_drawn_in_the_variants_flops_range_with_the_small_input_stem():
    from archspace.experiments.scaling import population_range, population_strategy

    config = ScalingConfig(base="resnet8_fmnist", rules=("depth", "width"), multipliers=(2.0, 4.0),
                           population="regnetx", population_n=6)
    plan = make_plan(config)
    low, high = population_range(plan)
    strategy = population_strategy(config, plan)
    assert len(strategy.population) == 6
    for arch in strategy.population:
        assert arch.stem == "res_stem_cifar" and arch.stem_width == 16  # 28x28: `study run`'s small-input stem
        flops = strategy.space.complexity(arch, **plan.input_spec.as_kwargs()).flops
        assert low <= flops <= high


def test_a_csv_flops_column_is_converted_by_its_unit(tmp_path):
    from archspace.experiments.scaling import load_comparison

    path = tmp_path / "timm.csv"
    pd.DataFrame({"model": ["a", "b"], "top1_err": [30.0, 20.0], "infer_gmacs": [0.2, 0.4]}).to_csv(path, index=False)
    table = load_comparison(ScalingConfig(compare_csv=(str(path),), compare_flops_unit="G"))
    assert table["flops"].tolist() == [2e8, 4e8]
    assert load_comparison(ScalingConfig(compare_csv=(str(path),)))["flops"].tolist() == [0.2, 0.4]
    with pytest.raises(UsageError, match="compare_flops_unit"):
        ScalingConfig(compare_flops_unit="T")


def test_config_checks_happen_before_any_work(tmp_path):
    with pytest.raises(UsageError, match="seeds"):
        ScalingConfig(seeds=0)
    with pytest.raises(UsageError, match="unknown scaling rule"):
        ScalingConfig(rules=("depth", "height"))
    with pytest.raises(UsageError, match="compare_db"):
        ScalingConfig(compare_studies=("a",))
    with pytest.raises(UsageError, match="comparison CSV not found"):
        run_scaling(ScalingConfig(compare_csv=(str(tmp_path / "missing.csv"),), db=str(tmp_path / "x.db")))
    assert not (tmp_path / "x.db").exists()
    plan = make_plan(ScalingConfig(base="resnet8_fmnist", rules=("prehead",), multipliers=(2.0,)))
    assert plan.variants[0].arch.strides == [1, 2, 1]


@pytest.mark.parametrize(("argv", "message"), [
    (["resnet8_fmnist", "--rules", "prehead", "--multipliers", "0.5"], "prehead cannot shrink"),
    (['{"kind":"nb201","ops":["nor_conv_3x3","nor_conv_3x3","nor_conv_3x3","nor_conv_3x3","nor_conv_3x3",'
      '"nor_conv_3x3"]}', "--rules", "width", "--dataset", "cifar10"], "does not support the nb201 family"),
    (["resnet8_fmnist", "--resolution", "6"], "below the base model's minimum 8"),
    (["resnet8_fmnist", "--multipliers", "2,x"], "--multipliers must be numbers"),
    (["resnet8_fmnist", "--cost", "params"], "do not change params"),
    (["resnet8_fmnist", "--population", "regnetx:many"], "--population takes SPACE[:N]"),
    (["resnet8_fmnist", "--population", "regnetx:1"], "population_n must be an integer >= 2"),
    (["resnet8_fmnist", "--population", "nosuchspace", "--no-measure"], "nosuchspace"),
    (["resnet8_fmnist", "--prehead", "dilate"], "prehead strategies must be one or more of stride, upsample"),
])
def test_the_cli_refuses_bad_input_in_one_line(argv, message, capsys, tmp_path):
    assert main(["scale", *argv, "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "s.db").exists()


def test_the_cli_plan_is_strict_json(capsys):
    assert main(["scale", "resnet8_fmnist", "--multipliers", "2,4,8", "--plan-only", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["cost_kind"] == "flops" and len(plan["variants"]) == 15
    assert plan["base"]["cost"]["flops"] == 2_552_010
