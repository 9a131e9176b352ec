"""Specs: JSON round trip, stable hashes, and specific errors for bad input (incl. property tests)."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from archspace.arch import arch_from_dict, arch_from_json
from archspace.complexity.measure import measure_arch
from archspace.errors import InvalidArchitecture
from archspace.families import family_for
from archspace.families.anynet.cost import anynet_complexity
from archspace.families.anynet.spec import AnyNetArch, validate_anynet
from archspace.spaces.zoo import get_model


def test_json_round_trip_and_hash():
    arch = get_model("regnety_400mf")
    again = arch_from_json(arch.to_json())
    assert again == arch and hash(again) == hash(arch)
    assert again.spec_hash() == arch.spec_hash()
    # A hand-written spec with ints where floats are canonical hashes the same.
    data = json.loads(arch.to_json())
    for stage in data["stages"]:
        stage["bottleneck_ratio"] = int(stage["bottleneck_ratio"])
    assert arch_from_dict(data).spec_hash() == arch.spec_hash()


def test_spec_hash_is_stable_across_versions():
    """The hash is part of the storage format: it must not change silently."""
    assert get_model("resnet50").spec_hash() == "f3bfb3994f79abfc"


BASE = {"kind": "anynet", "block": "X", "stages": [{"depth": 2, "width": 64, "bottleneck_ratio": 1, "group_width": 8}]}


def _with_stage(**changes):
    data = json.loads(json.dumps(BASE))
    data["stages"][0].update(changes)
    return data


@pytest.mark.parametrize("data,field,message", [
    ({**BASE, "colour": "red"}, "colour", "unknown field"),
    (_with_stage(width=-8), "stages[0].width", ">= 1"),
    (_with_stage(width=64.5), "stages[0].width", "integer"),
    (_with_stage(group_width=24), "stages[0].group_width", "divide the bottleneck width 64"),
    (_with_stage(stride=3), "stages[0].stride", "[1, 2]"),
    (_with_stage(bottleneck_ratio=3), "stages[0].bottleneck_ratio", "positive integer"),
    (_with_stage(shape="round"), "stages[0].shape", "unknown field"),
    ({**BASE, "block": "Q"}, "block", "V"),
    ({**BASE, "stem": "big"}, "stem", "simple_stem_in"),
    ({"kind": "resnet"}, "kind", "unknown kind"),
])
def test_bad_specs_name_the_field(data, field, message):
    with pytest.raises(InvalidArchitecture) as info:
        validate_anynet(arch_from_dict(data))
    assert info.value.field == field
    assert message in str(info.value)


def test_json_syntax_error():
    with pytest.raises(InvalidArchitecture, match="JSON syntax error at line 1"):
        arch_from_json('{"kind": "anynet",')


def test_stride_below_one_pixel():
    arch = AnyNetArch.from_lists([1] * 5, [8, 16, 32, 64, 128], [2] * 5)
    anynet_complexity(arch, resolution=64)  # 2 (stem) * 2^5 = 64: a 1x1 map is fine
    with pytest.raises(InvalidArchitecture, match="below 1x1") as info:
        anynet_complexity(arch, resolution=32)
    assert info.value.field == "stages[4].stride"


# Example counts, randomness and the example database come from the hypothesis profile loaded in
# conftest.py (`ci`: derandomized; `dev` / `explore`: random). Failures found by exploring are
# pinned below with @example so that every profile keeps checking them.
@st.composite
def valid_stage(draw):
    """A stage that is valid by construction: width = b * g * k, so g divides the bottleneck width."""
    ratio, group_width, multiple = draw(st.sampled_from([1, 2, 4])), draw(st.sampled_from([1, 2, 4, 8])), draw(st.integers(1, 6))
    return {"depth": draw(st.integers(1, 3)), "width": ratio * group_width * multiple,
            "stride": draw(st.sampled_from([1, 2])), "bottleneck_ratio": ratio, "group_width": group_width}


# Any values, valid or not; mixed with valid stages so that some specs pass validation and are
# compared with torch (with arbitrary stages alone, almost none does).
any_stage = st.fixed_dictionaries({
    "depth": st.integers(-1, 3),
    "width": st.one_of(st.integers(-8, 96), st.floats(1, 64)),
    "stride": st.sampled_from([0, 1, 2, 3, 1.0]),
    "bottleneck_ratio": st.sampled_from([0.5, 1, 2, 3, 4, -1, 0, math.nan, math.inf]),
    "group_width": st.integers(0, 20),
})
spec_strategy = st.fixed_dictionaries({
    "kind": st.just("anynet"),
    "block": st.sampled_from(["V", "R", "X", "Y", "Z"]),
    "stem": st.sampled_from(["simple_stem_in", "res_stem_in", "res_stem_cifar"]),
    "stem_width": st.integers(0, 24),
    "se_ratio": st.one_of(st.just(0.25), st.sampled_from([0, 1, 1.5, -0.5, math.nan, math.inf])),
    "stages": st.lists(st.one_of(valid_stage(), any_stage), min_size=1, max_size=5),
})

# group_width 0 in a V block: cost used to be computed before validation (ZeroDivisionError).
ZERO_GROUP_WIDTH_SPEC = {"kind": "anynet", "block": "V", "stem": "simple_stem_in", "stem_width": 1,
                         "stages": [{"depth": 1, "width": 1, "stride": 1, "bottleneck_ratio": 0.5, "group_width": 0}]}
# stride 1.0 passed `stride in (1, 2)`, and then torch's conv rejected the float stride (TypeError).
FLOAT_STRIDE_SPEC = {"kind": "anynet", "block": "X", "stem": "res_stem_cifar", "stem_width": 8,
                     "stages": [{"depth": 1, "width": 8, "stride": 1.0, "bottleneck_ratio": 1, "group_width": 8}]}


@given(spec_strategy, st.sampled_from([16, 32, 48]))
@example(ZERO_GROUP_WIDTH_SPEC, 16)
@example(FLOAT_STRIDE_SPEC, 32)
def test_random_specs_are_rejected_cleanly_or_agree_with_torch(data, resolution):
    """Any spec either fails with InvalidArchitecture, or its analytic cost equals the measured one."""
    try:
        arch = validate_anynet(arch_from_dict(data))
        cx = anynet_complexity(arch, resolution=resolution, num_classes=10)
    except InvalidArchitecture:
        return
    assert measure_arch(family_for(arch), arch, resolution, 10) == cx


valid_spec_strategy = st.fixed_dictionaries({
    "kind": st.just("anynet"),
    "block": st.sampled_from(["V", "R", "X", "Y"]),
    "stem": st.sampled_from(["simple_stem_in", "res_stem_in", "res_stem_cifar"]),
    "stem_width": st.integers(1, 24),
    "head_width": st.sampled_from([0, 0, 24]),
    "stages": st.lists(valid_stage(), min_size=1, max_size=4),
})


@given(valid_spec_strategy)
def test_valid_random_specs_agree_with_torch(data):
    """Specs valid by construction: validation passes and analytic == measured at 64x64."""
    arch = validate_anynet(arch_from_dict(data))
    assert measure_arch(family_for(arch), arch, 64, 10) == anynet_complexity(arch, resolution=64, num_classes=10)


def test_built_model_runs_forward_and_backward():
    arch = get_model("anynetx_tiny")
    model = family_for(arch).build(arch, num_classes=10, in_channels=1)
    out = model(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 10)
    out.sum().backward()
