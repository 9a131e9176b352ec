"""The teacher-graph family: converters give the published counts, cost and layer sequence agree
with the built module, bad graphs are refused by field, weights are inherited where shapes allow."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from archspace.arch import arch_from_json
from archspace.checks import check_family
from archspace.compress.teachers import (
    from_anynet,
    from_layers,
    resnet18,
    resnet_cifar,
    resolve_teacher,
    vgg,
)
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import get_family
from archspace.families.anynet.cost import anynet_complexity
from archspace.families.teacher.modules import inherit_weights
from archspace.families.teacher.spec import GraphLayer, TeacherGraph
from archspace.spaces.zoo import get_model


def test_resnet18_has_torchvision_counts():
    cx = get_family("teacher").complexity(resnet18(), resolution=224, num_classes=1000)
    assert cx.params == 11_689_512  # torchvision resnet18
    assert cx.flops == 1_814_074_344  # 1.8 GMACs (He et al. 2016: 1.8e9 FLOPs)


@pytest.mark.parametrize("name,resolution,classes", [("resnet20_cifar", 32, 10), ("resnet50", 224, 1000),
                                                      ("anynetx_tiny", 28, 10), ("resnet8_fmnist", 28, 10)])
def test_zoo_models_convert_with_the_same_cost(name, resolution, classes):
    arch = get_model(name)
    graph = from_anynet(arch)
    assert get_family("teacher").complexity(graph, resolution, classes) == anynet_complexity(arch, resolution, classes)


def test_cifar_resnet20_is_the_published_size():
    assert get_family("teacher").complexity(resnet_cifar(20)).params == 272_474  # "0.27M" of He et al.
    assert len(resnet_cifar(20)) == 1 + 9 * 3 + 2 + 2  # stem, 9 blocks (2 convs + add), 2 projections, pool + fc


def test_family_contract_on_every_layer_kind():
    family = get_family("teacher")
    graphs = [resnet_cifar(8, 4), vgg((4, "M", 8), hidden=(12,)), from_anynet(get_model("anynetx_tiny")),
              from_layers([{"kind": "conv", "width": 6, "kernel": 3, "relu": True},
                           {"kind": "avg_pool", "kernel": 3, "stride": 1, "padding": 1},
                           {"kind": "conv", "width": 6, "kernel": 3, "stride": 2, "groups": 3},
                           {"kind": "add", "inputs": [2], "relu": True},
                           {"kind": "linear", "width": 16, "relu": True}, {"kind": "linear"}])]
    assert check_family(family, graphs) == {"specs": 4}
    assert check_family(get_family("teacher", resolution=28, in_channels=1), [resnet_cifar(8, 4)],
                        in_channels=1) == {"specs": 1}


def test_graphs_round_trip_through_json():
    graph = resnet_cifar(8)
    assert arch_from_json(graph.to_json()) == graph
    assert resolve_teacher(json.loads(graph.to_json())) == graph


@pytest.mark.parametrize("layers,field", [
    ([{"kind": "conv", "width": 4, "kernel": 3}, {"kind": "conv", "width": 8, "kernel": 3},
      {"kind": "add", "inputs": [0, 1]}, {"kind": "global_pool"}, {"kind": "linear"}], "layers[2].inputs"),
    ([{"kind": "conv", "width": 6, "kernel": 3, "groups": 4}, {"kind": "linear"}], "layers[0].groups"),
    ([{"kind": "lstm"}], "layers[0].kind"),
    ([{"kind": "conv", "width": 4, "kernel": 3}, {"kind": "global_pool"}], "layers[1].kind"),
    ([{"kind": "max_pool", "kernel": 2, "stride": 2, "relu": True}, {"kind": "linear"}], "layers[0].relu"),
    ([{"kind": "conv", "width": 4, "kernel": 3, "inputs": [3]}, {"kind": "linear"}], "layers[0].inputs"),
])
def test_bad_graphs_are_refused_naming_the_layer(layers, field):
    with pytest.raises(InvalidArchitecture, match=field.replace("[", r"\[").replace("]", r"\]")):
        get_family("teacher").validate(from_layers(layers))


def test_an_se_network_is_refused_saying_why():
    with pytest.raises(InvalidArchitecture, match="squeeze-excitation"):
        resolve_teacher("regnety_200mf")
    with pytest.raises(UsageError, match="unknown teacher"):
        resolve_teacher("no-such-net")


def test_identity_inherits_the_teacher_exactly_and_shrunk_layers_take_leading_filters():
    family = get_family("teacher", resolution=16)
    teacher = resnet_cifar(8, 8)
    torch.manual_seed(0)
    big = family.build(teacher)
    big.eval()
    student = family.build(teacher)
    assert inherit_weights(student, teacher, big, teacher) == sum(1 for _ in big.state_dict())
    student.eval()
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(student(x), big(x))
    layers = list(teacher.layers)
    layers[1] = GraphLayer(**{**vars(layers[1]), "width": 5})  # first block's first conv: 8 -> 5 filters
    small_graph = TeacherGraph(tuple(layers))
    small = family.build(small_graph)
    inherit_weights(small, small_graph, big, teacher)
    assert torch.equal(small.nodes[1][0].weight, big.nodes[1][0].weight[:5])
    assert torch.equal(small.nodes[2][0].weight, big.nodes[2][0].weight[:, :5])
    assert np.isclose(float(small.nodes[1][1].running_var.sum()), float(big.nodes[1][1].running_var[:5].sum()))
