"""``archspace nb201 lookup`` and ``archspace nb201 info``."""

from __future__ import annotations

import json

import pytest

from archspace.cli import _Parser, nb201_cmd
from archspace.cli.common import run_handler

BEST_C10 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def run(argv: list[str]) -> int:
    """Parse with the nb201 group alone (the same parser class and handler runner as `archspace`)."""
    parser = _Parser(prog="archspace")
    subparsers = parser.add_subparsers(dest="command", parser_class=_Parser)
    subparsers.required = True
    nb201_cmd.register(subparsers)
    return run_handler(parser.parse_args(argv))


def test_lookup_by_string_and_index_agree(capsys):
    assert run(["nb201", "lookup", BEST_C10, "--json"]) == 0
    by_string = json.loads(capsys.readouterr().out)
    assert run(["nb201", "lookup", "6111", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == by_string
    assert by_string["index"] == 6111 and by_string["cifar10_test_rank"] == 1
    assert by_string["results"]["cifar10_test_200"] == 94.3733
    assert by_string["complexity_cifar10"]["params"] == 1_073_466
    assert len(by_string["results"]["cifar100_valid_200_seeds"]) == 3


def test_lookup_table_output(capsys):
    assert run(["nb201", "lookup", "0"]) == 0
    out = capsys.readouterr().out
    assert "cell 0: |avg_pool_3x3~0|" in out and "imagenet16" in out


def test_info(capsys):
    assert run(["nb201", "info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cells"] == 15625 and data["space"]["isomorphism_classes"] == 6466
    assert data["best"]["cifar10_test_200"]["index"] == 6111
    assert run(["nb201", "info"]) == 0
    assert "best cell per metric" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("|nor_conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown op 'nor_conv_5x5'"),
        ("|none~0|+|none~0|none~1|", "3 '+'-separated nodes"),
        ("15625", "benchmark index must be in [0, 15624]"),
    ],
)
def test_bad_cells_are_one_line_errors(capsys, cell, message):
    assert run(["nb201", "lookup", cell]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_missing_subcommand_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        run(["nb201"])
    assert exit_info.value.code == 2
