"""The fast CPU path of the trainer: channels-last by rule, large no-grad eval batches, an optional
test pass, and bit-identical results for a seed within one memory format."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from archspace.data import load_dataset
from archspace.evaluators.training import TrainingEvaluator
from archspace.families import family_for
from archspace.families.anynet.spec import AnyNetArch
from archspace.train import Recipe, train
from archspace.train.trainer import (
    CPU_EVAL_ACTIVATION_BYTES,
    cpu_eval_batch,
    largest_activation_bytes,
    memory_format_for,
)

# 8x8 digits: stride-2 stem, then stages of stride 2 and 1 -> 2x2 maps at the head.
TINY = AnyNetArch.from_lists([1, 1], [8, 16], [2, 1], [1.0, 1.0], [8, 8], block="X",
                             stem="simple_stem_in", stem_width=8)
RECIPE = Recipe(epochs=2, batch_size=64, lr=0.1, subset=512)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0)


def test_memory_format_rule() -> None:
    conv = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten())
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    cpu = torch.device("cpu")
    assert memory_format_for(conv, cpu) == torch.channels_last
    assert memory_format_for(conv, cpu, wanted=False) == torch.contiguous_format
    assert memory_format_for(mlp, cpu) == torch.contiguous_format


@pytest.mark.parametrize("channels_last", [True, False])
def test_same_seed_gives_identical_results_within_a_memory_format(digits, channels_last: bool) -> None:
    recipe = RECIPE.replace(channels_last=channels_last)
    first = train(TINY, digits, recipe, seed=4)
    second = train(TINY, digits, recipe, seed=4)
    assert first.memory_format == second.memory_format == ("channels_last" if channels_last else "contiguous")
    assert first.status == "complete"
    assert np.array_equal(first.val_logits, second.val_logits)
    assert np.array_equal(first.test_logits, second.test_logits)
    assert [e.train_loss for e in first.history] == [e.train_loss for e in second.history]
    other_seed = train(TINY, digits, recipe, seed=5)
    assert not np.array_equal(first.val_logits, other_seed.val_logits)


def test_formats_agree_on_the_untrained_model(digits) -> None:
    """NHWC changes rounding only: the same weights give the same logits to ~1e-5 in both layouts."""
    torch.manual_seed(0)
    model = family_for(TINY).build(TINY, num_classes=10, in_channels=1).eval()
    images = digits.val.images[:128]
    with torch.no_grad():
        plain = model(images)
        fast = model.to(memory_format=torch.channels_last)(images.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(plain, fast, atol=1e-4, rtol=1e-4)


def test_test_split_is_evaluated_only_when_asked(digits) -> None:
    with_test = train(TINY, digits, RECIPE, seed=2)
    without = train(TINY, digits, RECIPE, seed=2, evaluate_test=False)
    assert without.test_error is None and without.test_logits is None and without.test_labels is None
    assert without.val_error == with_test.val_error
    assert np.array_equal(without.val_logits, with_test.val_logits)
    assert set(without.predictions()) == {"val_logits", "val_labels"}
    assert with_test.test_logits.shape == (len(digits.test), 10)


def test_eval_batch_size_does_not_change_the_error(digits) -> None:
    small = train(TINY, digits, RECIPE.replace(eval_batch_size=16), seed=1)
    large = train(TINY, digits, RECIPE, seed=1)  # default: the CPU rule's batch
    # same weights; batched convolutions may round differently, so at most one near-tie may flip
    assert abs(small.val_error - large.val_error) <= 100 / len(digits.val) + 1e-9
    assert np.allclose(small.val_logits.astype(np.float32), large.val_logits.astype(np.float32), atol=1e-2)


def test_logits_are_bit_identical_for_every_cpu_eval_batch_the_rule_can_pick(digits) -> None:
    """The CPU eval batch follows the model's activation size, so it must not change results."""
    runs = [train(TINY, digits, RECIPE.replace(eval_batch_size=batch), seed=3) for batch in (32, 128, 512)]
    runs.append(train(TINY, digits, RECIPE, seed=3))  # the rule's own pick
    for run in runs[1:]:
        assert np.array_equal(run.val_logits, runs[0].val_logits)
        assert np.array_equal(run.test_logits, runs[0].test_logits)


def test_largest_activation_is_the_largest_leaf_output_for_one_example() -> None:
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 14 * 14, 10))
    model.train()
    assert largest_activation_bytes(model, torch.zeros(1, 1, 28, 28)) == 8 * 28 * 28 * 4
    assert model.training  # the probe restores the mode it found


def test_cpu_eval_batch_keeps_the_largest_activation_of_a_batch_within_the_budget() -> None:
    kib = 1024
    assert cpu_eval_batch(49 * kib) == 512  # design-study models at 28x28: 24.5 MiB at 512
    assert cpu_eval_batch(int(61.25 * kib)) == 256  # deep, narrow AnyNetX_A stems
    assert cpu_eval_batch(98 * kib) == 256  # anynetx_tiny
    assert cpu_eval_batch(192 * kib) == 128  # RegNet-400MF at 64x64
    assert cpu_eval_batch(4 * CPU_EVAL_ACTIVATION_BYTES) == 32  # never below the smallest candidate
    for size in (1, 10_000, 100_000, 1_000_000):
        batch = cpu_eval_batch(size)
        assert batch * size <= CPU_EVAL_ACTIVATION_BYTES or batch == 32


def test_evaluator_skips_test_metrics_with_test_split_none(digits) -> None:
    recipe = Recipe(epochs=8, batch_size=32, lr=0.1, augment=False)
    evaluator = TrainingEvaluator(digits, recipe=recipe, test_split="none", keep_predictions=False)
    result = evaluator.evaluate(TINY, seed=0)
    assert result.status == "complete" and "test_error" not in result.metrics
    assert 0 <= result.objective < 50  # 10 classes: chance is 90%


def test_the_multi_tensor_sgd_update_is_bit_identical_to_the_per_tensor_loop(digits) -> None:
    """``schedule.sgd`` uses ``foreach=True`` for speed; the weights it produces must equal, bit for
    bit, those of torch's per-tensor loop on the same steps (weight decay, momentum, nesterov)."""
    from archspace.train.schedule import decay_groups, sgd

    images = torch.as_tensor(digits.train.images[:128]).float()
    labels = torch.as_tensor(digits.train.labels[:128]).long()
    for nesterov in (False, True):
        models = []
        for foreach in (True, False):
            torch.manual_seed(0)
            model = family_for(TINY).build(TINY, num_classes=10, in_channels=1)
            if foreach:
                optimizer = sgd(model, lr=0.1, momentum=0.9, weight_decay=5e-4, decay_1d=False, nesterov=nesterov)
            else:
                optimizer = torch.optim.SGD(decay_groups(model, 5e-4, False), lr=0.1, momentum=0.9,
                                            nesterov=nesterov, foreach=False)
            for step in range(4):
                batch = slice(32 * step, 32 * (step + 1))
                optimizer.zero_grad()
                nn.functional.cross_entropy(model(images[batch]), labels[batch]).backward()
                optimizer.step()
            models.append(model)
        fast, loop = (m.state_dict() for m in models)
        assert fast.keys() == loop.keys()
        assert all(torch.equal(fast[k], loop[k]) for k in fast)
