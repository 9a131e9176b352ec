"""AnyNetX A..E and RegNet spaces: sizes, sampling, constraints, determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from archspace.errors import InvalidArchitecture, UsageError
from archspace.spaces.anynet_cost import anynet_complexity, anynet_complexity_many
from archspace.spaces.anynet_space import anynet_design_space
from archspace.spaces.base import Regime
from archspace.spaces.registry import get_space
from archspace.spaces.regnet import RegNetSpace, quantized_widths

# The paper's Table 1: dimension and (approximate) size of each design space.
TABLE_1 = {"a": (16, 1.8e18), "b": (13, 6.8e16), "c": (10, 3.1e14), "d": (10, 1.3e13), "e": (10, 5.5e11)}


@pytest.mark.parametrize("letter", "abcde")
def test_table1_dimension_and_size(letter):
    summary = anynet_design_space(letter).summary()
    dimension, size = TABLE_1[letter]
    assert summary["dimension"] == dimension
    assert summary["size_paper_approx"] == pytest.approx(size, rel=0.03)
    assert summary["size"] >= summary["size_paper_approx"]  # exact count keeps ties the approximation drops


def test_exact_size_of_a_is_the_product_of_choices():
    assert anynet_design_space("a").summary()["size"] == (16 * 128 * 3 * 6) ** 4
    assert anynet_design_space("e").summary()["size"] == math.comb(19, 4) * math.comb(131, 4) * 3 * 6


@pytest.mark.parametrize("letter", "abcde")
def test_samples_satisfy_their_space(letter):
    space = anynet_design_space(letter)
    archs = space.sample_batch(np.random.default_rng(0), 200)
    for arch in archs:
        space.validate(arch)
        assert all(1 <= s.depth <= 16 and 8 <= s.width <= 1024 and s.width % 8 == 0 for s in arch.stages)
        assert all(s.bottleneck_width % s.group_width == 0 for s in arch.stages)
    if letter in "bcde":
        assert all(len(set(a.bottleneck_ratios)) == 1 for a in archs)
    if letter in "cde":
        assert all(len(set(a.group_widths)) == 1 for a in archs)
    if letter in "de":
        assert all(a.widths == sorted(a.widths) for a in archs)
    if letter == "e":
        assert all(a.depths == sorted(a.depths) for a in archs)


def test_constraint_violation_names_the_rule():
    space_e = anynet_design_space("e")
    arch = anynet_design_space("a").sample(3)
    unsorted = arch.with_stages(width=[512, 256, 128, 64], bottleneck_ratio=[1.0] * 4, group_width=[8] * 4,
                                depth=[1, 2, 3, 4])
    with pytest.raises(InvalidArchitecture, match="increasing_width"):
        space_e.validate(unsorted)


@pytest.mark.parametrize("name", ["anynetx_a", "anynetx_e", "regnetx", "regnety"])
def test_sample_distinct_in_regime_is_deterministic(name):
    regime = Regime(flops=(360e6, 400e6))
    first = get_space(name).sample_distinct(40, 7, regime)
    second = get_space(name).sample_distinct(40, 7, regime)
    assert first == second
    assert len(set(first)) == 40
    assert all(360e6 <= anynet_complexity(a).flops <= 400e6 for a in first)
    assert get_space(name).sample_distinct(40, 8, regime) != first


def test_regime_on_params_and_acts_together():
    regime = Regime(params=(2e6, 6e6), acts=(2e6, 6e6))
    for arch in get_space("regnetx").sample_distinct(30, 1, regime):
        cx = anynet_complexity(arch)
        assert 2e6 <= cx.params <= 6e6 and 2e6 <= cx.acts <= 6e6


def test_empty_regime_is_reported():
    with pytest.raises(UsageError, match="widen the regime"):
        get_space("regnetx").sample_distinct(3, 0, Regime(flops=(1, 2)), max_draws=2000)
    with pytest.raises(UsageError, match="low <= high"):
        Regime(flops=(5, 1))


def test_batched_complexity_equals_one_at_a_time():
    for name in ("anynetx_a", "regnety"):
        space = get_space(name)
        archs = space.sample_batch(np.random.default_rng(1), 300)
        for resolution, classes in ((224, 1000), (32, 10)):
            assert anynet_complexity_many(archs, resolution, classes) == \
                [anynet_complexity(a, resolution, classes) for a in archs]


def test_regnet_stage_policy():
    space = RegNetSpace()
    params = space.sample_params(0, 300)
    for p in params:
        widths = quantized_widths(p.depth, p.w0, p.wa, p.wm)
        assert widths.num_stages == widths.max_stages == 4
        assert 1 <= p.depth <= 63 and 8 <= p.w0 <= 256 and 1 <= p.wa < 256 and 1.5 <= p.wm <= 3
    assert all(len(space.to_arch(p).stages) == 4 for p in params)


def test_neighbors_and_mutation_stay_valid():
    space = anynet_design_space("a")
    arch = space.sample(11)
    neighbors = space.neighbors(arch)
    assert neighbors and arch not in neighbors
    for other in neighbors:
        space.validate(other)
        differences = sum(a != b for a, b in zip(arch.stages, other.stages))
        assert differences == 1
    assert space.mutate(arch, 0) in neighbors
    assert space.encode(arch).shape == (16,)
