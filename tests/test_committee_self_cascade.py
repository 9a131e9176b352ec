"""Self-cascade: one model trained once with the trainer, evaluated at two input resolutions."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.committee.cascade import Cascade, evaluate_cascade
from archspace.committee.self_cascade import resize_images, self_cascade_pools
from archspace.data.sources import load_dataset
from archspace.errors import UsageError
from archspace.spaces.zoo import get_model
from archspace.train import Recipe


@pytest.fixture(scope="module")
def pools():
    dataset = load_dataset("digits", augment=False)
    return self_cascade_pools(get_model("anynetx_tiny"), dataset, resolutions=(4, 8),
                              recipe=Recipe(epochs=6, lr=0.1), seed=0, name="tiny")


def test_members_costs_and_predictions(pools):
    heldout, test = pools.heldout, pools.test
    assert heldout.names == test.names == ("tiny@4", "tiny@8")
    assert heldout.num_examples == 287 and test.num_examples == 359
    low, full = heldout.costs
    assert 0 < low < full  # analytic flops grow with resolution
    native = pools.training.test_logits.astype(np.float32).argmax(axis=1)
    assert np.mean(native == test.logits[1].argmax(axis=1)) > 0.99  # same model, same images
    assert test.accuracies()[1] > 0.6


def test_self_cascade_interpolates_between_resolutions(pools):
    cascade = Cascade(("tiny@4", "tiny@8"), (0.6,))
    result = evaluate_cascade(pools.test, cascade)
    low, full = pools.test.costs
    assert low <= result.average_cost <= low + full
    assert result.exit_ratio.sum() == pytest.approx(1.0)


def test_resize_and_bad_resolutions():
    import torch

    images = torch.rand(3, 1, 8, 8)
    assert tuple(resize_images(images, 4).shape) == (3, 1, 4, 4)
    assert resize_images(images, 8) is images
    with pytest.raises(UsageError, match="distinct positive"):
        self_cascade_pools(get_model("anynetx_tiny"), load_dataset("digits"), resolutions=(8, 8))
