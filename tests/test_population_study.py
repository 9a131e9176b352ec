"""``archspace.experiments.population``: the population-study workflow called from Python.

Resume policy (left-out settings from the stored study, given ones must match, n may grow),
the small-input stem policy, the per-dataset input table, and that rejected runs create nothing.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from archspace.cli import study_cmd
from archspace.data import DATASETS
from archspace.data.inputs import DATASET_INPUTS, dataset_input, known_input
from archspace.errors import UsageError
from archspace.experiments.population import (
    EVALUATOR_KINDS,
    PopulationStudyConfig,
    plan_population_study,
    resolve_config,
    run_population_study,
    with_stem,
)
from archspace.spaces.nb201 import NB201Space
from archspace.study import Storage, Study

NB201 = {"space": "nb201", "evaluator": "nb201", "dataset": "cifar10"}


def test_run_resume_and_grow_from_python(tmp_path) -> None:
    db = tmp_path / "s.db"
    summary = run_population_study(PopulationStudyConfig("pop", n=20, params=(0.5e6, 1e6), **NB201), db)
    assert (summary.finished, summary.counts["complete"], summary.n_trials) == (20, 20, 20)
    study = Study.load("pop", db)
    assert study.config["space"] == "nb201" and study.config["params"] == [0.5e6, 1e6]
    assert study.config["seed"] == 0 and study.config["stem"] is None
    first = study.trials_dataframe()
    # resuming needs only the name; a larger n grows the same population and is stored
    grown = run_population_study(PopulationStudyConfig("pop", n=30), str(db))
    assert grown.finished == 30 and Study.load("pop", db).config["n"] == 30
    after = Study.load("pop", db).trials_dataframe()
    assert after["arch_hash"].is_unique and after["params"].between(0.5e6, 1e6).all()
    assert after["arch_hash"].head(20).tolist() == first["arch_hash"].tolist()
    # the same settings given again are accepted; running to the same n does nothing new
    assert run_population_study(PopulationStudyConfig("pop", n=30, params="500k:1M", **NB201), db).finished == 30


def test_a_resume_with_other_settings_is_refused_naming_them(tmp_path) -> None:
    db = tmp_path / "s.db"
    run_population_study(PopulationStudyConfig("pop", n=5, **NB201), db)
    with pytest.raises(UsageError, match=r"study 'pop' was created with different settings \(seed: stored 0, given 1"):
        run_population_study(PopulationStudyConfig("pop", seed=1), db)
    with pytest.raises(UsageError, match="space: stored 'nb201', given 'regnetx'"):
        run_population_study(PopulationStudyConfig("pop", space="regnetx", n=9), db)
    with pytest.raises(UsageError, match="not shrink"):
        run_population_study(PopulationStudyConfig("pop", n=4), db)
    assert len(Study.load("pop", db).trials_dataframe()) == 5
    Study.create("foreign", db, config={"kind": "something else"})
    with pytest.raises(UsageError, match="not created as a population study"):
        run_population_study(PopulationStudyConfig("foreign", n=3), db)


def test_rejected_new_studies_create_nothing(tmp_path) -> None:
    db = tmp_path / "s.db"
    for config, message in [
        (PopulationStudyConfig("x", n=3), "space is required"),
        (PopulationStudyConfig("x", space="nb201"), "n .* is required"),
        (PopulationStudyConfig("x", space="nb201", n=0, evaluator="nb201"), "n must be >= 1"),
        (PopulationStudyConfig("x", space="regnetx", n=3, evaluator="nb201"), "needs space 'nb201'"),
        (PopulationStudyConfig("x", n=3, **{**NB201, "dataset": "svhn"}), "unknown NAS-Bench-201 dataset"),
        (PopulationStudyConfig("x", n=3, params=(1, 10), **NB201), "widen the regime"),
        (PopulationStudyConfig("x", space="nb201", n=3, evaluator="complexity", stem="res_stem_cifar"),
         "stem applies to AnyNet/RegNet"),
    ]:
        with pytest.raises(UsageError, match=message):
            run_population_study(config, db)
    assert not db.exists()
    with pytest.raises(UsageError, match="evaluator must be one of"):
        PopulationStudyConfig("x", evaluator="lookup")


def test_small_inputs_get_the_cifar_stem_which_is_stored_and_built(tmp_path) -> None:
    db = tmp_path / "s.db"
    config = PopulationStudyConfig("fm", space="regnetx", n=3, flops=(1e6, 6e6), evaluator="complexity")
    run_population_study(config, db)
    study = Study.load("fm", db)
    assert (study.config["stem"], study.config["stem_width"], study.config["dataset"]) == ("res_stem_cifar", 16,
                                                                                           "fashion-mnist")
    archs = [json.loads(text) for text in study.trials_dataframe()["arch_json"]]
    assert all((a["stem"], a["stem_width"]) == ("res_stem_cifar", 16) for a in archs)
    # the evaluator costs the models with exactly the space they were sampled from
    plan = plan_population_study(resolve_config(config, None))
    assert plan.evaluator.space_options == plan.strategy.space.options()
    assert plan.evaluator.space_options["stem"] == "res_stem_cifar"
    assert study.trials_dataframe()["flops"].between(1e6, 6e6).all()
    # the policy itself: large inputs keep the space's stem, a given stem gets its default width
    base = resolve_config(PopulationStudyConfig("s", space="regnetx", n=1), None)
    assert (with_stem(base, 224).stem, with_stem(base, 224).stem_width) == ("simple_stem_in", 32)
    assert (with_stem(base, 28).stem, with_stem(base, 28).stem_width) == ("res_stem_cifar", 16)
    assert with_stem(base.replace(stem="res_stem_cifar"), 224).stem_width == 16
    with pytest.raises(UsageError, match="stem must be one of"):
        with_stem(base.replace(stem="huge"), 28)
    with pytest.raises(UsageError, match="stem_width must be >= 1"):
        with_stem(base.replace(stem_width=-1), 28)


def test_training_studies_build_specs_with_the_sampled_space() -> None:
    config = resolve_config(PopulationStudyConfig("t", space="nb201", n=2, dataset="digits", epochs=1, subset=64,
                                                  params=(0, 0.12e6)), None)
    plan = plan_population_study(config)
    assert (plan.evaluator.space, plan.evaluator.space_options) == ("nb201", NB201Space().options())
    assert (plan.evaluator.recipe.epochs, plan.evaluator.recipe.subset) == (1, 64)
    assert plan.strategy.complexity_kwargs == {"resolution": 8, "num_classes": 10, "in_channels": 1}


def test_an_open_storage_is_used_and_left_open(tmp_path) -> None:
    with Storage.open(tmp_path / "s.db") as storage:
        assert run_population_study(PopulationStudyConfig("p", n=3, **NB201), storage).finished == 3
        assert Study.load("p", storage).summary().finished == 3  # still open


def test_the_dataset_input_table() -> None:
    assert dataset_input("Fashion_MNIST") == (28, 1, 10) and dataset_input("CIFAR-100").classes == 100
    assert dataset_input("imagenet16-120") == (16, 3, 120)
    assert known_input("my_arrays.npz") is None
    with pytest.raises(UsageError, match="unknown dataset 'svhn'"):
        dataset_input("svhn")
    for name, info in DATASETS.items():  # loadable datasets take their class counts from the table
        assert DATASET_INPUTS[name].classes == info.num_classes


def test_the_cli_flags_are_the_config_fields() -> None:
    assert study_cmd.EVALUATORS == EVALUATOR_KINDS
    fields = {f.name for f in dataclasses.fields(PopulationStudyConfig)} - {"name"}
    assert set(study_cmd.CONFIG_FLAGS) == fields
