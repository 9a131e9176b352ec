"""The attention supergraph learns its connections: its own Adam on the logits (out of the weights'
SGD and weight decay), the small nonzero output projection, training on real digits, the
derivation rule against brute force, video node kinds, and reused final rows."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch

from archspace.cli import main
from archspace.errors import UsageError
from archspace.experiments.attention import (
    VIDEO_NODE_KINDS,
    AttentionSearchConfig,
    _evaluator,
    _recipe,
    attention_space,
    final_comparison,
    nonlocal_cell,
    stored_rows,
    supergraph_markdown,
    train_supergraph,
)
from archspace.families import get_family
from archspace.families.attention.spec import AttentionCell, AttentionNet, SEInsert
from archspace.families.attention.supernet import (
    ConnectionOptimizer,
    ConnectionRecipe,
    SupergraphCell,
    SupergraphConfig,
    SupergraphNetwork,
    uniform_distance,
)
from archspace.spaces.attention import DEFAULT_IMAGE_BACKBONE

# digits (8x8, scikit-learn's, shipped with it): 512 training images, batch 64 -> 8 steps an epoch
DIGITS = {"dataset": "digits", "train_subset": 512, "val_size": 300, "epochs": 2, "batch_size": 64}


def _network(config: SupergraphConfig, positions: tuple[int, ...] = (1, 2), seed: int = 0) -> SupergraphNetwork:
    torch.manual_seed(seed)
    backbone = get_family("attention_net").backbone_family().build(DEFAULT_IMAGE_BACKBONE, 10, 1)
    return SupergraphNetwork(AttentionNet(DEFAULT_IMAGE_BACKBONE), backbone, config, positions)


def test_training_on_digits_moves_the_connections_and_derives_from_them():
    config = AttentionSearchConfig(**DIGITS)
    space = attention_space(config)
    first = train_supergraph(config, space)
    assert first["status"] == "complete" and first["connection_steps"] == 2 * 8
    start = first["trajectory"][0]["connections"]
    assert uniform_distance(start) < 1e-6  # zero logits (float32 softmax)
    # Adam moves a logit by about lr per step at most: 16 steps of 0.03, |dz| <~ 0.48
    assert 0.02 < first["distance_from_uniform"] < 0.3
    # the derived cell is the derivation of the learned weights
    net = _network(config.supergraph)
    with torch.no_grad():
        net.first_cell().sink.copy_(torch.log(torch.tensor(first["connections"]["sink"])))
        net.first_cell().connections[0].copy_(torch.log(torch.tensor(first["connections"]["levels"][0])))
    assert net.derive() == first["cell"]
    text = "\n".join(supergraph_markdown({**first, "cell": first["cell"].to_dict()}))
    assert "after 16 Adam steps" in text and "Derived cell: op1 spatial dot softmax <- f0" in text
    # seeded: the same run gives the same weights
    assert train_supergraph(config, space)["connections"] == first["connections"]


def test_the_session_2_recipe_leaves_the_connections_uniform():
    """Zero output projection + logits in the trainer's SGD (the old setup): they stay at 1/3."""
    from archspace.train.trainer import train

    config = AttentionSearchConfig(**DIGITS)
    data = _evaluator(config, attention_space(config), test=False).load()
    net = _network(SupergraphConfig(output_scale=0.0))
    train(net, data, _recipe(config), seed=0, evaluate_test=False)
    assert uniform_distance(net.connection_weights()) < 2e-3


