"""The ranking study end to end on a tiny .npz dataset, resume, and the supernet / ranking-study CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archspace.cli import main
from archspace.errors import UsageError
from archspace.experiments.ranking_study import RankingStudy, RankingStudyConfig, parse_variation
from archspace.families.nb201.table import OPS
from archspace.train import Recipe
from archspace.train.supernet import SPOSRecipe


@pytest.fixture()
def toy_npz(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=150)
    x = rng.integers(0, 90, size=(150, 8, 8)).astype(np.uint8)
    x[np.arange(150), y * 2, :] = 255
    path = tmp_path / "toy.npz"
    np.savez(path, x=x, y=y)
    return path


def test_parse_variation_combines_switches():
    assert parse_variation("baseline") == {}
    assert parse_variation("masked-none+fair") == {"ops": OPS[1:], "sampler": "fair"}
    assert parse_variation("masked-none+masked-pool")["ops"] == ("skip_connect", "nor_conv_1x1", "nor_conv_3x3")
    with pytest.raises(UsageError, match="unknown variation"):
        parse_variation("baseline+turbo")


def test_ranking_study_end_to_end_and_resume(tmp_path, toy_npz):
    config = RankingStudyConfig(
        out_dir=str(tmp_path / "study"), dataset=str(toy_npz), val_size=20, cells_per_stage=1, channels=2,
        supernet_recipe=SPOSRecipe(epochs=1, batch_size=32), variations=("masked-none+fair",),
        seeds=(0, 1), gt_cells=3, gt_recipe=Recipe(epochs=1, batch_size=32, lr=0.05, eval_each_epoch=False),
        bn_batches=1, bn_batch_size=16, top_ns=(2,),
    )
    report = RankingStudy(config, command_line="test").run()
    out = tmp_path / "study"
    for name in ("report.json", "report.html", "fig_tau_top_n.png", "fig_op_usage.svg", "fig_mean_top_n.png",
                 "fig_scatter.png"):
        assert (out / name).is_file(), name
    assert report["ground_truth"]["ops"] == list(OPS[1:])  # what every variation allows
    assert set(report["results"]) == {"masked-none+fair"}
    assert report["variations"]["masked-none+fair"] == {"ops": OPS[1:], "sampler": "fair"}
    result = report["results"]["masked-none+fair"]
    assert [row["n"] for row in result["aggregate"]["top_n"]] == [2, 3]
    assert len(result["per_seed"]) == 2 and result["aggregate"]["all"]["kendall"]["count"] <= 2
    assert report["bn_recompute"] == {"batches": 1, "batch_size": 16}
    # a second run reuses every trial and checkpoint and gives the same numbers
    again = RankingStudy(config).run()
    assert again["results"]["masked-none+fair"]["per_seed"][0]["predicted"] == result["per_seed"][0]["predicted"]
    assert again["ground_truth"]["accuracy"] == report["ground_truth"]["accuracy"]
    changed = RankingStudyConfig(**{**config.__dict__, "channels": 4})
    with pytest.raises(UsageError, match=r"different settings \(channels: stored 2, given 4\)"):
        RankingStudy(changed).run()
    grown = RankingStudyConfig(**{**config.__dict__, "seeds": (0, 1, 2), "device": "cpu:0"})
    RankingStudy(grown)._check_config()  # seeds may grow and the device may change on a resume
    assert json.loads((out / "config.json").read_text())["seeds"] == [0, 1, 2]


def test_supernet_cli_train_and_rank(tmp_path, toy_npz, capsys):
    ckpt = tmp_path / "net.pt"
    common = ["--dataset", str(toy_npz), "--val-size", "20"]
    assert main(["supernet", "train", *common, "--checkpoint", str(ckpt), "--cells-per-stage", "1", "--channels", "2",
                 "--epochs", "1", "--batch-size", "32", "--ops", "skip_connect,nor_conv_3x3", "--json"]) == 0
    trained = json.loads(capsys.readouterr().out)
    assert trained["steps"] == trained["total_steps"] and trained["config"]["ops"] == ["skip_connect", "nor_conv_3x3"]
    assert main(["supernet", "rank", *common, "--checkpoint", str(ckpt), "--storage", str(tmp_path / "r.db"),
                 "--cells", "5", "--bn-batches", "1", "--bn-batch-size", "16",
                 "--ground-truth", "table:cifar10_valid_200", "--json"]) == 0
    ranked = json.loads(capsys.readouterr().out)
    assert ranked["cells"] == 5 and len(ranked["ranking"]) == 5
    accs = [r["supernet_accuracy"] for r in ranked["ranking"]]
    assert accs == sorted(accs, reverse=True)
    assert set(ranked["correlation"]["all"]) == {"kendall", "spearman", "pearson"}
    # bad input: one line, exit status 2
    assert main(["supernet", "train", *common, "--checkpoint", str(ckpt), "--ops", "conv9x9"]) == 2
    assert "subset" in capsys.readouterr().err
    assert main(["ranking-study", "--out", str(tmp_path / "x"), "--variations", "nope"]) == 2
