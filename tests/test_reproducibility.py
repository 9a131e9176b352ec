"""One small training study, run every way a study can run, gives bit-identical objectives.

The study (4 NB201 cells trained 1 epoch on 100 sklearn-digits images) is evaluated inline with the
driver holding 2 torch threads (the setting that used to change the numbers), on 1 and 2 local
worker processes, and interrupted mid-run (as Ctrl-C does) then resumed inline with its options
left out; ``tests/test_study_ray.py`` runs the same study on Ray (one Ray start-up for both checks).
Every stored objective must be equal, exactly, to the inline one.
"""

from __future__ import annotations

import pytest
import torch

from archspace.experiments.population import PopulationStudyConfig, run_population_study
from archspace.study import InlineExecutor, LocalProcessExecutor, Study
from archspace.study.progress import StudyProgress

N = 4
CONFIG = PopulationStudyConfig("r", space="nb201", dataset="digits", epochs=1, subset=100, n=N, seed=3)


def objectives_by_arch(db, name="r"):
    trials = Study.load(name, db).trials()
    assert len(trials) == N and all(t.state == "complete" for t in trials)
    return {t.arch_hash: t.objective for t in trials}


class _StopAfterFirst:
    """A progress reporter that presses Ctrl-C as soon as the first trial is recorded."""

    def start(self, state: StudyProgress) -> None:
        pass

    def update(self, state: StudyProgress) -> None:
        if state.done >= 1:
            raise KeyboardInterrupt

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def inline(tmp_path_factory):
    db = tmp_path_factory.mktemp("inline") / "s.db"
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        run_population_study(CONFIG, db, executor=InlineExecutor())
        assert torch.get_num_threads() == 2  # the driver's own setting is restored after each trial
    finally:
        torch.set_num_threads(before)
    return db


def test_settings_that_decide_the_numbers_are_stored_with_each_trial(inline):
    study = Study.load("r", inline)
    assert study.config["threads"] == 1
    for trial in study.trials():
        numerics = trial.info["numerics"]
        assert numerics["threads"] == 1 and numerics["deterministic"] is False
        assert numerics["seed"] == trial.seed and numerics["torch"] == torch.__version__


def test_one_local_worker_matches_inline(inline, tmp_path):
    db = tmp_path / "w.db"
    run_population_study(CONFIG, db, executor=LocalProcessExecutor(1))
    assert objectives_by_arch(db) == objectives_by_arch(inline)


def test_two_workers_interrupted_then_resumed_inline_with_options_left_out_match_inline(inline, tmp_path):
    db = tmp_path / "i.db"
    with pytest.raises(KeyboardInterrupt):
        run_population_study(CONFIG, db, executor=LocalProcessExecutor(2), progress=_StopAfterFirst())
    study = Study.load("r", db)
    counts = study.counts()
    assert 1 <= counts["complete"] < N and counts["interrupted"] >= 1
    on_workers = {t.arch_hash: t.objective for t in study.trials(("complete",))}
    run_population_study(PopulationStudyConfig("r"), db, executor=InlineExecutor())  # the README's resume
    resumed = objectives_by_arch(db)
    assert resumed == objectives_by_arch(inline)
    assert all(resumed[h] == value for h, value in on_workers.items())  # nothing re-evaluated


def test_a_changed_thread_count_is_refused_on_resume(inline):
    from archspace.errors import UsageError

    with pytest.raises(UsageError, match="threads"):
        run_population_study(PopulationStudyConfig("r", threads=2), inline)