def test_the_connection_optimizer_takes_the_logits_out_of_the_weights_optimizer():
    net = _network(SupergraphConfig())
    x = torch.randn(8, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = torch.arange(8) % 10
    logits = net.connection_parameters()
    assert len(logits) == 2  # shared by both insertion points: one level of connections and the sink
    assert net.inserts["1"].sink is net.inserts["2"].sink
    grads = torch.autograd.grad(torch.nn.functional.cross_entropy(net(x), y), logits)
    assert all(g.abs().min() > 0 for g in grads)  # the nonzero projection lets gradient through at step 1
    weights = torch.optim.SGD(net.parameters(), lr=0.1, weight_decay=0.5)
    optimizer = ConnectionOptimizer(logits, ConnectionRecipe(lr=0.01))
    with optimizer.attached():
        weights.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()
        weights.step()
    assert optimizer.steps == 1 and all(p.grad is None for p in logits)
    assert all(p.grad is not None for p in net.weight_parameters())
    # from zero, Adam's first step is -lr * g / (|g| + eps); weight decay 0.5 never touched them
    for p, g in zip(logits, grads):
        assert torch.allclose(p.detach(), -0.01 * g / (g.abs() + 1e-8), atol=1e-6)
    net.zero_grad()  # outside ``attached()`` the hooks are gone: the logits keep their gradient
    torch.nn.functional.cross_entropy(net(x), y).backward()
    assert all(p.grad is not None for p in logits)


def test_output_scale_zero_is_the_identity_start_and_the_default_is_not():
    family = get_family("attention_net")
    torch.manual_seed(0)
    plain = family.build(AttentionNet(DEFAULT_IMAGE_BACKBONE), num_classes=10, in_channels=1).eval()
    x = torch.randn(2, 1, 28, 28)
    for scale, same in ((0.0, True), (0.1, False)):
        net = SupergraphNetwork(AttentionNet(DEFAULT_IMAGE_BACKBONE), plain.backbone,
                                SupergraphConfig(output_scale=scale), (1, 2)).eval()
        with torch.no_grad():
            assert torch.equal(net(x), plain(x)) is same
    with pytest.raises(UsageError, match="output_scale"):
        SupergraphConfig(output_scale=2.0)


def _brute_top(weights: list[float], keep: int) -> list[int]:
    """The keep-subset of largest total weight (lexicographically first on ties), by enumeration."""
    subsets = itertools.combinations(range(len(weights)), keep)
    return list(max(subsets, key=lambda s: (sum(weights[i] for i in s), [-i for i in s])))


@pytest.mark.parametrize(("levels", "nodes", "keep"), [(3, 3, 2), (4, 4, 1), (2, 4, 3), (2, 5, 2), (1, 4, 3)])
def test_derivation_keeps_the_largest_weights_by_brute_force(levels, nodes, keep):
    config = SupergraphConfig(levels=levels, nodes=nodes, keep=keep)
    rng = np.random.default_rng(10 * levels + nodes)
    cell = SupergraphCell(config, channels=16)
    with torch.no_grad():
        cell.sink.copy_(torch.tensor(rng.normal(size=nodes)))
        for matrix in cell.connections:
            matrix.copy_(torch.tensor(rng.normal(size=(nodes, nodes))))
    weights = cell.connection_weights()
    kept, inputs = cell.kept_graph()
    assert kept[-1] == _brute_top(weights["sink"], keep)
    for level in range(levels - 1, 0, -1):
        for node in kept[level]:
            assert inputs[(level, node)] == _brute_top(weights["levels"][level - 1][node], keep)
        assert kept[level - 1] == sorted({i for node in kept[level] for i in inputs[(level, node)]})
    derived = cell.derive()
    numbered = [(level, node) for level in range(levels) for node in kept[level]]  # op k + 1 = numbered[k]
    assert len(derived.ops) == len(numbered)
    for op, (level, node) in zip(derived.ops, numbered):
        expected = (0,) if level == 0 else tuple(sorted(numbered.index((level - 1, i)) + 1
                                                         for i in inputs[(level, node)]))
        assert op.inputs == expected and op.type == config.node_op(level, node).type


def test_a_supergraph_whose_derived_cell_could_exceed_the_op_limit_is_refused():
    with pytest.raises(UsageError, match="up to 10 ops"):
        SupergraphConfig(levels=3, nodes=4, keep=2)  # 2 + 4 + 4 kept nodes; a cell has at most 8


def test_video_supergraphs_use_temporal_kinds_and_images_refuse_them(capsys):
    video = AttentionSearchConfig(dataset="moving-fashion-mnist", frames=8)
    assert video.supergraph.node_kinds == VIDEO_NODE_KINDS
    assert [video.supergraph.node_op(0, n).dimension for n in range(3)] == ["spatiotemporal", "temporal", "spatial"]
    assert AttentionSearchConfig().supergraph.node_kinds == SupergraphConfig().node_kinds
    with pytest.raises(UsageError, match=r"\(map, temporal\) attend over time, but images have T = 1"):
        AttentionSearchConfig(supergraph=SupergraphConfig(node_kinds=(("dot", "spatial"), ("map", "temporal"))))
    with pytest.raises(UsageError, match="images have T = 1"):
        _network(SupergraphConfig(node_kinds=VIDEO_NODE_KINDS))
    for kinds, message in (("dot:spatiotemporal", "images have T = 1"), ("dot", "TYPE:DIMENSION"),
                           ("conv:spatial", "node kind")):
        status = main(["attention", "search", "--out", "unused-out", "--supergraph-kinds", kinds])
        err = capsys.readouterr().err.strip()
        assert status == 2 and message in err and len(err.splitlines()) == 1


def test_final_rows_of_an_earlier_run_are_reused_only_with_the_same_settings(tmp_path):
    config = AttentionSearchConfig(out_dir=str(tmp_path), **DIGITS, final_seeds=(0,))
    space = attention_space(config)
    cell = SupergraphConfig().node_op(0, 0)
    specs = [AttentionNet(DEFAULT_IMAGE_BACKBONE), AttentionNet(DEFAULT_IMAGE_BACKBONE, nonlocal_cell(), (1, 2)),
             AttentionNet(DEFAULT_IMAGE_BACKBONE, SEInsert(0.25), (1, 2)),
             AttentionNet(DEFAULT_IMAGE_BACKBONE, AttentionCell((cell,)), (1, 2))]
    rows = [{"model": f"m{i}", "val_errors": [float(i)], "test_errors": [float(i)], "spec": s.to_dict()}
            for i, s in enumerate(specs)]
    plain = json.loads(json.dumps({name: getattr(config, name) for name in
                                   ("dataset", "data_dir", "frames", "train_subset", "val_size", "epochs",
                                    "batch_size", "lr", "positions", "max_ops", "n_init", "search_seed")}))
    (tmp_path / "summary.json").write_text(json.dumps({"config": {**plain, "final_seeds": [0]}, "final": rows}))
    found = stored_rows(config)
    assert len(found) == 4
    assert stored_rows(AttentionSearchConfig(out_dir=str(tmp_path), **{**DIGITS, "epochs": 3}, final_seeds=(0,))) == {}
    assert stored_rows(AttentionSearchConfig(out_dir=str(tmp_path), **DIGITS, final_seeds=(0, 1))) == {}
    # every candidate is stored: nothing is trained, the two strategies' equal cells share a row
    out = final_comparison(config, space, {"rs": AttentionCell((cell,)), "re": AttentionCell((cell,))}, found)
    assert [r["model"] for r in out] == ["no attention", "non-local block", "squeeze-excitation", "cell: rs", "cell: re"]
    assert all(r["reused"] for r in out) and [r["val_errors"] for r in out] == [[0.0], [1.0], [2.0], [3.0], [3.0]]
