"""NSS expanded-space family and spaces: exact cost vs the built module, validation, sampling,
network-space ids, the partition, and uniform sampling inside a space (chi-square)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from archspace.arch import arch_from_json
from archspace.checks import check_family, check_space
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import get_family
from archspace.families.nss import NSSArch
from archspace.nss.distribution import FlopsLookup, InputSpec
from archspace.nss.partition import Partition
from archspace.spaces.registry import get_space


def test_expanded_space_size_and_shape():
    space = get_space("nss")
    assert space.size == (16 * 512) ** 3 == 549_755_813_888
    assert space.summary()["ranges"] == [{"depth": [1, 16], "width": [1, 512]}] * 3


@pytest.mark.parametrize("arch", [NSSArch((1, 1, 1), (16, 16, 16)), NSSArch((3, 2, 1), (7, 33, 64)),
                                  NSSArch((1, 3, 2), (40, 8, 24))], ids=str)
def test_cost_and_layers_agree_with_the_module(arch):
    family = get_family("nss")
    assert check_family(family, [arch], resolution=32, num_classes=100) == {"specs": 1}
    assert check_family(family, [arch], resolution=28, num_classes=10, in_channels=1) == {"specs": 1}


def test_published_shape_of_the_smallest_resnet_like_network():
    """d = (1, 1, 1), w = (16, 32, 64): stem 432 + stage 1 (2 x 2304 per pixel at 32x32) ... by hand."""
    arch = NSSArch((1, 1, 1), (16, 32, 64))
    hand = (9 * 3 * 16 * 1024                       # stem
            + 2 * 9 * 16 * 16 * 1024                # stage 1: two 3x3 convs, identity shortcut
            + (9 * 16 * 32 + 9 * 32 * 32 + 16 * 32) * 256   # stage 2: strided conv, conv, projection
            + (9 * 32 * 64 + 9 * 64 * 64 + 32 * 64) * 64    # stage 3
            + 64 * 10 + 10)                         # classifier
    assert get_family("nss").complexity(arch, resolution=32, num_classes=10).flops == hand


def test_batched_cost_and_lookup_equal_single_cost():
    space = get_space("nss")
    archs = space.sample_batch(np.random.default_rng(1), 50)
    family = space.family
    single = [family.complexity(a, resolution=32, num_classes=100) for a in archs]
    assert family.complexity_many(archs, resolution=32, num_classes=100) == single
    lookup = FlopsLookup.build(512, 16, InputSpec())
    flops = lookup.flops(np.array([a.depths for a in archs]), np.array([a.widths for a in archs]))
    assert flops.tolist() == [c.flops for c in single]


@pytest.mark.parametrize("bad, field", [(NSSArch((0, 1, 1), (8, 8, 8)), "depths[0]"),
                                        (NSSArch((1, 17, 1), (8, 8, 8)), "depths[1]"),
                                        (NSSArch((1, 1, 1), (8, 8, 513)), "widths[2]"),
                                        (NSSArch((1, 1), (8, 8)), "depths"),
                                        (NSSArch((1, 1, 1.0), (8, 8, 8)), "depths[2]")])
def test_validation_names_the_field(bad, field):
    with pytest.raises(InvalidArchitecture) as info:
        get_family("nss").validate(bad)
    assert info.value.field == field


def test_spec_round_trips_through_json():
    arch = NSSArch([2, 3, 4], [10, 20, 30])
    assert arch_from_json(arch.to_json()) == arch and arch.to_json() == \
        '{"depths":[2,3,4],"kind":"nss","widths":[10,20,30]}'


def test_network_space_ids_round_trip_and_plug_into_get_space():
    space = get_space("nss:d1-4w1-64_d5-8w65-128_d1-4w449-512")
    assert space.name == "nss:d1-4w1-64_d5-8w65-128_d1-4w449-512" and space.size == 256 ** 3
    assert get_space(space.name, **space.options()).ranges == space.ranges
    check_space(space, n=8, build=True, input_spec={"resolution": 32, "num_classes": 10})
    reduced = get_space("nss", max_depth=4, max_width=32)
    assert reduced.options() == {"max_depth": 4, "max_width": 32} and reduced.size == 128 ** 3
    check_space(reduced, n=8, build=True, input_spec={"resolution": 28, "num_classes": 10, "in_channels": 1})


@pytest.mark.parametrize("text, message", [
    ("d1-4w1-64_d5-8w65-128", "3 stage ranges"),
    ("d1-4w1-64_d5-8w65-128_d1-4w449-600", "stage 3 width range 449-600 lies outside the expanded space (1-512)"),
    ("d1-4w1-64_d9-5w65-128_d1-4w1-8", "stage 2 depth range 9-5 is empty"),
    ("d0-4w1-64_d1-2w1-8_d1-4w1-8", "stage 1 depth range 0-4 lies outside"),
    ("d1-4x1-64_d1-2w1-8_d1-4w1-8", "bad NSS space id"),
])
def test_bad_space_ids_are_refused(text, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        get_space(f"nss:{text}")


def test_membership_neighbors_and_mutation_stay_inside():
    space = get_space("nss:d1-2w3-4_d1-1w5-5_d2-3w1-2")
    arch = NSSArch((1, 1, 2), (3, 5, 1))
    neighbors = space.neighbors(arch)
    assert sorted(n.to_json() for n in neighbors) == sorted(
        a.to_json() for a in (NSSArch((2, 1, 2), (3, 5, 1)), NSSArch((1, 1, 2), (4, 5, 1)),
                              NSSArch((1, 1, 3), (3, 5, 1)), NSSArch((1, 1, 2), (3, 5, 2))))
    for seed in range(20):
        child = space.mutate(arch, seed)
        assert space.contains(child)
    with pytest.raises(InvalidArchitecture, match=r"widths\[1\]"):
        space.validate(NSSArch((1, 1, 2), (3, 6, 1)))


def test_uniform_sampling_inside_a_space_passes_chi_square():
    """A space of 2 x 3 x 1 x 2 x 2 x 1 = 24 networks; 24,000 seeded draws; every cell equally likely."""
    space = get_space("nss:d1-2w4-6_d3-3w1-2_d1-2w9-9")
    cells = list(itertools.product((1, 2), (4, 5, 6), (3,), (1, 2), (1, 2), (9,)))
    assert len(cells) == space.size == 24
    depths, widths = space.sample_arrays(np.random.default_rng(2024), 24_000)
    keys = [(d[0], w[0], d[1], w[1], d[2], w[2]) for d, w in zip(depths.tolist(), widths.tolist(), strict=True)]
    counts = np.array([keys.count(c) for c in cells])
    assert counts.sum() == 24_000
    result = stats.chisquare(counts)
    assert result.pvalue > 0.01, result
    skewed = counts.copy()
    skewed[0] += 200  # the test has power: a 20% excess in one cell is detected
    skewed[1] -= 200
    assert stats.chisquare(skewed).pvalue < 1e-6


def test_default_partition_counts_and_indexing():
    part = Partition()
    assert part.stage_choices == 32 and part.num_spaces == 32_768
    assert part.space(0).space_id == "d1-4w1-64_d1-4w1-64_d1-4w1-64"
    assert part.space(part.num_spaces - 1).space_id == "d13-16w449-512_d13-16w449-512_d13-16w449-512"
    for index in (0, 1, 31, 32, 1234, 32_767):
        space = part.space(index)
        assert part.index_of(space) == index and space.size == 256 ** 3
        assert (part.bounds()[index] == space.bounds()).all()


def test_a_partition_tiles_its_expanded_space():
    part = Partition.uniform(max_depth=4, max_width=6, depth_bins=2, width_bins=3)
    assert part.num_spaces == 6 ** 3
    assert sum(part.space(i).size for i in range(part.num_spaces)) == part.expanded().size == (4 * 6) ** 3
    arch = NSSArch((3, 1, 4), (2, 5, 6))
    owners = [i for i in range(part.num_spaces) if part.space(i).contains(arch)]
    assert len(owners) == 1


def test_bad_partitions_are_refused():
    with pytest.raises(UsageError, match="divide"):
        Partition.uniform(max_depth=16, max_width=512, depth_bins=3)
    with pytest.raises(UsageError, match="outside the expanded space"):
        Partition(width_edges=(256, 600))
