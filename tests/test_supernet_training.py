"""Supernet training (resume, fair accumulation) and inherited-weight evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from archspace.data import Augmentation, dataset_from_arrays
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluators.supernet import BNRecompute, SupernetEvaluator, evaluate_cells
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.supernet import SupernetConfig
from archspace.families.nb201.table import OPS
from archspace.search.fixed import FixedList
from archspace.spaces.nb201 import NB201Space
from archspace.study import Study
from archspace.train.supernet import SPOSRecipe, cutout, load_supernet, train_supernet

CONFIG = SupernetConfig(cells_per_stage=1, channels=4)


def tiny_dataset(n: int = 96, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=n)
    images = rng.integers(0, 80, size=(n, 1, 8, 8)).astype(np.uint8)
    images[np.arange(n), 0, labels * 2, :] = 255  # a learnable signal: a bright row per class
    return dataset_from_arrays("tiny", images[:80], labels[:80], images[80:], labels[80:], num_classes=3,
                               val_size=16, seed=0, augmentation=Augmentation(crop_padding=1, flip=True))


def weights(net: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("sampler", ["uniform", "fair"])
def test_resume_from_checkpoint_matches_uninterrupted_run(tmp_path, sampler):
    data = tiny_dataset()
    recipe = SPOSRecipe(epochs=2, batch_size=16, sampler=sampler, augment="strong", grad_clip=5.0,
                        warmup_epochs=0.5, label_smoothing=0.1, share_topology=sampler == "fair")
    straight = train_supernet(CONFIG, data, recipe, seed=3)
    path = tmp_path / "net.pt"
    first = train_supernet(CONFIG, data, recipe, seed=3, checkpoint=path, stop_after_steps=5)
    assert first.steps == 5 and not first.finished
    resumed = train_supernet(CONFIG, data, recipe, seed=3, checkpoint=path)
    assert resumed.resumed_from_step == 5 and resumed.finished and resumed.steps == straight.steps == 8
    for key, value in weights(straight.supernet).items():
        torch.testing.assert_close(resumed.supernet.state_dict()[key], value, rtol=0, atol=0)
    assert [h.loss for h in resumed.history] == pytest.approx([h.loss for h in straight.history])
    loaded, meta = load_supernet(path)
    assert meta["step"] == 8 and loaded.config.num_classes == 3 and loaded.config.in_channels == 1
    with pytest.raises(UsageError, match="different run"):
        train_supernet(CONFIG, data, recipe.replace(lr=0.05), seed=3, checkpoint=path)


def test_fair_step_trains_every_op_on_every_edge():
    data = tiny_dataset()
    recipe = SPOSRecipe(epochs=1, batch_size=80, sampler="fair", weight_decay=0.0, momentum=0.0)
    run = train_supernet(CONFIG, data, recipe, seed=0)  # one step = 5 paths, one update
    fresh = train_supernet(CONFIG, data, recipe, seed=0, stop_after_steps=0).supernet  # same init, no step
    assert run.steps == 1
    for cell_index, cell in enumerate(m for m in run.supernet.layers if hasattr(m, "edges")):
        fresh_cell = [m for m in fresh.layers if hasattr(m, "edges")][cell_index]
        for edge, fresh_edge in zip(cell.edges, fresh_cell.edges, strict=True):
            for op in ("nor_conv_1x1", "nor_conv_3x3"):
                changed = not torch.equal(edge.candidates[op][1].weight, fresh_edge.candidates[op][1].weight)
                assert changed, f"{op} was not updated by a fair step"


def test_cutout_masks_one_square_per_image():
    images = torch.ones(5, 2, 8, 8)
    out = cutout(images, 4, torch.Generator().manual_seed(0))
    zeros = (out[:, 0] == 0).sum(dim=(1, 2))
    assert (zeros >= 4).all() and (zeros <= 16).all() and (out[:, 0] == out[:, 1]).all()


def test_recipe_defaults_and_schedule():
    recipe = SPOSRecipe()
    assert (recipe.lr, recipe.lr_min, recipe.momentum, recipe.weight_decay, recipe.batch_size) == (0.025, 1e-5, 0.9, 3e-4, 256)
    assert recipe.lr_at(0.0) == pytest.approx(0.025) and recipe.lr_at(1.0) == pytest.approx(1e-5)
    assert SPOSRecipe(batch_size=512, scale_lr=True).effective_lr == pytest.approx(0.05)
    warm = SPOSRecipe(epochs=10, warmup_epochs=1)
    assert warm.lr_at(0.0) == pytest.approx(0.1 * 0.025, rel=1e-3)
    with pytest.raises(UsageError, match="sampler"):
        SPOSRecipe(sampler="greedy")


def test_inherited_weight_evaluation_is_deterministic_and_order_free(tmp_path):
    data = tiny_dataset()
    run = train_supernet(CONFIG, data, SPOSRecipe(epochs=2, batch_size=16), seed=1)
    net = run.supernet
    before = weights(net)
    cells = NB201Space().sample_distinct(6, 0)
    bn = BNRecompute(batches=2, batch_size=16, seed=0)
    args = (data.val.images, data.val.labels)
    a = evaluate_cells(net, cells, *args, bn=bn, train_images=data.train.images)
    b = evaluate_cells(net, cells[::-1], *args, bn=bn, train_images=data.train.images)[::-1]
    assert np.array_equal(a, b) and ((a >= 0) & (a <= 100)).all()
    for key, value in before.items():  # BN buffers restored
        torch.testing.assert_close(net.state_dict()[key], value, rtol=0, atol=0)
    c = evaluate_cells(net, cells, *args, bn=None)
    d = evaluate_cells(net, cells[::-1], *args, bn=None)[::-1]
    assert np.array_equal(c, d)
    with pytest.raises(UsageError, match="train_images"):
        evaluate_cells(net, cells, *args, bn=bn)


def test_bn_recompute_matches_standalone_network_statistics():
    data = tiny_dataset()
    net = train_supernet(CONFIG, data, SPOSRecipe(epochs=1, batch_size=16), seed=2).supernet
    cell = NB201Cell(("nor_conv_3x3", "skip_connect", "nor_conv_1x1", "none", "avg_pool_3x3", "nor_conv_3x3"))
    bn = BNRecompute(batches=2, batch_size=16, seed=0)
    acc = evaluate_cells(net, [cell], data.val.images, data.val.labels, bn=bn, train_images=data.train.images)[0]
    standalone = net.extract(cell)
    for m in standalone.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None
    standalone.train()
    with torch.no_grad():
        for batch in bn.draw(data.train.images):
            standalone(batch)
        standalone.eval()
        expected = 100.0 * (standalone(data.val.images).argmax(1) == data.val.labels).double().mean().item()
    assert acc == pytest.approx(expected)


def test_supernet_evaluator_inside_a_study(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(120, 8, 8)).astype(np.uint8)
    y = rng.integers(0, 3, size=120)
    npz = tmp_path / "toy.npz"
    np.savez(npz, x=x, y=y)
    from archspace.data import load_dataset

    data = load_dataset(str(npz), val_size=20)
    ckpt = tmp_path / "s.pt"
    train_supernet(SupernetConfig(cells_per_stage=1, channels=4, ops=OPS[1:]), data,
                   SPOSRecipe(epochs=1, batch_size=32), seed=0, checkpoint=ckpt)
    evaluator = SupernetEvaluator(ckpt, str(npz), val_size=20, eval_images=None, bn_batches=1, bn_batch_size=16)
    cells = NB201Space(OPS[1:]).sample_distinct(4, 0)
    study = Study.create("rank", tmp_path / "s.db", seed=0)
    study.optimize(FixedList(cells), evaluator, len(cells))
    trials = study.trials(("complete",))
    assert [t.arch for t in trials] == cells
    again = SupernetEvaluator.from_config(evaluator.to_config())
    assert again.evaluate(cells[0], 5).objective == trials[0].objective
    assert trials[0].info["bn_recompute"] == {"batches": 1, "batch_size": 16, "seed": 0}
    with pytest.raises(InvalidArchitecture, match="masked"):
        evaluator.evaluate(NB201Cell(("none",) * 6), 0)
