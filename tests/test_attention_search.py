"""The attention supergraph and its derivation rule, the moving Fashion-MNIST clips, and the
attention workflow's checks before work."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archspace.data.dataset import dataset_from_arrays
from archspace.data.video import CANVAS, ITEM, make_clips
from archspace.errors import UsageError
from archspace.experiments.attention import AttentionSearchConfig, check_data, nonlocal_cell
from archspace.families import get_family
from archspace.families.attention.spec import AttentionNet
from archspace.families.attention.supernet import (
    SupergraphCell,
    SupergraphConfig,
    SupergraphNetwork,
)
from archspace.spaces.attention import DEFAULT_IMAGE_BACKBONE


def test_supergraph_derives_the_strongest_connections():
    config = SupergraphConfig(levels=3, nodes=3, keep=2)
    cell = SupergraphCell(config, channels=16)
    with torch.no_grad():
        cell.sink.copy_(torch.tensor([0.0, 2.0, 1.0]))           # keep last-level nodes 1, 2
        cell.connections[1].copy_(torch.tensor([[9.0, 0, 0],      # node 0 is not kept
                                                [3.0, 0.0, 2.0],  # node 1 reads level-2 nodes 0, 2
                                                [0.0, 5.0, 4.0]]))  # node 2 reads 1, 2
        cell.connections[0].copy_(torch.tensor([[1.0, 0.0, 2.0],  # level-2 node 0 reads level-1 0, 2
                                                [9.0, 9, 9],
                                                [0.0, 3.0, 1.0]]))  # level-2 node 2 reads 1, 2
    derived = cell.derive()
    # Sink keeps level-3 nodes {1, 2}; they read level-2 {0, 2} and {1, 2}, so level 2 keeps all
    # three, which read level-1 {0, 2}, {0, 1} (a tie: lower indices) and {1, 2}. Ops are numbered
    # in level order: level 1 -> ops 1-3, level 2 -> ops 4-6, level 3 -> ops 7-8.
    kinds = [(op.type, op.inputs) for op in derived.ops]
    assert kinds[:3] == [("dot", (0,)), ("map", (0,)), ("dot", (0,))]
    level2 = derived.ops[3:6]
    assert [op.inputs for op in level2] == [(1, 3), (1, 2), (2, 3)]
    assert [op.inputs for op in derived.ops[6:]] == [(4, 6), (5, 6)]
    assert len(derived.ops) == 8


def test_supergraph_starts_as_the_identity_and_splits_its_parameters():
    family = get_family("attention_net")
    torch.manual_seed(0)
    plain = family.build(AttentionNet(DEFAULT_IMAGE_BACKBONE), num_classes=10, in_channels=1).eval()
    net = SupergraphNetwork(AttentionNet(DEFAULT_IMAGE_BACKBONE), plain.backbone, SupergraphConfig(output_scale=0.0),
                            (1, 2)).eval()
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(net(x), plain(x))
    connections = net.connection_parameters()
    assert len(connections) == 1 + 1  # shared by the insertion points: one level of connections and the sink
    assert len(connections) + len(net.weight_parameters()) == len(list(net.parameters()))


def test_supergraph_config_is_checked():
    with pytest.raises(UsageError, match="levels"):
        SupergraphConfig(levels=0)
    with pytest.raises(UsageError, match="keep"):
        SupergraphConfig(nodes=2, keep=3)
    with pytest.raises(UsageError, match="node kind"):
        SupergraphConfig(node_kinds=(("conv", "spatial"),))


def test_moving_clips_move_one_pixel_per_frame_in_the_labelled_direction():
    rng = np.random.default_rng(0)
    images = rng.integers(1, 255, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40) % 10
    clips, targets = make_clips(images, labels, seed=3)
    assert clips.shape == (40, 1, 8, CANVAS, CANVAS) and set(np.unique(targets // 2)) == set(range(10))
    columns = np.arange(CANVAS)
    for clip, target in zip(clips[:, 0], targets):
        lefts = [int(columns[(frame > 0).any(axis=0)].min()) for frame in clip]
        step = 1 if target % 2 == 1 else -1
        assert np.diff(lefts).tolist() == [step] * 7
        assert all((frame > 0).any(axis=0).sum() == ITEM for frame in clip)
    again, _ = make_clips(images, labels, seed=3)
    assert np.array_equal(clips, again)


def test_clips_are_normalized_per_channel():
    clips = np.random.default_rng(1).integers(0, 255, size=(30, 2, 4, 6, 6), dtype=np.uint8)
    data = dataset_from_arrays("clips", clips, np.arange(30) % 3, clips[:6], np.arange(6) % 3, val_size=5)
    assert data.image_shape == (2, 4, 6, 6) and data.resolution == 6
    assert torch.allclose(data.train.images.mean(dim=(0, 2, 3, 4)), torch.zeros(2), atol=1e-5)


def test_the_workflow_refuses_mismatched_data_before_training():
    images = dataset_from_arrays("im", np.zeros((20, 1, 8, 8), np.uint8), np.arange(20) % 2,
                                 np.zeros((4, 1, 8, 8), np.uint8), np.arange(4) % 2)
    with pytest.raises(UsageError, match="--frames 8 needs clips of 8 frames"):
        check_data(AttentionSearchConfig(frames=8), images)
    with pytest.raises(UsageError, match="final_seeds"):
        AttentionSearchConfig(final_seeds=(0, 0))
    assert nonlocal_cell("spatiotemporal").ops[0].dimension == "spatiotemporal"


def test_a_video_supergraph_runs_on_clips_and_derives_a_temporal_cell():
    from archspace.spaces.attention import DEFAULT_VIDEO_BACKBONE

    family = get_family("attention_net", frames=8)
    config = SupergraphConfig(levels=2, nodes=2, node_kinds=(("dot", "temporal"), ("map", "spatiotemporal")))
    backbone = family.backbone_family().build(DEFAULT_VIDEO_BACKBONE, num_classes=20, in_channels=1)
    net = SupergraphNetwork(AttentionNet(DEFAULT_VIDEO_BACKBONE), backbone, config, (1,))
    assert net(torch.randn(2, 1, 8, 28, 28)).shape == (2, 20)
    cell = net.derive()
    assert family.validate(AttentionNet(DEFAULT_VIDEO_BACKBONE, cell, (1,))).insert.temporal


def test_a_resumed_search_with_other_settings_is_refused_before_training(tmp_path):
    from archspace.experiments.attention import open_search_studies

    config = AttentionSearchConfig(db=str(tmp_path / "a.db"), strategies=("gp-bandit", "rs"))
    assert set(open_search_studies(config)) == {"gp-bandit", "rs"}
    assert set(open_search_studies(AttentionSearchConfig(db=config.db, strategies=("rs",), budget=20))) == {"rs"}
    with pytest.raises(UsageError, match=r"attention-gp-bandit-s0.*epochs: stored 3, given 5"):
        open_search_studies(AttentionSearchConfig(db=config.db, strategies=("gp-bandit",), epochs=5))
