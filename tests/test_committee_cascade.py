"""Ensembles and cascades: the 0/1 threshold identities, costs, exits, confidences."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.committee.cascade import Cascade, evaluate_cascade
from archspace.committee.confidence import margin, max_prob, negative_entropy
from archspace.committee.ensemble import evaluate_ensemble
from archspace.committee.inputs import softmax
from archspace.errors import UsageError
from committee_pools import synthetic_pool

CONFIDENCES = ("max_prob", "margin", "entropy")


@pytest.mark.parametrize("confidence", CONFIDENCES)
@pytest.mark.parametrize("combine", ["logits", "probs"])
def test_thresholds_at_one_give_the_ensemble(confidence, combine):
    pool = synthetic_pool(examples=300)
    members = ("m1", "m3", "m0")
    result = evaluate_cascade(pool, Cascade(members, (1.0, 1.0), confidence, combine))
    ensemble = evaluate_ensemble(pool, members, combine)
    assert np.array_equal(result.predictions, ensemble.predictions)
    assert result.accuracy == ensemble.accuracy
    assert result.average_cost == result.worst_case_cost == ensemble.cost == 2 + 8 + 1
    assert result.exit_ratio.tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize("confidence", CONFIDENCES)
def test_thresholds_at_zero_give_the_first_model(confidence):
    pool = synthetic_pool(examples=300)
    result = evaluate_cascade(pool, Cascade(("m2", "m3", "m1"), (0.0, 0.0), confidence))
    first = pool.logits[2].argmax(axis=1)
    assert np.array_equal(result.predictions, first)
    assert result.average_cost == result.worst_case_cost == 4.0
    assert result.exit_ratio.tolist() == [1.0, 0.0, 0.0]


def test_ensemble_averages_logits_or_probabilities():
    pool = synthetic_pool(examples=200)
    logit_mean = pool.logits[[0, 3]].mean(axis=0).argmax(axis=1)
    prob_mean = (softmax(pool.logits[0]) + softmax(pool.logits[3])).argmax(axis=1)
    assert np.array_equal(evaluate_ensemble(pool, ["m0", "m3"]).predictions, logit_mean)
    assert np.array_equal(evaluate_ensemble(pool, ["m0", "m3"], "probs").predictions, prob_mean)


def test_cascade_exits_follow_algorithm_4():
    pool = synthetic_pool(examples=500)
    cascade = Cascade(("m0", "m3"), (0.5,))
    result = evaluate_cascade(pool, cascade)
    first = softmax(pool.logits[0])
    both = softmax((pool.logits[0] + pool.logits[3]) / 2)
    leaves = first.max(axis=1) >= 0.5
    expected = np.where(leaves, first.argmax(axis=1), both.argmax(axis=1))
    assert np.array_equal(result.predictions, expected)
    assert result.exit_ratio[0] == pytest.approx(leaves.mean())
    assert result.average_cost == pytest.approx(1 + 8 * (1 - leaves.mean()))
    assert result.worst_case_cost == 9.0
    assert result.accuracy == pytest.approx((expected == pool.labels).mean())


def test_confidences_known_values():
    probs = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    assert max_prob(probs).tolist() == pytest.approx([0.7, 1 / 3, 1.0])
    assert margin(probs).tolist() == pytest.approx([0.5, 0.0, 1.0])
    entropy = -(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1))
    assert negative_entropy(probs).tolist() == pytest.approx([1 - entropy / np.log(3), 0.0, 1.0])


def test_bad_cascades_are_rejected():
    pool = synthetic_pool()
    with pytest.raises(UsageError, match="needs 2 thresholds, got 1"):
        Cascade(("m0", "m1", "m2"), (0.5,))
    with pytest.raises(UsageError, match="unknown confidence 'sure'"):
        Cascade(("m0", "m1"), (0.5,), confidence="sure")
    with pytest.raises(UsageError, match="combine must be"):
        Cascade(("m0", "m1"), (0.5,), combine="votes")
    with pytest.raises(UsageError, match="unknown model 'zz'; the pool has m0, m1, m2, m3"):
        evaluate_cascade(pool, Cascade(("m0", "zz"), (0.5,)))


def test_real_cifar100_committees(shared_data):
    """Known numbers on the three real CIFAR-100 models (all 10,000 test images)."""
    from archspace.committee.inputs import pool_from_npz

    costs = {"lenet-5-cifar-100": 1.0, "wideresnet-16-4-cifar-100": 2.0, "densenet-bc-100-cifar-100": 3.0}
    pool = pool_from_npz(shared_data / "predictions" / "cifar100", costs=costs)
    pair = ["densenet-bc-100-cifar-100", "wideresnet-16-4-cifar-100"]
    assert evaluate_ensemble(pool, pair).accuracy == pytest.approx(0.7923)
    assert evaluate_ensemble(pool, pair, "probs").accuracy == pytest.approx(0.7842)
    result = evaluate_cascade(pool, Cascade(tuple(pair), (0.9,)))
    assert result.accuracy == pytest.approx(0.788)
    assert result.exit_ratio.tolist() == pytest.approx([0.7196, 0.2804])
    assert result.average_cost == pytest.approx(3.0 + 0.2804 * 2.0)
