"""A resumed study refuses, before anything runs, a strategy built with other arguments."""

from __future__ import annotations

import pytest

from archspace.errors import UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.search.evolution import RegularizedEvolution
from archspace.search.population import PopulationStrategy
from archspace.spaces.nb201 import NB201Space
from archspace.study import Study
from archspace.study.evaluator_spec import describe_evaluator
from archspace.study.study import strategy_spec
from archspace.study.study_store import StudyStore


def _evolution(population_size: int = 10) -> RegularizedEvolution:
    return RegularizedEvolution(NB201Space(), seed=0, population_size=population_size, sample_size=3)


def test_other_strategy_arguments_are_refused_by_name_before_any_trial(tmp_path) -> None:
    study = Study.create("evo", tmp_path / "s.db")
    study.optimize(_evolution(10), NB201Benchmark(), 12)
    before = study.trials_dataframe()
    stored = study.stored_strategy()
    with pytest.raises(UsageError, match=r"study 'evo''s strategy .*population_size: stored 10, given 5"):
        study.optimize(_evolution(5), NB201Benchmark(), 20)
    # nothing ran and nothing was stored: the same trials, the same strategy description
    assert study.trials_dataframe().equals(before)
    assert study.stored_strategy() == stored and study.summary().n_trials == 12
    # the same arguments resume
    assert study.optimize(_evolution(10), NB201Benchmark(), 20).finished == 20


def test_a_population_may_grow_but_not_change_its_regime(tmp_path) -> None:
    from archspace.spaces.base import Regime

    cx = {"resolution": 32, "num_classes": 10}
    study = Study.create("pop", tmp_path / "s.db")
    study.optimize(PopulationStrategy(NB201Space(), 5, Regime(params=(0.3e6, 1e6)), complexity_kwargs=cx),
                   NB201Benchmark(), 5)
    grown = PopulationStrategy(NB201Space(), 8, Regime(params=(0.3e6, 1e6)), complexity_kwargs=cx)
    assert study.optimize(grown, NB201Benchmark(), 8).finished == 8
    with pytest.raises(UsageError, match="regime"):
        study.optimize(PopulationStrategy(NB201Space(), 9, Regime(params=(0.2e6, 1e6)), complexity_kwargs=cx),
                       NB201Benchmark(), 9)


def test_studies_stored_without_a_strategy_config_still_resume(tmp_path) -> None:
    """Older versions stored only the class (or a config with fewer settings): accepted."""
    study = Study.create("old", tmp_path / "s.db")
    study.optimize(_evolution(10), NB201Benchmark(), 4)
    store = StudyStore(study.storage)
    evaluator = describe_evaluator(NB201Benchmark())
    spec = strategy_spec(_evolution(10))
    for old in ({"class": spec["class"]}, {"class": spec["class"], "config": {"population_size": 10}}):
        store.record_run(study.study_id, old, evaluator, 4, check=lambda stored: None)
        assert study.optimize(_evolution(10), NB201Benchmark(), 4).finished == 4
    store.record_run(study.study_id, {"class": spec["class"], "config": {"population_size": 10}}, evaluator, 4,
                     check=lambda stored: None)
    with pytest.raises(UsageError, match="population_size"):
        study.optimize(_evolution(7), NB201Benchmark(), 6)
