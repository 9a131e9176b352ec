"""The compression reward (thesis eq. 2.2) and the distillation losses, on known numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from archspace.compress.distill import DistillConfig, student_loss
from archspace.compress.reward import compression, reward
from archspace.errors import UsageError


def test_reward_known_values():
    assert reward(90.0, 1000, 90.0, 1000) == 0.0  # the identity: C = 0
    assert reward(90.0, 500, 90.0, 1000) == pytest.approx(0.75)  # C = 1/2: C (2 - C) = 3/4
    assert reward(45.0, 250, 90.0, 1000) == pytest.approx(0.5 * 0.9375)  # C = 3/4, half the accuracy
    assert compression(250, 1000) == pytest.approx(0.75)
    values = reward(np.array([90.0, 90.0]), np.array([100, 900]), 90.0, 1000)
    assert values == pytest.approx([0.99, 0.19])


def test_reward_rewards_size_less_as_it_shrinks():
    params = np.arange(1, 1001)
    f = reward(80.0, params, 80.0, 1000)
    assert np.all(np.diff(f) < 0)  # smaller is better at equal accuracy
    assert f[0] == pytest.approx(1 - 1e-6)  # bounded by 1 at the teacher's accuracy


def test_the_two_distillation_losses():
    torch.manual_seed(0)
    student, teacher = torch.randn(8, 10), torch.randn(8, 10)
    labels = torch.randint(0, 10, (8,))
    mse = student_loss(student, teacher, labels, DistillConfig(loss="mse", kd_weight=1.0))
    assert torch.isclose(mse, F.mse_loss(student, teacher))
    kl = student_loss(student, teacher, labels, DistillConfig(loss="kl", kd_weight=1.0, temperature=2.0))
    expected = 4.0 * F.kl_div(F.log_softmax(student / 2, 1), F.softmax(teacher / 2, 1), reduction="batchmean")
    assert torch.isclose(kl, expected, atol=1e-6)
    same = student_loss(student, student, labels, DistillConfig(loss="kl", kd_weight=1.0))
    assert float(same) == pytest.approx(0.0, abs=1e-6)
    ce = student_loss(student, teacher, labels, DistillConfig(loss="ce"))
    assert torch.isclose(ce, F.cross_entropy(student, labels))


@pytest.mark.parametrize("fields", [{"loss": "l1"}, {"epochs": 0}, {"kd_weight": 1.5}, {"temperature": 0}])
def test_bad_distillation_settings(fields):
    with pytest.raises(UsageError):
        DistillConfig(**fields)
