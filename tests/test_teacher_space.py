"""The teacher-derived space: what may change, sampling with priors, validity, capabilities, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from archspace.checks import check_family, check_space
from archspace.compress.teachers import vgg
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families.teacher.operations import Operations
from archspace.families.teacher.spec import GraphLayer, TeacherGraph
from archspace.spaces.registry import get_space
from archspace.spaces.teacher import TeacherSpace


def test_structure_of_the_cifar_resnet8():
    space = TeacherSpace("resnet8")
    s = space.structure
    # stem, and per block the stride-1 convs: block 1 both convs, blocks 2-3 their second conv
    assert s.removable == (0, 1, 2, 5, 9)
    # the residual stream of each stage is one group; each block's first conv is its own
    assert len(s.groups) == 6
    # stem + block 1's second conv; per later block its second conv + the projection it is summed with
    assert s.groups == ((0, 2), (1,), (4,), (5, 6), (8,), (9, 10))
    assert space.from_operations(s.identity()) == space.teacher_graph


def test_space_contract_and_cost_agree_with_the_module():
    space = get_space("teacher", teacher="resnet8", resolution=16)
    assert check_space(space, n=6, build=True, input_spec={"resolution": 16, "num_classes": 10})["samples"] == 12
    fashion = TeacherSpace("resnet8", resolution=28, in_channels=1, remove_prob=0.6)
    archs = fashion.sample_batch(np.random.default_rng(3), 5)
    assert check_family(fashion.family, archs, in_channels=1) == {"specs": 5}


def test_every_operation_combination_of_a_small_vgg_is_valid_or_refused_by_field():
    """Brute force over all 2^removable x ratios x 2^skips candidates of a 3-conv VGG."""
    space = TeacherSpace(vgg((4, 4, 4, "M", 8)), resolution=8, ratio_step=0.5, min_ratio=0.5, max_skip_span=3)
    s = space.structure
    assert s.removable == (0, 1, 2, 4) and len(s.groups) == 4 and s.skip_pairs == ((0, 2),)
    teacher_params = space.complexity(space.teacher_graph).params
    seen = set()
    for removed in itertools.product((False, True), repeat=4):
        for ratios in itertools.product((0.5, 1.0), repeat=4):
            for skips in itertools.product((False, True), repeat=1):
                ops = Operations(removed, ratios, skips)
                if all(removed):
                    with pytest.raises(InvalidArchitecture, match="removes every removable layer"):
                        space.from_operations(ops)
                    continue
                graph = space.from_operations(ops)
                space.validate(graph)
                assert space.complexity(graph).params <= teacher_params
                seen.add(graph)
    assert len(seen) > 20
    check_family(space.family, sorted(seen, key=lambda g: g.to_json())[:6])


def test_sampling_follows_the_priors():
    rng = np.random.default_rng(0)
    never = TeacherSpace("resnet20", remove_prob=0.0, shrink_prob=1.0, skip_prob=0.0)
    for arch in never.sample_batch(rng, 5):
        assert len(arch) == len(never.teacher_graph)  # nothing removed, no skip added
        assert never.complexity(arch).params < never.complexity(never.teacher_graph).params
    often = TeacherSpace("resnet20", remove_prob=0.9, shrink_prob=0.0)
    assert np.mean([len(a) for a in often.sample_batch(rng, 20)]) < len(often.teacher_graph) - 10


def test_mutate_and_encode_read_the_spec_alone():
    space = TeacherSpace("resnet8")
    arch = space.sample(np.random.default_rng(1))
    fresh = TeacherSpace("resnet8")  # knows nothing of how arch was drawn
    assert np.array_equal(space.encode(arch), fresh.encode(arch))
    assert space.mutate(arch, 5) == fresh.mutate(arch, 5) != arch
    assert len(space.encode(arch)) == space.summary()["dimension"]


def test_a_user_candidate_with_a_mismatched_skip_is_refused():
    space = TeacherSpace("resnet8", resolution=16)
    layers = list(space.teacher_graph.layers)
    layers[7] = GraphLayer(**{**vars(layers[7]), "inputs": (*layers[7].inputs, 0)})  # stage 2's sum reads the stem
    with pytest.raises(InvalidArchitecture, match=r"layers\[7\]\.inputs.*equal shapes"):
        space.validate(TeacherGraph(tuple(layers)))


@pytest.mark.parametrize("options,message", [({"remove_prob": 1.0}, "remove every layer"),
                                             ({"min_ratio": 0.0}, "min_ratio"), ({"min_ratio": 1.5}, "min_ratio"),
                                             ({"skip_prob": -0.1}, "skip_prob"), ({"teacher": "nope"}, "unknown teacher")])
def test_bad_options_are_refused(options, message):
    with pytest.raises(UsageError, match=message):
        TeacherSpace(**options)


def test_ratios_outside_the_unit_interval_are_refused():
    space = TeacherSpace("resnet8")
    ops = space.structure.identity()
    with pytest.raises(InvalidArchitecture, match=r"ratios\[0\].*\(0, 1\]"):
        space.from_operations(Operations(ops.removed, (1.5, *ops.ratios[1:]), ops.skips))
