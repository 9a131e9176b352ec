"""The trainer on tiny real and synthetic data: determinism, divergence, KD, options, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from archspace.data import Dataset, dataset_from_arrays, load_dataset
from archspace.errors import UsageError
from archspace.train import Recipe, train
from archspace.train.trainer import param_groups


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


def tiny_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )


FAST = Recipe(epochs=2, batch_size=64, lr=0.1)


def test_training_learns_digits_and_reports_everything(digits: Dataset) -> None:
    result = train(tiny_cnn(), digits, FAST, seed=0)
    assert result.status == "complete"
    assert result.val_error < 25 and result.test_error < 25  # chance is 90%
    assert result.epochs == 2 and result.steps == 2 * (1151 // 64)
    assert [s.epoch for s in result.history] == [1, 2]
    assert result.history[1].train_loss < result.history[0].train_loss
    assert result.history[-1].val_error == pytest.approx(result.val_error)
    assert result.val_logits.dtype == np.float16 and result.val_logits.shape == (287, 10)
    assert result.test_logits.shape == (359, 10) and result.test_labels.dtype == np.int64
    recomputed = 100 * np.mean(result.test_logits.astype(np.float32).argmax(1) != result.test_labels)
    assert recomputed == pytest.approx(result.test_error, abs=0.3)  # float16 rounding may flip ties
    assert result.params == sum(p.numel() for p in result.model.parameters())
    assert result.images_per_s > 0 and result.train_seconds > 0
    assert result.to_dict()["history"][0]["epoch"] == 1


def test_same_seed_gives_identical_logits_and_other_seed_differs(digits: Dataset) -> None:
    recipe = Recipe(epochs=1, batch_size=64, subset=400)
    a = train(tiny_cnn(0), digits, recipe, seed=7)
    b = train(tiny_cnn(0), digits, recipe, seed=7)
    c = train(tiny_cnn(0), digits, recipe, seed=8)
    assert np.array_equal(a.val_logits, b.val_logits) and np.array_equal(a.test_logits, b.test_logits)
    assert a.val_error == b.val_error
    assert not np.array_equal(a.val_logits, c.val_logits)  # other batch order / augmentation


def test_global_rng_state_is_restored(digits: Dataset) -> None:
    model = tiny_cnn()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    train(model, digits, Recipe(epochs=1, subset=64), seed=0)
    assert torch.equal(torch.rand(3), expected)


def test_divergence_is_a_status_not_an_exception(digits: Dataset) -> None:
    result = train(tiny_cnn(), digits, Recipe(epochs=3, lr=1e8, momentum=0.0), seed=0)
    assert result.status == "diverged"
    assert result.val_error is None and result.val_logits is None and result.predictions() is None
    assert "loss became" in result.message or "NaN" in result.message
    assert result.epochs < 3


def test_subset_time_budget_and_options(digits: Dataset) -> None:
    recipe = Recipe(epochs=500, batch_size=32, subset=96, time_budget_s=0.3, nesterov=True,
                    label_smoothing=0.1, warmup_epochs=1, grad_clip=1.0, no_wd_on_bn_bias=True,
                    eval_each_epoch=False)
    result = train(tiny_cnn(), digits, recipe, seed=0)
    assert result.status == "complete"
    assert result.train_seconds >= 0.3  # ran until the budget was spent
    assert result.epochs < 500  # stopped by the time budget
    assert result.history[-1].val_error is not None


def test_no_weight_decay_on_bn_and_bias() -> None:
    groups = param_groups(tiny_cnn(), Recipe(no_wd_on_bn_bias=True, weight_decay=1e-4))
    assert [g["weight_decay"] for g in groups] == [1e-4, 0.0]
    assert all(p.dim() > 1 for p in groups[0]["params"]) and all(p.dim() == 1 for p in groups[1]["params"])
    assert len(param_groups(tiny_cnn(), Recipe())) == 1


def test_bad_model_and_teacher_are_rejected_before_training(digits: Dataset) -> None:
    wrong_classes = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    with pytest.raises(UsageError, match=r"outputs shape \[2, 3\] but digits needs \(batch, 10\)"):
        train(wrong_classes, digits, FAST)
    wrong_input = nn.Sequential(nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(UsageError, match="cannot process digits images of shape"):
        train(wrong_input, digits, FAST)
    with pytest.raises(UsageError, match="teacher logits have shape"):
        train(tiny_cnn(), digits, FAST, teacher=torch.zeros(5, 10))
    with pytest.raises(UsageError, match="CUDA is not available|unknown device"):
        if torch.cuda.is_available():
            raise UsageError("unknown device")  # pragma: no cover - GPU machines
        train(tiny_cnn(), digits, FAST, device="cuda")
    with pytest.raises(UsageError, match="expects an architecture spec or a torch.nn.Module"):
        train("resnet", digits, FAST)  # type: ignore[arg-type]


def test_progress_callback_reports_epochs(digits: Dataset) -> None:
    events = []
    train(tiny_cnn(), digits, Recipe(epochs=2, batch_size=64, subset=256), progress=events.append, progress_every=2)
    ends = [e for e in events if e.epoch_end]
    assert [e.epoch for e in ends] == [1, 2] and all(e.val_error is not None for e in ends)
    assert any(not e.epoch_end for e in events) and all(e.steps_per_epoch == 4 for e in events)


def linear(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(16, 5))


def test_distillation_from_a_teacher_beats_noisy_labels() -> None:
    """A teacher trained on clean labels lets a student ignore 50% label noise."""
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(5, 16))

    def make(count: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(count, 1, 4, 4)).astype(np.float32)
        return x, (x.reshape(count, -1) @ weights.T).argmax(1)

    train_x, train_y = make(2000)
    test_x, test_y = make(1000)
    clean = dataset_from_arrays("clean", train_x, train_y, test_x, test_y, num_classes=5, val_size=200)
    teacher = train(linear(0), clean, Recipe(epochs=5, batch_size=64, lr=0.1), seed=0)
    assert teacher.test_error < 10

    noisy_y = train_y[:300].copy()
    corrupt = rng.random(300) < 0.5
    noisy_y[corrupt] = rng.integers(0, 5, int(corrupt.sum()))
    noisy = dataset_from_arrays("noisy", train_x[:300], noisy_y, test_x, test_y, num_classes=5, val_size=50)
    recipe = Recipe(epochs=20, batch_size=32, kd_temperature=2.0, kd_weight=0.9)
    plain = train(linear(1), noisy, recipe, seed=1)
    distilled = train(linear(1), noisy, recipe, seed=1, teacher=teacher.model)
    assert distilled.test_error < plain.test_error - 15
    # precomputed teacher logits (aligned with the training split) work the same way
    with torch.no_grad():
        logits = teacher.model.eval()(noisy.train.images)
    from_logits = train(linear(1), noisy, recipe, seed=1, teacher=logits)
    assert from_logits.test_error == pytest.approx(distilled.test_error, abs=2.0)


class GreedyNet(nn.Module):
    """Fine in eval mode (the shape check); in training asks the allocator for 4 TiB."""

    def __init__(self) -> None:
        super().__init__()
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            torch.empty(1 << 42, dtype=torch.uint8)
        return self.head(x)


def test_out_of_memory_is_a_status(digits: Dataset) -> None:
    result = train(GreedyNet(), digits, Recipe(epochs=1, subset=64))
    assert result.status == "oom" and result.message.startswith("out of memory on cpu")
    assert result.val_error is None and result.predictions() is None
    with pytest.raises(RuntimeError, match="boom"):  # other errors are not swallowed
        class Broken(GreedyNet):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if self.training:
                    raise RuntimeError("boom")
                return self.head(x)
        train(Broken(), digits, Recipe(epochs=1, subset=64))
