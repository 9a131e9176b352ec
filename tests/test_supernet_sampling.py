"""Path samplers: strict fairness, op masks, determinism by (seed, step)."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.errors import UsageError
from archspace.families.nb201.table import OPS
from archspace.train.supernet import FairSampler, UniformSampler, make_sampler


@pytest.mark.parametrize("ops", [OPS, ("skip_connect", "nor_conv_1x1", "nor_conv_3x3"), ("none", "avg_pool_3x3")])
def test_fair_sampler_uses_every_op_exactly_once_per_window(ops):
    sampler = FairSampler(ops, units=6, seed=3)
    allowed = sorted(OPS.index(op) for op in ops)
    for step in range(20):
        paths = sampler.draw(step)  # one update = |O| paths
        assert paths.shape == (len(ops), 6, 6)
        assert (np.sort(paths, axis=0) == np.array(allowed)[:, None, None]).all()
    # the flattened sequence of sub-steps: every window of |O| starting at a multiple of |O|
    sequence = np.concatenate([sampler.draw(s) for s in range(10)])
    for start in range(0, len(sequence), len(ops)):
        window = sequence[start:start + len(ops)]
        assert (np.sort(window, axis=0) == np.array(allowed)[:, None, None]).all()


def test_masked_ops_are_never_sampled():
    ops = ("skip_connect", "nor_conv_3x3")
    for sampler in (UniformSampler(ops, 1, 0), FairSampler(ops, 6, 0)):
        drawn = np.concatenate([sampler.draw(s).ravel() for s in range(300)])
        assert set(drawn.tolist()) == {OPS.index("skip_connect"), OPS.index("nor_conv_3x3")}


def test_uniform_sampler_is_uniform_and_deterministic():
    sampler = UniformSampler(OPS, 1, seed=7)
    assert sampler.draw(5).shape == (1, 1, 6)
    assert (sampler.draw(5) == UniformSampler(OPS, 1, seed=7).draw(5)).all()
    assert not all((sampler.draw(s) == sampler.draw(s + 1)).all() for s in range(5))
    counts = np.bincount(np.concatenate([sampler.draw(s).ravel() for s in range(2000)]), minlength=5)
    assert counts.min() > 0.9 * 2400 and counts.max() < 1.1 * 2400


def test_make_sampler_rejects_unknown():
    with pytest.raises(UsageError, match="sampler"):
        make_sampler("greedy", OPS, 1, 0)
    assert make_sampler("fair", OPS, 1, 0).paths_per_step == 5
