"""Prediction pools: loading arrays and .npz files, and rejecting inconsistent inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archspace.committee.inputs import as_logits, pool_from_arrays, pool_from_npz, softmax
from archspace.errors import DataError, UsageError

CIFAR100_COSTS = {
    "lenet-5-cifar-100": 1.0,
    "wideresnet-16-4-cifar-100": 2.0,
    "densenet-bc-100-cifar-100": 3.0,
}


def _random_outputs(models: int = 2, examples: int = 20, classes: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"m{i}": rng.normal(size=(examples, classes)).astype(np.float32) for i in range(models)}


def test_probabilities_become_log_probabilities_and_logits_stay():
    logits = np.random.default_rng(0).normal(size=(5, 3))
    probs = softmax(logits)
    from_probs = as_logits(probs)
    assert np.allclose(softmax(from_probs.astype(np.float64)), probs, atol=1e-6)
    assert np.array_equal(as_logits(logits), logits.astype(np.float32))
    with pytest.raises(DataError, match="not probabilities"):
        as_logits(logits, kind="probs")


def test_real_cifar100_files_load_with_published_accuracies(shared_data):
    pool = pool_from_npz(shared_data / "predictions" / "cifar100", costs=CIFAR100_COSTS)
    accuracy = dict(zip(pool.names, pool.accuracies(), strict=True))
    assert pool.logits.shape == (3, 10000, 100)
    assert accuracy["lenet-5-cifar-100"] == pytest.approx(0.1246)
    assert accuracy["wideresnet-16-4-cifar-100"] == pytest.approx(0.7543)
    assert accuracy["densenet-bc-100-cifar-100"] == pytest.approx(0.7541)


def test_split_is_seeded_disjoint_and_complete():
    pool = pool_from_arrays(_random_outputs(examples=11), np.arange(11) % 4, [1.0, 2.0])
    heldout, test = pool.split(0.5, seed=3)
    again, _ = pool.split(0.5, seed=3)
    assert heldout.num_examples + test.num_examples == 11
    assert np.array_equal(heldout.logits, again.logits)
    rows = np.concatenate([heldout.logits[0], test.logits[0]])
    assert sorted(map(tuple, rows)) == sorted(map(tuple, pool.logits[0]))


def test_npz_directory_with_costs_file_and_logits_key(tmp_path):
    outputs = _random_outputs()
    labels = np.arange(20) % 4
    for name, array in outputs.items():
        np.savez(tmp_path / f"{name}.npz", logits=array, labels=labels)
    (tmp_path / "costs.json").write_text(json.dumps({"m0": 5, "m1": 7}))
    pool = pool_from_npz(tmp_path)
    assert pool.names == ("m0", "m1")
    assert pool.costs.tolist() == [5.0, 7.0]
    assert np.array_equal(pool.logits[1], outputs["m1"])


def test_cost_can_come_from_the_file(tmp_path):
    labels = np.arange(20) % 4
    np.savez(tmp_path / "a.npz", logits=_random_outputs()["m0"], labels=labels, flops=123.0)
    assert pool_from_npz(tmp_path).costs.tolist() == [123.0]


@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda o, y: ({**o, "m1": o["m1"][:, :3]}, y), DataError, "m1: predictions have shape"),
        (lambda o, y: ({**o, "m1": o["m1"][:10]}, y), DataError, "m1: predictions have shape"),
        (lambda o, y: (o, y[:5]), DataError, "5 labels for 20"),
        (lambda o, y: (o, np.full_like(y, 9)), DataError, "class indices in 0..3"),
        (lambda o, y: ({**o, "m0": np.full_like(o["m0"], np.nan)}, y), DataError, "NaN"),
        (lambda o, y: ({**o, "m0": o["m0"].astype(np.int64)}, y), DataError, "floating point"),
        (lambda o, y: (o, y.astype(float) + 0.5), DataError, "integer class indices"),
        (lambda o, y: ({}, y), UsageError, "at least one model"),
    ],
)
def test_bad_arrays_are_rejected(mutate, error, message):
    outputs, labels = mutate(_random_outputs(), np.arange(20) % 4)
    with pytest.raises(error, match=message):
        pool_from_arrays(outputs, labels, {"m0": 1.0, "m1": 2.0})


def test_bad_costs_are_rejected():
    outputs, labels = _random_outputs(), np.arange(20) % 4
    with pytest.raises(UsageError, match="no cost given for m1"):
        pool_from_arrays(outputs, labels, {"m0": 1.0})
    with pytest.raises(UsageError, match="positive finite"):
        pool_from_arrays(outputs, labels, [1.0, -2.0])


def test_bad_npz_files_are_rejected(tmp_path):
    labels = np.arange(20) % 4
    outputs = _random_outputs()
    np.savez(tmp_path / "a.npz", logits=outputs["m0"], labels=labels)
    np.savez(tmp_path / "b.npz", logits=outputs["m1"], labels=np.roll(labels, 1))
    with pytest.raises(DataError, match="disagree on 20 of 20 labels"):
        pool_from_npz(tmp_path, costs={"a": 1, "b": 1})
    np.savez(tmp_path / "b.npz", scores=outputs["m1"], labels=labels)
    with pytest.raises(DataError, match="found keys \\['labels', 'scores'\\]"):
        pool_from_npz(tmp_path, costs={"a": 1, "b": 1})
    np.savez(tmp_path / "b.npz", logits=outputs["m1"], labels=labels)
    with pytest.raises(UsageError, match="no cost for a"):
        pool_from_npz(tmp_path)
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(DataError, match="junk.npz: not a readable"):
        pool_from_npz(tmp_path, costs={"a": 1, "b": 1, "junk": 1})
    with pytest.raises(DataError, match="missing: not a directory"):
        pool_from_npz(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="contains no .npz prediction files"):
        pool_from_npz(tmp_path / "empty")
