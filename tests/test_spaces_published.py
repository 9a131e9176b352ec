"""Analytic complexity against the published tables, to the integer."""

from __future__ import annotations

import pytest

from archspace.families.anynet.cost import anynet_complexity
from archspace.families.anynet.spec import AnyNetArch
from archspace.spaces.regnet import RegNetParams, regnet_to_anynet
from archspace.spaces.zoo import get_entry, get_model, list_models

# (block, d, w0, wa, wm, g) -> (flops, params, acts) from the RegNet paper (224x224, 1000 classes).
PUBLISHED_REGNETS = [
    ("X", 13, 24, 36.44, 2.49, 8, 199_040_872, 2_684_792, 2_164_056),
    ("X", 22, 24, 24.48, 2.54, 16, 397_678_568, 5_157_512, 3_143_272),
    ("Y", 16, 48, 27.89, 2.09, 8, 401_849_056, 4_344_144, 3_892_496),
    ("Y", 14, 56, 38.84, 2.40, 16, 797_183_328, 6_263_168, 5_249_888),
]


@pytest.mark.parametrize("block,d,w0,wa,wm,g,flops,params,acts", PUBLISHED_REGNETS)
def test_published_regnet_complexity(block, d, w0, wa, wm, g, flops, params, acts):
    arch = regnet_to_anynet(RegNetParams(d, w0, wa, wm, g), block=block)
    cx = anynet_complexity(arch, resolution=224, num_classes=1000)
    assert (cx.flops, cx.params, cx.acts) == (flops, params, acts)


def test_cifar_resnet56_as_anynet():
    arch = AnyNetArch.from_lists([9, 9, 9], [16, 32, 64], [1, 2, 2], block="R",
                                 stem="res_stem_cifar", stem_width=16)
    cx = anynet_complexity(arch, resolution=32, num_classes=10)
    assert (cx.flops, cx.params, cx.acts) == (125_747_850, 855_770, 544_778)
    assert get_model("resnet56_cifar") == arch


@pytest.mark.parametrize("name,params", [
    # torchvision's parameter counts of the same networks (ImageNet, 1000 classes).
    ("resnet50", 25_557_032), ("resnet101", 44_549_160), ("resnet152", 60_192_808),
    ("resnext50_32x4d", 25_028_904), ("regnetx_1.6gf", 9_190_136), ("regnety_32gf", 145_046_770),
])
def test_zoo_params_match_reference_implementations(name, params):
    entry = get_entry(name)
    assert anynet_complexity(entry.arch).params == params


def test_zoo_registers_all_published_models():
    names = {e.name for e in list_models()}
    suffixes = ["200mf", "400mf", "600mf", "800mf", "1_6gf", "3_2gf", "4_0gf", "6_4gf", "8_0gf", "12gf", "16gf", "32gf"]
    for family in ("regnetx", "regnety"):
        assert {f"{family}_{s}" for s in suffixes} <= names
    for depth in (50, 101, 152):
        assert {f"resnet{depth}", f"resnext{depth}_32x4d"} <= names


def test_zoo_names_are_flop_regimes():
    """regnetx_NNNmf has close to NNN million flops: the names are honest."""
    for entry in list_models():
        if not entry.name.startswith("regnet"):
            continue
        label = entry.name.split("_", 1)[1].replace("_", ".")
        target = float(label[:-2]) * (1e6 if label.endswith("mf") else 1e9)
        assert abs(anynet_complexity(entry.arch).flops - target) / target < 0.05, entry.name


def test_resnext_uses_32_groups_of_width_4():
    arch = get_model("resnext50_32x4d")
    assert [s.groups for s in arch.stages] == [32, 32, 32, 32]
    assert arch.stages[0].bottleneck_width == 128
