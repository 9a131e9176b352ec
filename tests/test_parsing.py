"""``archspace.parsing``: numbers, ranges and the one comma-separated-list parser (a module of its
own so that workflows need not import the CLI; the rule is enforced in test_import_layers)."""

from __future__ import annotations

import pytest

from archspace.cli import common
from archspace.errors import UsageError
from archspace.parsing import parse_list, parse_number, parse_range


def test_parse_list_strips_drops_empties_and_repeats_and_keeps_order() -> None:
    assert parse_list(" b, a ,,b , c,", "name") == ("b", "a", "c")
    assert parse_list(["x", " y ", "", "x"], "name") == ("x", "y")
    assert parse_list("only", "name") == ("only",)
    assert isinstance(parse_list(("a",), "name"), tuple)


@pytest.mark.parametrize("empty", ["", " , ,", [], ["", " "]])
def test_parse_list_refuses_an_empty_list_naming_what(empty: object) -> None:
    with pytest.raises(UsageError, match="no design space given"):
        parse_list(empty, "design space")  # type: ignore[arg-type]


def test_numbers_and_ranges_take_unit_suffixes() -> None:
    assert parse_number(" 400M", "--flops") == 4e8
    assert parse_number("1.5k", "--flops") == 1500.0
    assert parse_number("2G", "--flops") == 2e9
    assert parse_range("360M:400M", "--flops") == (3.6e8, 4e8)
    assert parse_range("0:10", "--params") == (0.0, 10.0)
    with pytest.raises(UsageError, match="--flops: 'x' is not a number"):
        parse_number("xM", "--flops")
    with pytest.raises(UsageError, match="expects LO:HI"):
        parse_range("1:2:3", "--flops")
    with pytest.raises(UsageError, match="0 <= LO <= HI"):
        parse_range("10:1", "--params")


def test_the_cli_reuses_the_same_parsers() -> None:
    assert (common.parse_range, common.parse_number, common.parse_list) == (parse_range, parse_number, parse_list)
