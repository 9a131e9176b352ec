"""The public contract checks run over every registered space, strategy and evaluator."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.checks import ContractError, check_evaluator, check_space, check_strategy
from archspace.errors import UsageError
from archspace.evaluators.registry import EVALUATORS
from archspace.search.fixed import FixedList
from archspace.search.population import PopulationStrategy
from archspace.search.registry import STRATEGIES, make_strategy, search_names, strategy_metadata
from archspace.spaces.base import Regime
from archspace.spaces.registry import SPACES, get_space


@pytest.mark.parametrize("name", SPACES.names())
def test_every_registered_space(name):
    space = get_space(name)
    report = check_space(space, n=12, build=name == "nb201", input_spec={"resolution": 32, "num_classes": 10})
    assert report["samples"] == 24


def test_space_options_rebuild_the_network():
    space = get_space("nb201", ops=["skip_connect", "nor_conv_3x3"], channels=8, cells_per_stage=1)
    check_space(space, n=6, build=True)
    small_stem = get_space("regnetx", stem="res_stem_cifar", stem_width=16)
    assert small_stem.options()["stem"] == "res_stem_cifar"
    check_space(small_stem, n=6, input_spec={"resolution": 28, "num_classes": 10, "in_channels": 1})


@pytest.mark.parametrize("name", search_names())
def test_every_registered_strategy(name):
    if strategy_metadata(name)["requires"]:
        for package in strategy_metadata(name)["requires"]:
            pytest.importorskip(package)
    base = name.removeprefix("na-")
    options = {"bo-learned": {"n_kernels": 2, "n_init": 4}, "bo": {"n_init": 4}, "gp-bandit": {"n_init": 4}}.get(base, {})
    steps = 8 if strategy_metadata(name)["model_based"] else 15
    space = get_space("teacher", teacher="resnet8", resolution=16) if base == "tpe-ops" else get_space("nb201")
    report = check_strategy(lambda space, seed: make_strategy(name, space, seed, **options), space, steps)
    assert report["asks"] == steps


def test_workflow_strategies_pass_too():
    space = get_space("anynetx_e")
    check_strategy(lambda s, seed: PopulationStrategy(s, 6, Regime(flops=(100e6, 800e6)), seed=seed), space, 6)
    cells = get_space("nb201").sample_batch(np.random.default_rng(0), 4)
    check_strategy(lambda s, seed: FixedList(cells, repeats=2), get_space("nb201"), 8)


@pytest.mark.parametrize("name", ["re", "ls", "bo", "na-rs"])
def test_a_space_without_a_needed_capability_is_refused_by_name(name):
    needed = strategy_metadata(name)["needs"]
    assert needed
    with pytest.raises(UsageError, match=needed[0]):
        make_strategy(name, get_space("regnetx"), 0)  # RegNet defines no neighbors/mutate/encode


def test_bo_with_an_evolutionary_acquisition_needs_mutate():
    with pytest.raises(UsageError, match="mutate"):
        make_strategy("bo-learned", get_space("regnetx"), 0, optimizer="evolution")


def test_strategy_configs_keep_every_constructor_argument():
    tpe_config = None
    if "tpe" in STRATEGIES and all(__import__("importlib").util.find_spec(p) for p in strategy_metadata("tpe")["requires"]):
        tpe_config = make_strategy("tpe", get_space("nb201"), 0, n_startup_trials=3, multivariate=True).config()
        assert tpe_config["n_startup_trials"] == 3 and tpe_config["multivariate"] is True
    config = make_strategy("bo", get_space("nb201"), 0, n_init=3, refit_every=2).config()
    assert config["n_init"] == 3 and config["refit_every"] == 2 and config["optimizer"] == "random"
    assert make_strategy("na-re", get_space("nb201"), 0, n_nbr=2, population_size=5).config() == {
        "name": "na-re", "n_nbr": 2, "distance": 1, "criterion": "mean", "lam": 1.0, "max_inner_asks": 10_000,
        "inner": {"name": "re", "population_size": 5, "sample_size": 3, "distinct": True, "max_retries": 20}}


def _evaluator(name: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    from archspace.train import Recipe

    if name == "complexity":
        return EVALUATORS.get(name)("nb201", resolution=32, num_classes=10), get_space("nb201")
    if name == "nb201":
        return EVALUATORS.get(name)(), get_space("nb201")
    if name == "train":
        recipe = Recipe(epochs=1, batch_size=64, lr=0.05, augment=False)
        space_options = {"channels": 4, "cells_per_stage": 1}
        evaluator = EVALUATORS.get(name)("digits", recipe, keep_predictions=False, space="nb201",
                                         space_options=space_options, train_subset=256)
        return evaluator, get_space("nb201", **space_options)
    if name == "supernet":
        return _supernet_evaluator(tmp_path_factory), get_space("nb201")
    if name == "measured":
        inner = EVALUATORS.get("complexity")("regnetx", resolution=32, num_classes=10)
        return EVALUATORS.get(name)(inner, batch_sizes=(1, 2), repeats=3, max_seconds=0.2), get_space("regnetx")
    if name == "compress":
        return _compress_evaluator(tmp_path_factory)
    raise AssertionError(f"add a cheap configuration of evaluator {name!r} to this test")


def _compress_evaluator(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    from archspace.compress.distill import DistillConfig
    from archspace.compress.setup import CompressionSetup

    teacher = [{"kind": "conv", "width": 4, "kernel": 3, "relu": True}, {"kind": "conv", "width": 4, "kernel": 3},
               {"kind": "global_pool"}, {"kind": "linear"}]
    setup = CompressionSetup(teacher=teacher, dataset="digits", train_subset=128, val_size=64,
                             teacher_training=DistillConfig(epochs=1, loss="ce", batch_size=64),
                             cache_dir=str(tmp_path_factory.mktemp("teachers")))
    evaluator = EVALUATORS.get("compress")(setup, DistillConfig(epochs=1, batch_size=64))
    return evaluator, evaluator.space()


def _supernet_evaluator(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    from archspace.data import load_dataset
    from archspace.evaluators.supernet import SupernetEvaluator
    from archspace.families.nb201.supernet import SupernetConfig
    from archspace.train.supernet import SPOSRecipe, train_supernet

    path = tmp_path_factory.mktemp("supernet") / "digits.pt"
    data = load_dataset("digits", seed=0)
    train_supernet(SupernetConfig(cells_per_stage=1, channels=4), data, SPOSRecipe(epochs=1, batch_size=128),
                   seed=0, checkpoint=path)
    return SupernetEvaluator(path, "digits", eval_images=100, bn_batches=1, bn_batch_size=64)


@pytest.mark.parametrize("name", EVALUATORS.names())
def test_every_registered_evaluator(name, tmp_path_factory):
    evaluator, space = _evaluator(name, tmp_path_factory)
    archs = space.sample_batch(np.random.default_rng(3), 2)
    assert check_evaluator(evaluator, archs) == {"evaluations": 2}


class Noisy:
    """An evaluator whose objective changes with every call: not deterministic per seed."""

    def __init__(self) -> None:
        self.calls = 0

    def evaluate(self, arch, seed=0):  # noqa: ANN001, ANN201
        from archspace.evaluation import Result

        self.calls += 1
        return Result(objective=float(self.calls))


def test_a_nondeterministic_evaluator_is_caught():
    with pytest.raises(ContractError, match="other objectives"):
        check_evaluator(Noisy(), get_space("nb201").sample_batch(np.random.default_rng(0), 2))


class Unseeded(FixedList):
    """A strategy whose proposals depend on how many were built before, not on the seed."""

    built = 0

    def __init__(self, archs, repeats: int = 1) -> None:  # noqa: ANN001
        Unseeded.built += 1
        shift = Unseeded.built % len(archs)
        super().__init__([*archs[shift:], *archs[:shift]], repeats)


def test_a_strategy_that_ignores_its_seed_is_caught():
    cells = get_space("nb201").sample_batch(np.random.default_rng(0), 12)
    with pytest.raises(ContractError, match="different proposals"):
        check_strategy(lambda s, seed: Unseeded(cells), get_space("nb201"), 12, replay=False)


def test_a_strategy_config_that_drops_an_argument_is_caught():
    class Forgetful(FixedList):
        def __init__(self, archs, repeats: int = 1, temperature: float = 1.0) -> None:  # noqa: ANN001
            super().__init__(archs, repeats)  # temperature is never stored

    cells = get_space("nb201").sample_batch(np.random.default_rng(0), 3)
    with pytest.raises(TypeError, match="temperature"):
        check_strategy(lambda s, seed: Forgetful(cells), get_space("nb201"), 3, replay=False)


def test_a_space_config_round_trips():
    from archspace.spaces.registry import space_config, space_from_config

    space = get_space("nb201", ops=["skip_connect", "nor_conv_3x3"], channels=8, cells_per_stage=1)
    config = space_config(space)
    assert config == {"name": "nb201", "options": {"ops": ["skip_connect", "nor_conv_3x3"], "channels": 8,
                                                   "cells_per_stage": 1}}
    rebuilt = space_from_config(config)
    cell = space.sample(0)
    assert rebuilt.options() == space.options() and rebuilt.complexity(cell) == space.complexity(cell)
    with pytest.raises(UsageError, match="a space config is"):
        space_from_config({"options": {}})
