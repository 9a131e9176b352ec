"""TrainingEvaluator: the Evaluator contract over the trainer, with a real AnyNet spec."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from archspace.evaluation import Evaluator
from archspace.evaluators.training import TrainingEvaluator
from archspace.families import family_for
from archspace.families.anynet.spec import AnyNetArch
from archspace.train import Recipe

SMALL = AnyNetArch.from_lists([1, 1], [16, 32], [1, 2], [1.0, 1.0], [8, 8], block="X",
                              stem="res_stem_cifar", stem_width=8)
RECIPE = Recipe(epochs=3, batch_size=32, lr=0.1, subset=512)


def test_evaluate_returns_result_with_cost_metrics_and_predictions() -> None:
    evaluator = TrainingEvaluator(dataset="digits", recipe=RECIPE)
    assert isinstance(evaluator, Evaluator)
    result = evaluator.evaluate(SMALL, seed=0)
    assert result.status == "complete"
    assert result.objective == result.metrics["val_error"] and 0 <= result.objective < 80  # chance: 90
    assert set(result.metrics) >= {"val_error", "test_error", "train_loss", "images_per_s", "epochs"}
    cx = family_for(SMALL).complexity(SMALL, resolution=8, num_classes=10, in_channels=1)
    assert result.cost["flops"] == cx.flops and result.cost["params"] == cx.params
    assert result.cost["acts"] == cx.acts and result.cost["train_seconds"] > 0
    preds = result.predictions
    assert preds["val_logits"].dtype == np.float16 and preds["val_logits"].shape == (287, 10)
    assert preds["test_labels"].shape == (359,) and preds["val_labels"].dtype == np.int64
    assert result.info["dataset"] == "digits" and result.info["recipe"]["epochs"] == 3
    again = evaluator.evaluate(SMALL, seed=0)
    assert np.array_equal(again.predictions["test_logits"], preds["test_logits"])


def test_evaluator_pickles_without_its_loaded_data() -> None:
    evaluator = TrainingEvaluator(dataset="digits", recipe=RECIPE, keep_predictions=False)
    evaluator.load()
    clone = pickle.loads(pickle.dumps(evaluator))
    assert clone._loaded is None and clone.recipe == RECIPE
    result = clone.evaluate(SMALL, seed=1)
    assert result.predictions is None and result.status == "complete"


def test_divergence_maps_to_status_diverged() -> None:
    evaluator = TrainingEvaluator(dataset="digits", recipe=Recipe(epochs=2, lr=1e9, momentum=0.0, subset=256))
    result = evaluator.evaluate(SMALL, seed=0)
    assert result.status == "diverged" and result.objective is None
    assert result.info["train_status"] == "diverged"


def test_missing_data_fails_before_training(tmp_path) -> None:
    from archspace.errors import DataError

    evaluator = TrainingEvaluator(dataset="fashion-mnist", data_dir=tmp_path / "none")
    with pytest.raises(DataError, match="none"):
        evaluator.evaluate(SMALL, seed=0)


def test_space_options_train_exactly_the_sampled_network():
    """An NB201 cell is trained at the space's C and N, not the family defaults (C=16, N=5)."""
    from archspace.families import get_family
    from archspace.families.nb201.spec import NB201Cell

    cell = NB201Cell(("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "none", "nor_conv_3x3"))
    evaluator = TrainingEvaluator("digits", Recipe(epochs=1, batch_size=64, augment=False), keep_predictions=False,
                                  space="nb201", space_options={"channels": 4, "cells_per_stage": 1},
                                  train_subset=200, test_split="val")
    result = evaluator.evaluate(cell, seed=0)
    small = get_family("nb201", channels=4, cells_per_stage=1).complexity(cell, resolution=8, num_classes=10,
                                                                          in_channels=1)
    default = get_family("nb201").complexity(cell, resolution=8, num_classes=10, in_channels=1)
    assert result.cost["params"] == small.params != default.params
    assert result.metrics["test_error"] == result.metrics["val_error"]  # test_split="val"
    rebuilt = TrainingEvaluator.from_config(evaluator.to_config())
    assert rebuilt.to_config() == evaluator.to_config() and rebuilt.evaluate(cell, 0).objective == result.objective
