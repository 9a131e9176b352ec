"""Measured counts (torch's flop formulas on built modules) agree with the analytic ones."""

from __future__ import annotations

import pytest

from archspace.complexity.measure import measure_arch
from archspace.families.anynet.cost import anynet_complexity
from archspace.spaces.base import Regime
from archspace.families import family_for
from archspace.spaces.registry import get_space
from archspace.spaces.zoo import list_models

ZOO = list_models()


@pytest.mark.parametrize("entry", ZOO, ids=[e.name for e in ZOO])
def test_every_zoo_model(entry):
    # Models above ~2 GF are measured at 64x64 to keep the suite fast; their 224x224 numbers are
    # pinned against published figures in test_spaces_published.
    resolution = entry.resolution if anynet_complexity(entry.arch).flops < 2e9 or entry.resolution < 224 else 64
    space = family_for(entry.arch)
    expected = space.complexity(entry.arch, resolution=resolution, num_classes=entry.num_classes)
    assert measure_arch(space, entry.arch, resolution, entry.num_classes) == expected


@pytest.mark.parametrize("name", ["anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e", "regnetx", "regnety"])
def test_hundreds_of_random_specs(name):
    """40 distinct models per space (ImageNet-regime flops; 280 in all), measured on 32x32 inputs."""
    space = get_space(name)
    archs = space.sample_distinct(40, 2024, Regime(flops=(50e6, 1.6e9)))
    for arch in archs:
        expected = space.complexity(arch, resolution=32, num_classes=10)
        assert measure_arch(space, arch, 32, 10) == expected, arch.to_json()
