"""`archspace train` end to end (a few hundred real Fashion-MNIST images) and its error handling."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from archspace.cli import main
from archspace.families.anynet.spec import AnyNetArch

TINY = AnyNetArch.from_lists([1, 1], [8, 16], [2, 2], [1.0, 1.0], [8, 8], block="X",
                             stem="simple_stem_in", stem_width=8)


def test_cli_trains_on_real_fashion_mnist(fashion_mnist_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out, preds = tmp_path / "result.json", tmp_path / "preds.npz"
    status = main(["train", TINY.to_json(), "--dataset", "fashion-mnist", "--data-dir", str(fashion_mnist_dir),
                   "--epochs", "2", "--subset", "512", "--val-size", "200", "--batch-size", "32",
                   "--lr", "0.2", "--no-augment", "--seed", "3", "--out", str(out), "--predictions", str(preds), "--json"])
    assert status == 0
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads(out.read_text())
    assert printed["status"] == saved["status"] == "complete"
    assert saved["dataset"]["train"] == 59800 and saved["recipe"]["subset"] == 512
    assert saved["steps"] == 2 * (512 // 32) and len(saved["history"]) == 2
    assert saved["history"][1]["train_loss"] < saved["history"][0]["train_loss"]
    assert saved["test_error"] < 85  # chance is 90% (10 balanced classes); 32 steps of a tiny net
    assert saved["arch"] == TINY.to_dict() and saved["flops"] > 0
    arrays = np.load(preds)
    assert arrays["val_logits"].shape == (200, 10) and arrays["test_logits"].shape == (10000, 10)
    test_error = 100 * np.mean(arrays["test_logits"].astype(np.float32).argmax(1) != arrays["test_labels"])
    assert test_error == pytest.approx(saved["test_error"], abs=0.1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "no_such_model"], "unknown model 'no_such_model'"),
        (["train", "anynetx_tiny", "--epochs", "0"], "--epochs must be an integer >= 1"),
        (["train", "anynetx_tiny", "--dataset", "imagenet"], "unknown dataset 'imagenet'"),
        (["train", "anynetx_tiny", "--data-dir", "/nonexistent/fm"], "/nonexistent/fm"),
        (["train", "anynetx_tiny", "--predictions", "out.txt"], "must name a .npz file"),
        (["train", "anynetx_tiny", "--recipe", "/nonexistent.yaml"], "--recipe: no such file"),
    ],
)
def test_cli_rejects_bad_input_with_one_line(argv: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_cli_reads_recipe_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text("epochs: 1\nbatch_size: 32\nsubset: 64\n")
    spec = tmp_path / "spec.json"
    spec.write_text(AnyNetArch.from_lists([1], [8], [1], [1.0], [8], block="X", stem="res_stem_cifar",
                                          stem_width=8).to_json())
    assert main(["train", str(spec), "--dataset", "digits", "--recipe", str(recipe), "--no-progress",
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recipe"]["epochs"] == 1 and report["steps"] == 2 and report["dataset"]["name"] == "digits"
