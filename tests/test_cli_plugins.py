"""`archspace plugins` lists every registry's entries with their metadata."""

from __future__ import annotations

import json

from archspace.cli import main


def test_plugins_json_lists_every_registry(capsys):
    assert main(["plugins", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    names = {(r["registry"], r["name"]) for r in rows}
    assert {("family", "anynet"), ("family", "nb201"), ("space", "anynetx_e"), ("space", "nb201"),
            ("strategy", "re"), ("strategy", "bo-learned"), ("evaluator", "train"), ("evaluator", "nb201")} <= names
    by_name = {(r["registry"], r["name"]): r for r in rows}
    assert by_name[("strategy", "re")]["needs"] == ["mutate"]
    assert by_name[("strategy", "bo-learned")]["uses_torch"] is True
    assert by_name[("evaluator", "train")]["trains"] is True
    assert all(r["description"] for r in rows)


def test_plugins_table(capsys):
    assert main(["plugins"]) == 0
    assert "regnety" in capsys.readouterr().out
