"""The attention-cell family, the R3D video backbone, the attention space and the GP bandit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from archspace.arch import arch_from_json
from archspace.checks import check_family, check_space, check_strategy
from archspace.errors import InvalidArchitecture, UsageError
from archspace.families import get_family
from archspace.families.attention.cost import Site, cell_cost
from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp, SEInsert
from archspace.families.r3d.spec import R3DArch, R3DStage
from archspace.search.registry import make_strategy
from archspace.spaces.attention import DEFAULT_IMAGE_BACKBONE, DEFAULT_VIDEO_BACKBONE
from archspace.spaces.registry import get_space

IMAGE = {"resolution": 28, "num_classes": 10, "in_channels": 1}


def op(dimension="spatial", type_="dot", activation="softmax", gating=False, inputs=(0,)):
    return AttentionOp(dimension, type_, activation, gating, tuple(inputs))


def every_op_row_cells(dimensions):
    """Cells that use every row of the table at least once: types, activations, gating, kv sources."""
    cells = []
    for kv in ("input", "cell"):
        for divisor in (1, 2, 4):
            ops = [op(dimensions[0], "dot", "softmax", False, (0,))]
            for index, (t, a) in enumerate([("map", "sigmoid"), ("dot", "relu"), ("map", "none"), ("dot", "softmax")]):
                ops.append(op(dimensions[(index + 1) % len(dimensions)], t, a, index % 2 == 0,
                              tuple(range(0, index + 2, 1 + index % 2))))
            cells.append(AttentionCell(tuple(ops), op_divisor=divisor, inner_divisor=(2, 4, 8)[divisor // 2],
                                       kv_source=kv))
    return cells


def test_image_cells_cost_what_the_module_measures():
    family = get_family("attention_net")
    archs = [AttentionNet(DEFAULT_IMAGE_BACKBONE, cell, (0, 2)) for cell in every_op_row_cells(["spatial"])]
    archs += [AttentionNet(DEFAULT_IMAGE_BACKBONE, SEInsert(0.25), (1,)), AttentionNet(DEFAULT_IMAGE_BACKBONE)]
    assert check_family(family, archs, **IMAGE) == {"specs": len(archs)}


def test_video_cells_and_r3d_cost_what_the_module_measures():
    family = get_family("attention_net", frames=8)
    cells = every_op_row_cells(["spatial", "temporal", "spatiotemporal"])
    archs = [AttentionNet(DEFAULT_VIDEO_BACKBONE, cell, (0, 1)) for cell in cells[:3]]
    assert check_family(family, archs, **IMAGE) == {"specs": 3}
    assert check_family(get_family("r3d", frames=4), [DEFAULT_VIDEO_BACKBONE], **IMAGE) == {"specs": 1}


def test_attention_matmuls_are_counted_by_hand():
    """One dot-product spatiotemporal op at C=8 on 2x3x3: every term of the count, written out."""
    cell = AttentionCell((op("spatiotemporal", "dot", "softmax"),), op_divisor=2, inner_divisor=4)
    c, c_op, c_inner, positions = 8, 4, 2, 2 * 3 * 3
    expected_flops = (c * c_inner * positions * 2        # Q and K
                      + positions * positions * (c_inner + c)  # Q K^T and A V
                      + c * c_op * positions             # G3
                      + c_op * c * positions)            # output projection
    expected_params = c * c_inner * 2 + c * c_op + c_op * c
    assert cell_cost(cell, Site(c, 2, 3, 3)).flops == expected_flops
    assert cell_cost(cell, Site(c, 2, 3, 3)).params == expected_params


def test_an_inserted_cell_starts_as_the_identity():
    family = get_family("attention_net")
    cell = every_op_row_cells(["spatial"])[0]
    torch.manual_seed(0)
    plain = family.build(AttentionNet(DEFAULT_IMAGE_BACKBONE), num_classes=10, in_channels=1).eval()
    torch.manual_seed(0)
    with_cell = family.build(AttentionNet(DEFAULT_IMAGE_BACKBONE, cell, (0, 1, 2)), num_classes=10,
                             in_channels=1).eval()
    with_cell.backbone.load_state_dict(plain.backbone.state_dict())
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(plain(x), with_cell(x))


def test_specs_round_trip_and_bad_specs_name_the_field():
    cell = every_op_row_cells(["spatial"])[1]
    arch = AttentionNet(DEFAULT_IMAGE_BACKBONE, cell, (1,))
    assert arch_from_json(arch.to_json()) == arch
    with pytest.raises(InvalidArchitecture, match=r"ops\[1\].inputs.*does not exist"):
        AttentionCell((op(), op(inputs=(0, 2))))
    with pytest.raises(InvalidArchitecture, match=r"ops.*K = 1..8"):
        AttentionCell(())
    with pytest.raises(InvalidArchitecture, match=r"ops\[0\].inputs"):
        AttentionCell((op(inputs=(0, 1)),))
    with pytest.raises(InvalidArchitecture, match="positions"):
        AttentionNet(DEFAULT_IMAGE_BACKBONE, cell, (3,))
    temporal = AttentionNet(DEFAULT_IMAGE_BACKBONE, AttentionCell((op("temporal"),)), (1,))
    with pytest.raises(InvalidArchitecture, match=r"temporal attention needs video"):
        get_family("attention_net").validate(temporal)
    one_frame = R3DArch(stages=(R3DStage(1, 8, 2), R3DStage(1, 8, 2)), stem_width=4)
    with pytest.raises(InvalidArchitecture, match="sees 1 frame"):
        get_family("attention_net", frames=2).validate(AttentionNet(one_frame, AttentionCell((op("temporal"),)), (1,)))


@pytest.mark.parametrize("frames", [1, 8])
def test_the_attention_space_passes_the_contract(frames):
    space = get_space("attention", frames=frames, positions=[1, 2])
    assert check_space(space, n=6, build=True, input_spec=IMAGE)["capabilities"] == 3


def test_space_size_is_the_brute_force_count():
    """One choice per op field but gating, K <= 2: 2 + 2 * 2 * 3 = 14 cells; sampling finds them all."""
    space = get_space("attention", max_ops=2, types=["dot"], activations=["softmax"], op_divisors=[2],
                      inner_divisors=[4], kv_sources=["input"])
    assert space.size() == 14
    rng = np.random.default_rng(0)
    assert len({space.sample(rng) for _ in range(2000)}) == 14
    full = get_space("attention")
    per_op = 1 * 2 * 4 * 2
    assert full.size() == (per_op + per_op**2 * 3 + per_op**3 * 3 * 7) * 3 * 3 * 2


def test_neighbors_change_one_choice_and_encode_is_injective():
    space = get_space("attention")
    arch = space.sample(3)
    neighbors = space.neighbors(arch)
    assert arch not in neighbors and len(set(neighbors)) == len(neighbors)
    codes = {tuple(space.encode(a)) for a in neighbors}
    assert len(codes) == len(neighbors) and tuple(space.encode(arch)) not in codes


def test_bad_space_options_are_refused():
    with pytest.raises(UsageError, match="temporal attention on images"):
        get_space("attention", dimensions=["temporal"])
    with pytest.raises(UsageError, match=r"max_ops \(K\)"):
        get_space("attention", max_ops=0)
    with pytest.raises(UsageError, match="positions"):
        get_space("attention", positions=[7])


@pytest.mark.parametrize("space", ["nb201", "attention"])
def test_gp_bandit_is_a_valid_strategy(space):
    report = check_strategy(lambda s, seed: make_strategy("gp-bandit", s, seed, n_init=4, n_candidates=60),
                            get_space(space), steps=8)
    assert report == {"asks": 8}


def test_gp_bandit_proposes_the_lowest_confidence_bound():
    """With beta = 0 the bound is the posterior mean: on a smooth objective over nb201 the
    proposal after warm-up beats the warm-up median."""
    space = get_space("nb201")
    strategy = make_strategy("gp-bandit", space, 0, n_init=12, n_candidates=400, beta=0.0)
    from archspace.evaluation import Result

    def objective(cell):
        return float(sum(o == "nor_conv_3x3" for o in cell.ops) * -1.0 + 0.1 * sum(o == "none" for o in cell.ops))

    values = []
    for _ in range(12):
        arch = strategy.ask()
        values.append(objective(arch))
        strategy.tell(arch, Result(objective=values[-1]))
    proposal = strategy.ask()
    assert objective(proposal) < float(np.median(values))
    assert math.isclose(strategy.config()["beta"], 0.0)
