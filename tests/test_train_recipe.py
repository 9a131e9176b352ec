"""Recipe defaults, validation, YAML round-trip, and the learning-rate schedule."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from archspace.errors import UsageError
from archspace.train import Recipe
from archspace.train.schedule import cosine_lr


def test_defaults_are_the_regnet_low_epoch_setting() -> None:
    recipe = Recipe()
    assert (recipe.epochs, recipe.batch_size, recipe.lr, recipe.momentum, recipe.weight_decay) == (
        10, 128, 0.05, 0.9, 5e-5)
    assert not recipe.nesterov and recipe.label_smoothing == 0 and recipe.grad_clip is None


def test_yaml_round_trip(tmp_path: Path) -> None:
    recipe = Recipe(epochs=3, lr=0.1, nesterov=True, label_smoothing=0.1, warmup_epochs=0.5,
                    grad_clip=5.0, no_wd_on_bn_bias=True, subset=1000, time_budget_s=60.0, amp="bf16")
    path = tmp_path / "recipe.yaml"
    recipe.save(path)
    assert Recipe.load(path) == recipe
    assert Recipe.from_yaml("epochs: 2\nlr: 1\n") == Recipe(epochs=2, lr=1.0)
    assert Recipe.from_yaml("") == Recipe()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epochs: 0", "epochs=0 is invalid"),
        ("lr: -1", "lr=-1.0 is invalid"),
        ("momentum: 1.5", "momentum=1.5"),
        ("batchsize: 64", r"unknown recipe field\(s\) \['batchsize'\]"),
        ("nesterov: 1", "nesterov must be true or false"),
        ("epochs: 2.5", "epochs must be an integer"),
        ("amp: fp8", "amp='fp8' is invalid"),
        ("lr: [1, 2]", "lr must be a number"),
        ("- 1", "must be a mapping"),
        ("epochs: [", "not valid YAML"),
    ],
)
def test_invalid_recipes_name_the_field(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Recipe.from_yaml(text)


def test_replace_validates() -> None:
    assert Recipe().replace(epochs=4).epochs == 4
    with pytest.raises(UsageError, match="kd_weight"):
        Recipe().replace(kd_weight=2.0)
    with pytest.raises(UsageError, match="unknown recipe field"):
        Recipe().replace(learning_rate=0.1)


def test_cosine_schedule_with_warmup() -> None:
    assert cosine_lr(0.05, 0.0) == pytest.approx(0.05)
    assert cosine_lr(0.05, 0.5) == pytest.approx(0.025)
    assert cosine_lr(0.05, 1.0) == pytest.approx(0.0, abs=1e-12)
    assert cosine_lr(1.0, 0.0, warmup_fraction=0.2, warmup_factor=0.1) == pytest.approx(0.1)
    halfway = 0.5 * (1 + math.cos(math.pi * 0.1)) * (0.1 * 0.5 + 0.5)
    assert cosine_lr(1.0, 0.1, warmup_fraction=0.2, warmup_factor=0.1) == pytest.approx(halfway)
    assert cosine_lr(1.0, 0.3, warmup_fraction=0.2) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.3)))
