"""The family contract on every registered family: measured cost and run layers agree with the
analytic cost and layer sequence derived from the family's table (``archspace.checks.check_family``)."""

from __future__ import annotations

import numpy as np
import pytest

from archspace.checks import ContractError, check_family
from archspace.families import FAMILIES, family_for, get_family
from archspace.families.anynet.cost import anynet_complexity
from archspace.families.anynet.spec import AnyNetArch
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import OPS
from archspace.spaces.base import Regime
from archspace.spaces.registry import get_space
from archspace.spaces.zoo import list_models

ZOO = list_models()


def test_every_family_is_checked_here():
    assert set(FAMILIES.names()) == {"anynet", "nb201", "r3d", "attention_net", "resized", "nss", "teacher", "darts"}


def test_every_op_row_of_the_darts_table():
    """Each of the 10 ops of the DARTS table in a normal and a reduction cell (stride 1 and 2)."""
    from archspace.families.darts.spec import DartsGenotype
    from archspace.families.darts.table import ALL_OPS

    normal = [(op, k % 2 if k < 2 else (k // 2 + 1) - k % 2) for k, op in enumerate(ALL_OPS)]
    reduce = [(op, k % 2) for k, op in enumerate(reversed(ALL_OPS))]
    genotype = DartsGenotype(normal, [2, 3, 4, 5, 6], reduce, [2, 4, 6])
    check_family(get_family("darts", channels=4, layers=3), [genotype], resolution=16, in_channels=1)


@pytest.mark.parametrize("entry", ZOO, ids=[e.name for e in ZOO])
def test_every_zoo_model(entry):
    # Models above ~2 GF are measured at 64x64 to keep the suite fast; their 224x224 numbers are
    # pinned against published figures in test_spaces_published.
    resolution = entry.resolution if anynet_complexity(entry.arch).flops < 2e9 or entry.resolution < 224 else 64
    check_family(family_for(entry.arch), [entry.arch], resolution=resolution, num_classes=entry.num_classes)


@pytest.mark.parametrize("name", ["anynetx_a", "anynetx_b", "anynetx_c", "anynetx_d", "anynetx_e", "regnetx", "regnety"])
def test_hundreds_of_random_specs(name):
    """40 distinct models per space (ImageNet-regime flops; 280 in all), checked on 32x32 inputs."""
    space = get_space(name)
    archs = space.sample_distinct(40, 2024, Regime(flops=(50e6, 1.6e9)))
    assert check_family(space.family, archs, resolution=32, num_classes=10) == {"specs": 40}


@pytest.mark.parametrize("block", ["V", "R", "X", "Y"])
@pytest.mark.parametrize("stem", ["simple_stem_in", "res_stem_in", "res_stem_cifar"])
def test_every_block_and_stem_row_of_the_anynet_table(block, stem):
    arch = AnyNetArch.from_lists([1, 2], [16, 48], [1, 2], [1.0, 2.0], [8, 8], block=block, stem=stem,
                                 stem_width=8, head_width=32 if block == "Y" else 0)
    check_family(get_family("anynet"), [arch], resolution=32)


@pytest.mark.parametrize("options", [{}, {"channels": 8, "cells_per_stage": 1}, {"channels": 12, "cells_per_stage": 2}])
def test_nb201_cells_of_every_op(options):
    rng = np.random.default_rng(7)
    cells = [NB201Cell((op,) * 6) for op in OPS] + [NB201Cell.from_code(int(c)) for c in rng.integers(0, 5**6, 6)]
    check_family(get_family("nb201", **options), cells, num_classes=10, in_channels=1)


def test_a_drifted_layer_sequence_is_caught():
    """The check is not vacuous: a family whose layer list forgets a layer fails it."""
    family = get_family("nb201", channels=8, cells_per_stage=1)

    class Drifted(type(family)):
        def layer_sequence(self, arch, num_classes=None, in_channels=None):  # noqa: ANN001, ANN201
            return super().layer_sequence(arch, num_classes, in_channels)[1:]

    with pytest.raises(ContractError, match="layer sequence disagrees"):
        check_family(Drifted(channels=8, cells_per_stage=1), [NB201Cell(("nor_conv_3x3",) * 6)])


def test_resized_inputs_of_anynet_and_nb201():
    """An input-resized spec costs its inner network at the spec's resolution, whatever the input size."""
    from archspace.families.resized import ResizedInput

    resnet8 = AnyNetArch.from_lists([1, 1, 1], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)
    cell = NB201Cell(("nor_conv_3x3",) * 6)
    check_family(get_family("resized"), [ResizedInput(resnet8, 40), ResizedInput(resnet8, 20)], resolution=28,
                 in_channels=1)
    check_family(get_family("resized", channels=8, cells_per_stage=1), [ResizedInput(cell, 24)], resolution=16)


@pytest.mark.parametrize("resolution", [32, 28])
def test_nss_expanded_space_networks(resolution):
    """NSS family (tests/test_nss_family.py has more): identity and projection first blocks."""
    from archspace.families.nss import NSSArch

    archs = [NSSArch((1, 2, 1), (16, 24, 8)), NSSArch((2, 1, 2), (5, 5, 40))]
    check_family(get_family("nss"), archs, resolution=resolution, in_channels=1 if resolution == 28 else 3)


def test_teacher_graphs_of_every_layer_kind():
    """Teacher graphs: residual (adds, projections), VGG (max-pools, hidden linears), grouped convs
    and avg-pools; tests/test_teacher_family.py and test_teacher_space.py check candidates too."""
    from archspace.compress.teachers import from_anynet, from_layers, resnet_cifar, vgg
    from archspace.spaces.zoo import get_model

    graphs = [resnet_cifar(8, 4), vgg((4, "M", 8), hidden=(12,)), from_anynet(get_model("anynetx_tiny")),
              from_layers([{"kind": "conv", "width": 6, "kernel": 3, "relu": True},
                           {"kind": "avg_pool", "kernel": 3, "stride": 1, "padding": 1},
                           {"kind": "add", "inputs": [0, 1], "relu": True}, {"kind": "global_pool"}, {"kind": "linear"}])]
    check_family(get_family("teacher"), graphs)
