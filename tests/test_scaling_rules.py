"""Scaling rules and the solver: brute-force answers, validity of every candidate, and bad input."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from archspace.arch import arch_from_json
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import get_family
from archspace.families.anynet.cost import anynet_complexity
from archspace.families.anynet.spec import AnyNetArch
from archspace.families.attention.spec import AttentionNet
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nss.spec import NSSArch
from archspace.families.r3d.spec import R3DArch, R3DStage
from archspace.families.resized import ResizedInput
from archspace.scaling import InputSpec, RuleOptions, candidates, minimum_resolution, plan_scaling
from archspace.spaces.zoo import get_model

FMNIST = InputSpec(28, 1, 10)
RESNET8 = AnyNetArch.from_lists([1, 1, 1], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)
BASE = AnyNetArch.from_lists([1, 2, 2], [16, 32, 64], [1, 2, 2], block="R", stem="simple_stem_in", stem_width=16)


def _flops(arch, resolution=28):
    return anynet_complexity(arch, resolution, 10, 1).flops


def _nearest(options, target, reference):
    """Brute force: the option whose cost ratio is nearest the target in log space (first on ties)."""
    return min(options, key=lambda item: abs(math.log(item[1] / reference / target)))


def test_depth_matches_a_brute_force_over_uniform_depths():
    reference = _flops(RESNET8)
    uniform = [(k, _flops(RESNET8.with_stages(depth=[k, k, k]))) for k in range(1, 17)]
    plan = plan_scaling(RESNET8, "depth", [2, 4, 8], FMNIST)
    for variant in plan.variants:
        k, flops = _nearest(uniform, variant.multiplier, reference)
        assert variant.arch.depths == [k, k, k] and variant.cost["flops"] == flops
        assert variant.ratio == pytest.approx(flops / reference)
    assert [v.arch.depths for v in plan.variants] == [[2, 2, 2], [4, 4, 4], [7, 7, 7]]


def test_resolution_matches_a_brute_force_over_every_resolution():
    reference = _flops(RESNET8)
    sizes = [(r, _flops(RESNET8, r)) for r in range(8, 113)]
    plan = plan_scaling(RESNET8, "resolution", [0.5, 2, 4], FMNIST)
    for variant in plan.variants:
        _, flops = _nearest(sizes, variant.multiplier, reference)
        assert variant.cost["flops"] == flops
        assert isinstance(variant.arch, ResizedInput) and variant.arch.arch == RESNET8
        assert _flops(RESNET8, variant.arch.resolution) == flops
    assert plan.minimum_resolution == 8  # stride-2 stem, then two stride-2 stages
    with pytest.raises(InvalidArchitecture):
        anynet_complexity(RESNET8, 7, 10, 1)


def test_width_candidates_keep_group_and_bottleneck_rules_valid():
    regnet = get_model("regnetx_200mf")
    family = get_family("anynet")
    found = candidates("width", regnet, InputSpec(224, 3, 1000), 32, RuleOptions(grid=201))
    assert len(found) > 50
    for candidate in found:
        family.validate(candidate.arch)  # raises on a broken group/bottleneck rule
        for stage in candidate.arch.stages:
            assert stage.bottleneck_width % stage.group_width == 0
    plan = plan_scaling(regnet, "width", [2, 4], InputSpec(224, 3, 1000))
    assert [round(v.ratio, 1) for v in plan.variants] == [2.0, 4.0]
    assert all(v.arch.depths == regnet.depths for v in plan.variants)


def test_prehead_removes_strides_and_cannot_shrink():
    found = candidates("prehead", RESNET8, FMNIST, 8, RuleOptions(prehead_strategies=("stride",)))
    # two strided stages and a stride-2 stem: 2^2 x 2 settings, the base first
    assert len(found) == 8 and found[0].arch == RESNET8
    assert {tuple(c.arch.strides) for c in found} == {(1, 2, 2), (1, 1, 2), (1, 2, 1), (1, 1, 1)}
    assert {c.arch.stem for c in found} == {"simple_stem_in", "res_stem_cifar"}
    a1 = RESNET8.with_stages(stride=[1, 2, 1])  # the thesis's A1: the last stride removed
    reference = _flops(RESNET8)
    brute = [(c.arch, _flops(c.arch)) for c in found]
    plan = plan_scaling(RESNET8, "prehead", [2, 4], FMNIST, options=RuleOptions(prehead_strategies=("stride",)))
    for variant in plan.variants:
        arch, flops = _nearest(brute, variant.multiplier, reference)
        assert variant.arch == arch and variant.cost["flops"] == flops
    assert any(c.arch == a1 for c in found)
    with pytest.raises(UsageError, match="prehead cannot shrink"):
        plan_scaling(RESNET8, "prehead", [0.5], FMNIST)


def test_prehead_solves_across_stride_removal_and_upsampling():
    found = candidates("prehead", RESNET8, FMNIST, 8)
    strategies = [c.knobs["strategy"] for c in found]
    assert strategies[0] == "none" and strategies.count("stride") == 7 and strategies.count("upsample") == 7
    a0_up = RESNET8.with_stages(upsample=[1, 1, 2])  # the thesis's A0+Upsample: the last stage's input x2
    assert any(c.arch == a0_up for c in found)
    reference = _flops(RESNET8)
    brute = [(c.arch, _flops(c.arch)) for c in found]
    plan = plan_scaling(RESNET8, "prehead", [2, 4, 8], FMNIST)
    for variant in plan.variants:
        arch, flops = _nearest(brute, variant.multiplier, reference)
        assert variant.arch == arch and variant.cost["flops"] == flops
    # basic blocks: A0+Upsample costs exactly what A1 does; the tie goes to A1 (no interpolation)
    assert _flops(a0_up) == _flops(RESNET8.with_stages(stride=[1, 2, 1]))
    assert plan.variants[0].arch == RESNET8.with_stages(stride=[1, 2, 1])
    only_up = candidates("prehead", RESNET8, FMNIST, 8, RuleOptions(prehead_strategies=("upsample",), upsample_mode="bilinear"))
    assert len(only_up) == 8 and only_up[1].arch == replace(a0_up, upsample_mode="bilinear")
    with pytest.raises(UsageError, match="prehead strategies"):
        RuleOptions(prehead_strategies=("dilate",))


def test_prehead_picks_upsampling_where_it_is_nearest_the_target():
    """RegNetX-200MF (bottleneck blocks) at 64x64: the last stage upsampled costs 2.646x, its stride
    removed 2.481x; every one of the 47 candidates is costed and the nearest to 2.6x is the upsampled one."""
    regnet, spec = get_model("regnetx_200mf"), InputSpec(64, 3, 10)
    found = candidates("prehead", regnet, spec, 32)
    assert len(found) == 47  # 2^4 stride subsets x 2 stems + 15 upsampled subsets
    reference = anynet_complexity(regnet, 64, 10, 3).flops
    brute = [(c.arch, anynet_complexity(c.arch, 64, 10, 3).flops) for c in found]
    plan = plan_scaling(regnet, "prehead", [2.6, 9], spec)
    for variant in plan.variants:
        arch, flops = _nearest(brute, variant.multiplier, reference)
        assert variant.arch == arch and variant.cost["flops"] == flops
    chosen = plan.variants[0]
    assert chosen.knobs["strategy"] == "upsample" and chosen.arch.upsamples == [1, 1, 1, 2]
    assert round(chosen.ratio, 3) == 2.646 and plan.variants[1].knobs["strategy"] == "stride"
    get_family("anynet").validate(chosen.arch)


def test_depth_shrinks_when_a_stage_has_more_than_one_block_but_not_below_one():
    plan = plan_scaling(BASE, "depth", [0.6], FMNIST)
    assert plan.variants[0].arch.depths == [1, 1, 1] and plan.variants[0].ratio < 1
    with pytest.raises(UsageError, match="depth cannot shrink"):
        plan_scaling(RESNET8, "depth", [0.5], FMNIST)


def test_compound_follows_the_exponents_and_grows_every_axis():
    plan = plan_scaling(BASE, "compound", [2, 4, 8], FMNIST)
    phis = [v.knobs["phi"] for v in plan.variants]
    assert phis == sorted(phis) and phis[0] > 0
    last = plan.variants[-1]
    assert last.arch.resolution > 28 and sum(last.arch.arch.depths) > sum(BASE.depths)
    assert min(last.arch.arch.widths[i] / BASE.widths[i] for i in range(3)) > 1
    for variant in plan.variants:
        assert abs(math.log(variant.ratio / variant.multiplier)) < 0.25
    with pytest.raises(UsageError, match="exponents"):
        RuleOptions(compound_exponents=(1.0, 1.0, 1.0))


def test_every_variant_costs_what_its_family_says_and_rebuilds_from_json():
    plan = plan_scaling(BASE, "depth,width,resolution,prehead,compound", [2, 4], FMNIST)
    # prehead: 8 stride settings (the base among them) + 7 non-empty subsets of 3 stages upsampled
    assert len(plan.variants) == 10 and plan.candidates["prehead"] == 15
    for variant in [plan.base, *plan.variants]:
        family = get_family(variant.arch.kind)
        cx = family.complexity(variant.arch, resolution=28, num_classes=10, in_channels=1)
        assert (cx.flops, cx.params, cx.acts) == (variant.cost["flops"], variant.cost["params"], variant.cost["acts"])
        assert arch_from_json(variant.arch.to_json()) == variant.arch
    archs = plan.unique_archs()
    assert archs[0] == BASE and len({a.spec_hash() for a in archs}) == len(archs)
    # params do not change with resolution: the resolution variants keep the base's params
    assert all(v.cost["params"] == plan.base.cost["params"] for v in plan.variants if v.rule in ("resolution", "prehead"))


def test_params_targets():
    plan = plan_scaling(BASE, "depth,width", [2], FMNIST, cost="params")
    assert all(abs(math.log(v.ratio / 2)) < 0.15 for v in plan.variants)
    with pytest.raises(UsageError, match="do not change params"):
        plan_scaling(BASE, "width,resolution", [2], FMNIST, cost="params")


def test_latency_targets_match_a_brute_force_with_a_monotone_latency():
    def latency(arch):  # a deterministic stand-in for a measurement: monotone in flops
        spec = arch if not isinstance(arch, ResizedInput) else arch.arch
        resolution = 28 if not isinstance(arch, ResizedInput) else arch.resolution
        return 0.5 + anynet_complexity(spec, resolution, 10, 1).flops / 1e6

    plan = plan_scaling(BASE, "depth,resolution", [2, 3], FMNIST, cost="latency", measure=latency)
    reference = latency(BASE)
    for variant in plan.variants:
        options = [(c.arch, latency(c.arch)) for c in candidates(variant.rule, BASE, FMNIST, 8)]
        arch, value = _nearest(options, variant.multiplier, reference)
        assert variant.cost["latency_ms"] == pytest.approx(value)
        assert variant.extra["latency_measurements"] < len(options) / 4  # bisection, not a sweep
    assert plan.measurements < 40
    with pytest.raises(UsageError, match="measure"):
        plan_scaling(BASE, "depth", [2], FMNIST, cost="latency")


@pytest.mark.parametrize(("call", "match"), [
    (lambda: plan_scaling(NB201Cell(("nor_conv_3x3",) * 6), "depth", [2], InputSpec(32, 3, 10)), "nb201 family"),
    (lambda: plan_scaling(RESNET8, "depth,sideways", [2], FMNIST), "unknown scaling rule"),
    (lambda: plan_scaling(RESNET8, "depth,depth", [2], FMNIST), "repeated"),
    (lambda: plan_scaling(RESNET8, "depth", [2, 2], FMNIST), "repeated"),
    (lambda: plan_scaling(RESNET8, "depth", [0], FMNIST), "positive"),
    (lambda: plan_scaling(RESNET8, "depth", [], FMNIST), "at least one"),
    (lambda: plan_scaling(RESNET8, "width", [2], InputSpec(6, 1, 10)), "below the base model's minimum 8"),
    (lambda: plan_scaling(RESNET8, "width", [2], FMNIST, cost="energy"), "unknown cost"),
    (lambda: plan_scaling(ResizedInput(RESNET8, 40), "width", [2], FMNIST), "already input-resized"),
])
def test_bad_requests_fail_before_any_work(call, match):
    with pytest.raises(UsageError, match=match):
        call()


def test_other_families_scale_by_resolution():
    cell = NB201Cell(("nor_conv_3x3",) * 6)
    inputs = InputSpec(32, 3, 10)
    family = get_family("nb201")
    plan = plan_scaling(cell, "resolution", [2], inputs)
    reference = family.complexity(cell, resolution=32, num_classes=10).flops
    sizes = [(r, family.complexity(cell, resolution=r, num_classes=10).flops)
             for r in range(minimum_resolution(cell, family, inputs), 129)]
    resolution, flops = _nearest(sizes, 2, reference)
    assert plan.variants[0].arch == ResizedInput(cell, resolution) and plan.variants[0].cost["flops"] == flops


def test_resized_specs_are_their_own_identity():
    resized = ResizedInput(RESNET8, 40)
    assert resized.spec_hash() != RESNET8.spec_hash() != ResizedInput(RESNET8, 41).spec_hash()
    assert arch_from_json(resized.to_json()) == resized
    with pytest.raises(InvalidArchitecture, match="resolution"):
        ResizedInput(RESNET8, 0)
    with pytest.raises(InvalidArchitecture, match="arch"):
        ResizedInput(resized, 20)
    with pytest.raises(InvalidArchitecture, match="stride"):
        get_family("resized").validate(ResizedInput(RESNET8, 4))


NSS = NSSArch(depths=(2, 2, 2), widths=(16, 32, 64))
CIFAR = InputSpec(32, 3, 10)


def test_nss_specs_scale_by_depth_and_width_inside_the_expanded_space():
    family = get_family("nss")
    reference = family.complexity(NSS, resolution=32, num_classes=10).flops
    uniform = [((k, k, k), family.complexity(NSSArch((k, k, k), NSS.widths), resolution=32, num_classes=10).flops)
               for k in range(1, 17)]
    plan = plan_scaling(NSS, "depth,width", [2, 4, 8, 16], CIFAR)
    depth = [v for v in plan.variants if v.rule == "depth"]
    for variant in depth[:3]:
        depths, flops = _nearest(uniform, variant.multiplier, reference)
        assert variant.arch.depths == depths and variant.cost["flops"] == flops
    # 16x would need depth 32 per stage: the space stops at 16, so the deepest valid spec is chosen
    assert depth[3].arch.depths == (16, 16, 16) and depth[3].ratio < 16
    for variant in plan.variants:
        family.validate(variant.arch)
        assert max(variant.arch.widths) <= 512 and variant.knobs.get("stem_width") is None
    width = {v.multiplier: v for v in plan.variants if v.rule == "width"}
    assert all(abs(math.log(width[m].ratio / m)) < 0.05 for m in (2, 4, 8))
    with pytest.raises(UsageError, match="'prehead' does not support the nss family"):
        plan_scaling(NSS, "prehead", [2], CIFAR)


def test_nss_compound_and_resolution_variants_are_valid_networks():
    from archspace.checks import check_family

    plan = plan_scaling(NSS, "resolution,compound", [2], CIFAR)
    for variant in plan.variants:
        assert isinstance(variant.arch, ResizedInput) and variant.arch.arch.kind == "nss"
        assert get_family("resized").complexity(variant.arch, num_classes=10).flops == variant.cost["flops"]
    small = plan_scaling(NSSArch((1, 1, 1), (4, 8, 8)), "compound", [2], InputSpec(16, 3, 10))
    check_family(get_family("resized"), [small.variants[0].arch], resolution=16, num_classes=10)


def test_r3d_specs_scale_by_depth_and_width_not_by_2d_resolution():
    r3d = R3DArch((R3DStage(1, 16, 1), R3DStage(1, 32, 2), R3DStage(1, 64, 2)))
    plan = plan_scaling(r3d, "depth,width", [2, 4], CIFAR)
    by_name = {v.name: v for v in plan.variants}
    assert [s.depth for s in by_name["depth@2x"].arch.stages] == [2, 2, 2]
    assert by_name["width@2x"].arch.stem_width == by_name["width@2x"].knobs["stem_width"] > r3d.stem_width
    assert all(abs(math.log(v.ratio / v.multiplier)) < 0.1 for v in plan.variants)
    with pytest.raises(UsageError, match="'resolution' does not support the r3d family"):
        plan_scaling(r3d, "resolution", [2], CIFAR)
    video = AttentionNet(backbone=r3d)
    with pytest.raises(UsageError, match="resize 2-D images"):
        plan_scaling(video, "resolution", [2], CIFAR, family_options={"frames": 4})
