"""``archspace committee`` end to end on small .npz files, and its one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from archspace.cli import main
from committee_pools import synthetic_pool


@pytest.fixture()
def predictions_dir(tmp_path):
    pool = synthetic_pool(models=3, examples=400, classes=5, seed=3, costs=[1e6, 4e6, 9e6])
    folder = tmp_path / "preds"
    folder.mkdir()
    for name, logits in zip(pool.names, pool.logits, strict=True):
        np.savez(folder / f"{name}.npz", logits=logits, labels=pool.labels)
    (folder / "costs.json").write_text(json.dumps(dict(zip(pool.names, pool.costs.tolist(), strict=True))))
    return folder


def test_target_flops_writes_json_table_and_figure(predictions_dir, tmp_path, capsys):
    out = tmp_path / "out"
    status = main(["committee", "--predictions", str(predictions_dir), "--target-flops", "5M",
                   "--max-models", "3", "--out", str(out), "--json"])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    selected = report["selected"]["heldout"]
    assert selected["average_cost"] <= 5e6
    assert report["heldout_examples"] == report["test_examples"] == 200
    assert report["reference_single"]["members"] == ["m1"]
    assert (out / "committees.png").stat().st_size > 0
    table = (out / "committees.csv").read_text().splitlines()
    assert table[0].startswith("kind,committee,members")
    assert {line.split(",")[0] for line in table[1:]} == {"single", "ensemble", "cascade"}
    assert json.loads((out / "selection.json").read_text())["selected"] == report["selected"]


def test_target_accuracy_as_percent_prints_a_table(predictions_dir, tmp_path, capsys):
    status = main(["committee", "--predictions", str(predictions_dir), "--target-accuracy", "60%",
                   "--no-fronts", "--out", str(tmp_path / "o")])
    printed = capsys.readouterr().out
    assert status == 0
    assert "selected cascade" in printed and "searched" in printed


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-flops", "lots"], "--target-flops: 'lots' is not a number"),
        (["--target-accuracy", "150"], "--target-accuracy must be in"),
        (["--target-flops", "1M", "--max-models", "6"], "max_models must be 1..4"),
    ],
)
def test_bad_options_are_one_line_errors(predictions_dir, tmp_path, capsys, extra, message):
    status = main(["committee", "--predictions", str(predictions_dir), "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert status == 2
    assert message in err and err.count("\n") == 1


def test_missing_folder_and_missing_costs(tmp_path, predictions_dir, capsys):
    assert main(["committee", "--predictions", str(tmp_path / "nope"), "--target-flops", "1M", "--out", str(tmp_path)]) == 2
    assert "not a directory" in capsys.readouterr().err
    (predictions_dir / "costs.json").unlink()
    assert main(["committee", "--predictions", str(predictions_dir), "--target-flops", "1M", "--out", str(tmp_path)]) == 2
    assert "--costs FILE" in capsys.readouterr().err
