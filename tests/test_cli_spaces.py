"""The issue-2 commands end to end through the console script: output, determinism, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from archspace.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archspace.cli", *args], capture_output=True, text=True)


def test_models_json_lists_zoo_with_exact_counts(capsys):
    assert main(["models", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["regnetx_200mf"]["flops"] == 199_040_872
    assert rows["regnety_800mf"]["acts"] == 5_249_888
    assert len(rows) >= 30


def test_complexity_json_with_measure(capsys):
    assert main(["complexity", "regnetx_400mf", "--measure", "--resolution", "64", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agree"] is True and out["measured"]["flops"] == out["flops"]
    assert out["resolution"] == 64


def test_complexity_of_inline_spec(capsys):
    spec = '{"kind":"anynet","block":"R","stem":"res_stem_cifar","stem_width":16,' \
           '"stages":[{"depth":9,"width":16,"stride":1},{"depth":9,"width":32},{"depth":9,"width":64}]}'
    assert main(["complexity", spec, "--resolution", "32", "--classes", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["flops"], out["params"], out["acts"]) == (125_747_850, 855_770, 544_778)


def test_sample_is_deterministic_and_in_regime(tmp_path, capsys):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (first, second):
        assert main(["sample", "regnetx", "--n", "25", "--flops", "360M:400M", "--seed", "3", "--out", str(out)]) == 0
    assert first.read_text() == second.read_text()
    records = [json.loads(line) for line in first.read_text().splitlines()]
    assert len(records) == 25 and len({r["hash"] for r in records}) == 25
    assert all(360e6 <= r["flops"] <= 400e6 for r in records)


def test_fit_recovers_a_regnet(capsys):
    assert main(["fit", "regnetx_200mf", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["e_fit"] < 0.05 and out["depth"] == 13


@pytest.mark.parametrize("args,needle", [
    (["complexity", '{"kind":"anynet",'], "JSON syntax error"),
    (["complexity", '{"kind":"anynet","stages":[{"depth":1,"width":-3}]}'], "stages[0].width"),
    (["complexity", "not_a_model"], "unknown model"),
    (["sample", "anynetx_z", "--n", "3", "--seed", "0"], "unknown space"),
    (["sample", "regnetx", "--n", "3", "--seed", "0", "--flops", "9:1"], "LO <= HI"),
    (["sample", "regnetx", "--n", "3", "--seed", "0", "--flops", "abc"], "LO:HI"),
    (["sample", "regnetx", "--n", "3"], "--seed"),
    (["complexity", "regnetx_200mf", "--resolution", "0"], ">= 1"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr


def test_every_subcommand_has_help(capsys):
    from archspace.cli import build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # noqa: SLF001 - argparse has no public accessor
    assert {"models", "complexity", "sample", "fit", "design-study", "study", "train", "committee"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_info:
            main([name, "--help"])
        assert exit_info.value.code == 0, name
        assert "usage: archspace " + name in capsys.readouterr().out, name
