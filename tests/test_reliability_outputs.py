"""Result files that exist are refused (one line, exit 2, file untouched) unless --overwrite."""

from __future__ import annotations

from archspace.cli import main


def test_sample_refuses_an_existing_out_file_unless_overwrite(tmp_path, capsys):
    out = tmp_path / "models.jsonl"
    out.write_text("keep me\n")
    args = ["sample", "regnetx", "--n", "3", "--seed", "0", "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exists; pass --overwrite to replace it" in err
    assert out.read_text() == "keep me\n"
    assert main([*args, "--overwrite"]) == 0
    assert len(out.read_text().splitlines()) == 3
