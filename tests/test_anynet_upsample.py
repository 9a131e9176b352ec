"""Stage input upsampling in the AnyNet description (the thesis's A0+Upsample): specs without it are
byte-for-byte what they were, and module, analytic cost and layer sequence agree for specs with it."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace

import numpy as np
import pytest

from archspace.arch import arch_from_json
from archspace.checks import check_family
from archspace.errors import InvalidArchitecture
from archspace.families import get_family
from archspace.families.anynet.cost import anynet_complexity
from archspace.families.anynet.spec import AnyNetArch
from archspace.spaces.registry import get_space
from archspace.spaces.zoo import get_model, list_models

FAMILY = get_family("anynet")
# The docs/scaling base (AnyNet-R, stride-2 3x3 stem, stages (1,16,1), (2,32,2), (2,64,2)).
BASE = AnyNetArch.from_lists([1, 2, 2], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)
BASE_JSON = ('{"block":"R","head_width":0,"kind":"anynet","se_ratio":0.25,"stages":[{"bottleneck_ratio":1.0,'
             '"depth":1,"group_width":1,"stride":1,"width":16},{"bottleneck_ratio":1.0,"depth":2,"group_width":1,'
             '"stride":2,"width":32},{"bottleneck_ratio":1.0,"depth":2,"group_width":1,"stride":2,"width":64}],'
             '"stem":"simple_stem_in","stem_width":16}')
# (spec hash, flops, params, acts at 224 / 1000 classes), computed by the code before upsampling existed.
PINNED = {
    "regnetx_200mf": ("995e7cb40d2d77d6", 199040872, 2684792, 2164056),
    "regnety_400mf": ("6679d10b4f978360", 401849056, 4344144, 3892496),
    "resnet50": ("f3bfb3994f79abfc", 4089185256, 25557032, 11315688),
}
OLD_STAGE_FIELDS = ("depth", "width", "stride", "bottleneck_ratio", "group_width")
OLD_FIELDS = ("stages", "block", "stem", "stem_width", "head_width", "se_ratio")


def _old_json(arch: AnyNetArch) -> str:
    """The canonical JSON as the spec classes wrote it before the upsampling fields existed."""
    data = {"kind": "anynet", **{f: getattr(arch, f) for f in OLD_FIELDS if f != "stages"},
            "stages": [{f: getattr(s, f) for f in OLD_STAGE_FIELDS} for s in arch.stages]}
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def test_specs_without_upsampling_keep_their_json_hash_and_cost():
    assert BASE.to_json() == BASE_JSON and BASE.spec_hash() == "8a8edede59a54f8d"  # docs/scaling's base
    assert anynet_complexity(BASE, 28, 10, 1) == (cx := FAMILY.complexity(BASE, resolution=28, num_classes=10,
                                                                         in_channels=1))
    assert (cx.flops, cx.params, cx.acts) == (4634826, 170298, 22378)  # docs/scaling/README.md: 4.63 M, 170 k
    for name, (spec_hash, *cost) in PINNED.items():
        arch = get_model(name)
        got = anynet_complexity(arch, 224, 1000, 3)
        assert arch.spec_hash() == spec_hash and [got.flops, got.params, got.acts] == cost


@pytest.mark.parametrize("name", ["anynetx_a", "anynetx_e", "regnetx", "regnety"])
def test_every_sampled_and_zoo_spec_writes_the_old_json(name):
    archs = get_space(name).sample_batch(np.random.default_rng(0), 100)
    archs += [e.arch for e in list_models() if e.arch.kind == "anynet"]
    for arch in archs:
        assert arch.to_json() == _old_json(arch)
        assert "upsample" not in arch.to_json()
    assert get_space(name).complexity_many(archs[:100]) == [anynet_complexity(a) for a in archs[:100]]


def test_a_spec_without_upsampling_builds_no_upsample_module():
    from torch import nn

    module = FAMILY.build(BASE, num_classes=10, in_channels=1)
    assert not any(isinstance(m, nn.Upsample) for m in module.modules())
    upsampled = FAMILY.build(BASE.with_stages(upsample=[1, 1, 2]), num_classes=10, in_channels=1)
    found = [m for m in upsampled.modules() if isinstance(m, nn.Upsample)]
    assert found == [upsampled.stages[2][0]] and (found[0].scale_factor, found[0].mode) == (2.0, "nearest")
    # the blocks keep their parameter names in the stages that do not upsample
    assert [k for k in upsampled.state_dict() if k.startswith(("stem.", "stages.0.", "stages.1."))] == \
        [k for k in module.state_dict() if k.startswith(("stem.", "stages.0.", "stages.1."))]


def test_upsampled_specs_round_trip_and_differ_from_their_base():
    a0_up = BASE.with_stages(upsample=[1, 1, 2])
    text = a0_up.to_json()
    assert '"upsample":2' in text and text.count("upsample") == 1  # only where it is not the default
    assert arch_from_json(text) == a0_up and arch_from_json(text).spec_hash() == a0_up.spec_hash()
    assert a0_up.spec_hash() != BASE.spec_hash() and a0_up != BASE
    bilinear = replace(a0_up, upsample_mode="bilinear")
    assert '"upsample_mode":"bilinear"' in bilinear.to_json() and arch_from_json(bilinear.to_json()) == bilinear
    assert len({BASE.spec_hash(), a0_up.spec_hash(), bilinear.spec_hash()}) == 3
    assert a0_up.upsamples == [1, 1, 2] and BASE.upsamples == [1, 1, 1]
    assert pickle.loads(pickle.dumps(bilinear)) == bilinear and hash(pickle.loads(pickle.dumps(bilinear))) == hash(bilinear)


@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
@pytest.mark.parametrize("block", ["V", "R", "X", "Y"])
def test_measured_cost_and_layers_agree_with_the_table_for_upsampled_specs(block, mode):
    """check_family: analytic flops/params/acts == torch's counts on the built module, layers as run."""
    specs = [
        AnyNetArch.from_lists([1, 2], [16, 48], [1, 2], [1.0, 2.0], [8, 8], block=block, stem="simple_stem_in",
                              stem_width=8, head_width=32 if block == "Y" else 0, upsample_mode=mode).with_stages(upsample=u)
        for u in ([1, 2], [2, 1], [2, 4])
    ]
    check_family(FAMILY, specs, resolution=15)  # odd sizes: 15 -> 8 -> x2 16 -> 8 ...


