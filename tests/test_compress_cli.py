"""`archspace compress`: the space summary, checking a user's candidate, and bad input (one line, exit 2)."""

from __future__ import annotations

import json

import pytest

from archspace.cli import main
from archspace.compress.teachers import resnet_cifar
from archspace.families.teacher.spec import GraphLayer, TeacherGraph


def test_space_summary_and_samples(capsys):
    assert main(["compress", "space", "--teacher", "resnet18", "--resolution", "224", "--classes", "1000",
                 "--samples", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["teacher_params"] == 11_689_512 and out["teacher_layers"] == 31
    assert len(out["samples"]) == 3 and all(s["ratio"] > 1 for s in out["samples"])


def test_check_a_user_candidate(capsys, tmp_path):
    layers = list(resnet_cifar(20).layers)
    del layers[1]  # remove the first block's first conv: its reader reads the stem instead
    layers = [GraphLayer(**{**vars(x), "inputs": tuple(i - 1 if i >= 1 else i for i in x.inputs)}) for x in layers]
    path = tmp_path / "candidate.json"
    path.write_text(TeacherGraph(tuple(layers)).to_json())
    assert main(["compress", "check", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] and out["params"] == 272_474 - (16 * 16 * 9 + 32)


@pytest.mark.parametrize("args,message", [
    (["space", "--remove-prob", "1"], "remove every layer"),
    (["space", "--min-ratio", "1.5"], "min_ratio must be in (0, 1]"),
    (["space", "--teacher", "regnety_200mf"], "squeeze-excitation"),
    (["space", "--teacher", "[{\"kind\": \"conv\", \"width\": 4, \"kernel\": 3}, {\"kind\": \"pool\"}]"], "layers[1].kind"),
    (["run", "--methods", "random,annealing", "--trials", "2"], "unknown method 'annealing'"),
    (["run", "--methods", "bo-transfer"], "needs --transfer"),
    (["run", "--dataset", "digits", "--resolution", "28"], "--resolution 28 does not match digits (8)"),
    (["run", "--in-channels", "3"], "--in-channels 3 does not match fashion-mnist (1)"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, message):
    assert main(["compress", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_a_skip_between_mismatched_shapes_is_refused(capsys):
    layers = list(resnet_cifar(8).layers)
    layers[7] = GraphLayer(**{**vars(layers[7]), "inputs": (*layers[7].inputs, 0)})
    assert main(["compress", "check", TeacherGraph(tuple(layers)).to_json(), "--teacher", "resnet8"]) == 2
    err = capsys.readouterr().err.strip()
    assert "layers[7].inputs" in err and "equal shapes" in err and len(err.splitlines()) == 1
