"""Exact FLOPs distributions of NSS network spaces, the analytic samples-to-satisfy table and the
regimes, checked against brute-force enumeration of every network of small spaces."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from archspace.errors import UsageError
from archspace.families.nss.cost import flops_many
from archspace.nss.distribution import (
    InputSpec,
    flops_below,
    flops_distribution,
    probability_in,
    sample_flops,
)
from archspace.nss.partition import Partition
from archspace.nss.regimes import (
    check_reachable,
    parse_regime,
    regime,
    regnet_regimes,
    scale_regime,
)
from archspace.nss.table import analytic_elite, budget_stats, elite_table
from archspace.spaces.registry import get_space

SMALL = "d1-2w3-6_d1-3w1-5_d2-3w12-17"
INPUTS = InputSpec(32, 100, 3)


def brute_force(space, inputs=INPUTS):  # noqa: ANN001, ANN201
    b = space.bounds()
    grid = np.array(list(itertools.product(*[range(b[i, 0, 0], b[i, 0, 1] + 1) for i in range(3)],
                                           *[range(b[i, 1, 0], b[i, 1, 1] + 1) for i in range(3)])))
    return flops_many(grid[:, :3], grid[:, 3:], space.family.stem_width, inputs.resolution, inputs.num_classes,
                      inputs.in_channels)


@pytest.mark.parametrize("space_id", [SMALL, "d1-1w16-16_d2-2w1-3_d1-4w1-2", "d3-4w14-18_d1-1w7-7_d1-2w3-9"])
def test_counts_below_thresholds_equal_brute_force(space_id):
    space = get_space(f"nss:{space_id}")
    flops = brute_force(space)
    thresholds = [0, flops.min() - 1, flops.min(), *np.quantile(flops, [0.1, 0.37, 0.5, 0.9]), flops.max(), 1e15]
    below = flops_below(space, thresholds)
    assert below.size == len(flops) == space.size
    assert below.counts.tolist() == [int((flops <= math.floor(t)).sum()) for t in thresholds]
    np.testing.assert_allclose(below.sums, [float(flops[flops <= math.floor(t)].sum()) for t in thresholds], rtol=1e-12)
    assert (below.min, below.max) == (flops.min(), flops.max()) and below.mean == pytest.approx(flops.mean(), rel=1e-12)


def test_distribution_histogram_and_quantiles_are_exact():
    space = get_space(f"nss:{SMALL}")
    flops = np.sort(brute_force(space))
    dist = flops_distribution(space, bins=7)
    assert sum(dist.counts) == dist.size == len(flops)
    edges = np.asarray(dist.edges)
    assert dist.counts == [int(((flops > lo) & (flops <= hi)).sum()) for lo, hi in zip(edges[:-1], edges[1:])]
    for level in (0.05, 0.5, 0.95):
        exact = flops[math.ceil(level * len(flops)) - 1]  # smallest v with P(F <= v) >= level
        assert dist.quantiles[f"p{round(level * 100)}"] == pytest.approx(exact, rel=1e-6)


def test_probability_in_a_band():
    space = get_space(f"nss:{SMALL}")
    flops = brute_force(space)
    low, high = np.quantile(flops, [0.2, 0.6])
    inside = ((flops >= math.ceil(low)) & (flops <= math.floor(high))).mean()
    assert probability_in(space, low, high) == pytest.approx(inside, abs=1e-15)


def test_sampled_flops_estimate_the_mean():
    space = get_space(f"nss:{SMALL}")
    sample = sample_flops(space, 4000, 0)
    exact = flops_below(space, [0]).mean
    assert abs(sample.mean() - exact) < 4 * sample.std() / math.sqrt(len(sample))


def test_budget_stats_equal_brute_force():
    space = get_space(f"nss:{SMALL}")
    flops = brute_force(space)
    target = regime(float(np.quantile(flops, 0.3)), "t")
    stats = budget_stats(space, target)
    meets = flops[flops <= math.floor(target.high)]
    p = len(meets) / len(flops)
    assert stats.probability == pytest.approx(p, abs=1e-15)
    assert stats.expected_samples == pytest.approx(1 / p)
    assert stats.samples_95 == math.ceil(math.log(0.05) / math.log(1 - p))
    assert stats.delta_percent == pytest.approx(100 * np.mean((target.high - meets) / target.high), rel=1e-9)
    band = ((flops >= math.ceil(target.low)) & (flops <= math.floor(target.high))).mean()
    assert stats.in_band == pytest.approx(band, abs=1e-15)


def test_table_on_a_small_partition_matches_brute_force_elites():
    part = Partition.uniform(max_depth=2, max_width=6, depth_bins=2, width_bins=2)
    expanded = part.expanded()
    flops = brute_force(expanded)
    regimes = [regime(float(np.quantile(flops, q)), f"q{q}") for q in (0.05, 0.3, 0.7)]
    rows = elite_table(part, regimes, INPUTS)
    for row, r in zip(rows, regimes, strict=True):
        meets = (flops <= math.floor(r.high)).mean()
        assert row.expanded.probability == pytest.approx(meets, abs=1e-15)
        # the analytic Elite Space has the highest exact band probability of all 512 spaces
        best = max(budget_stats(part.space(i), r, INPUTS).in_band for i in range(part.num_spaces))
        assert row.elite.in_band == pytest.approx(best) and row.elite.in_band > 0
        # the expanded space is the union of the spaces: its band probability is their size-weighted mean
        assert row.elite.in_band >= row.expanded.in_band
    assert rows[0].elite.expected_samples < rows[0].expanded.expected_samples  # a tight budget: fewer samples
    assert analytic_elite(part, regimes[1], INPUTS).space_id == rows[1].elite_space


def test_regnet_regimes_and_parsing():
    names = [r.name for r in regnet_regimes()]
    assert names == ["200MF", "400MF", "600MF", "800MF", "1.6GF", "3.2GF", "4.0GF", "6.4GF", "8.0GF", "12GF", "16GF",
                     "32GF"]
    assert (parse_regime("400M").low, parse_regime("400M").high) == pytest.approx((360e6, 400e6))
    assert parse_regime("3.2GF").high == 3.2e9 and parse_regime("360M:400M").low == 360e6
    for bad in ("-5M", "abc", "5M:1M"):
        with pytest.raises(UsageError):
            parse_regime(bad)


def test_an_unreachable_regime_names_itself_and_the_reachable_range():
    space = get_space("nss", max_depth=2, max_width=8)
    with pytest.raises(UsageError, match=r"regime 1GF .*reachable flops are [0-9.e+]+\.\.[0-9.e+]+ at 28x28"):
        check_reachable(space, parse_regime("1G"), InputSpec(28, 10, 1))


def test_scaled_regimes_keep_their_quantile():
    small = get_space("nss", max_depth=2, max_width=6)
    source = get_space(f"nss:{SMALL}")
    target = regime(float(np.quantile(brute_force(source), 0.4)), "t")
    scaled = scale_regime(target, source, INPUTS, small, InputSpec(28, 10, 1))
    q_source = (brute_force(source) <= target.high).mean()
    q_dest = (brute_force(small, InputSpec(28, 10, 1)) <= scaled.high).mean()
    assert q_dest >= q_source and q_dest - q_source < 0.01