def test_upsampling_with_a_max_pool_stem_and_in_a_batch():
    arch = AnyNetArch.from_lists([1, 1, 1], [16, 32, 64], [2, 2, 2], block="X", stem="res_stem_in", stem_width=16,
                                 group_widths=[8, 8, 8]).with_stages(upsample=[1, 2, 2])
    check_family(FAMILY, [arch], resolution=32)
    mixed = [arch, BASE, BASE.with_stages(upsample=[2, 1, 1]), arch.with_stages(upsample=[1, 1, 1])]
    assert FAMILY.complexity_many(mixed, resolution=32) == [FAMILY.complexity(a, resolution=32) for a in mixed]


def test_upsampling_before_a_strided_stage_reaches_the_pre_head_resolution_of_removing_its_stride():
    import torch

    a1 = BASE.with_stages(stride=[1, 2, 1])
    a0_up = BASE.with_stages(upsample=[1, 1, 2])
    shapes = []
    for arch in (BASE, a1, a0_up):
        net = FAMILY.build(arch, num_classes=10, in_channels=1).eval()
        with torch.no_grad():
            shapes.append(tuple(net.stages(net.stem(torch.zeros(1, 1, 28, 28))).shape))
    assert shapes == [(1, 64, 4, 4), (1, 64, 7, 7), (1, 64, 7, 7)]
    # basic blocks: the stride-2 3x3 conv and 1x1 projection on the 2x map cost what stride 1 does on the 1x map
    assert FAMILY.complexity(a0_up, resolution=28, in_channels=1) == FAMILY.complexity(a1, resolution=28, in_channels=1)


def test_bottleneck_upsampling_costs_the_first_1x1_conv_at_the_upsampled_size():
    """X block: only the first block's 1x1 conv (w_in -> b) runs before the stride: 3 H W w_in b more flops."""
    x = AnyNetArch.from_lists([1, 1], [32, 64], [1, 2], [1.0, 1.0], [16, 16], block="X", stem="res_stem_cifar",
                              stem_width=16)
    up, removed = x.with_stages(upsample=[1, 2]), x.with_stages(stride=[1, 1])
    extra = anynet_complexity(up, 8, 10, 3).flops - anynet_complexity(removed, 8, 10, 3).flops
    assert extra == 3 * 8 * 8 * 32 * 64  # H = W = 8 (stride-1 stem, stride-1 stage), w_in = 32, b = 64
    assert anynet_complexity(up, 8, 10, 3).params == anynet_complexity(x, 8, 10, 3).params


def test_upsampling_lets_a_network_run_below_its_total_stride():
    with pytest.raises(InvalidArchitecture, match="total stride 8 exceeds the input resolution 4"):
        anynet_complexity(BASE, 4, 10, 1)
    assert anynet_complexity(BASE.with_stages(upsample=[2, 1, 1]), 4, 10, 1).flops > 0
    with pytest.raises(InvalidArchitecture, match="times the upsampling so far"):
        anynet_complexity(BASE.with_stages(upsample=[2, 1, 1]), 3, 10, 1)


@pytest.mark.parametrize(("change", "field"), [
    ({"upsample": [1, 0, 1]}, "stages[1].upsample"),
    ({"upsample": [1, 1, 1.5]}, "stages[2].upsample"),
    ({"upsample": [9, 1, 1]}, "stages[0].upsample"),
    ({"upsample": [1, True, 1]}, "stages[1].upsample"),
])
def test_bad_upsampling_factors_are_refused_naming_the_stage(change, field):
    with pytest.raises(InvalidArchitecture, match=field.replace("[", r"\[").replace("]", r"\]")):
        FAMILY.validate(BASE.with_stages(**change))


def test_bad_upsample_modes_are_refused():
    with pytest.raises(InvalidArchitecture, match="upsample_mode.*must be one of"):
        FAMILY.validate(replace(BASE.with_stages(upsample=[1, 1, 2]), upsample_mode="bicubic"))
    with pytest.raises(InvalidArchitecture, match="needs a stage that upsamples"):
        FAMILY.validate(replace(BASE, upsample_mode="bilinear"))
    data = json.loads(BASE_JSON)
    data["stages"][0]["upsampling"] = 2
    with pytest.raises(InvalidArchitecture, match=r"stages\[0\].upsampling.*unknown field"):
        arch_from_json(json.dumps(data))
