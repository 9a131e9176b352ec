"""Bad specs and options: one `archspace: error:` line and exit status 2, never a traceback.

Regression tests for a spec with group_width 0 that reached the cost computation unvalidated
(ZeroDivisionError), and for NaN / Infinity / 1e999, which Python's json module accepts by default.
"""

from __future__ import annotations

import math

import pytest

from archspace.arch import arch_from_dict, arch_from_json
from archspace.cli import main
from archspace.errors import InvalidArchitecture
from archspace.families import family_for
from archspace.families.anynet.spec import validate_anynet
from archspace.spaces.registry import get_space

# The exact spec that used to print a ZeroDivisionError traceback from `archspace complexity`.
ZERO_GROUP_WIDTH = ('{"kind":"anynet","block":"V","stem":"simple_stem_in","stem_width":1,"stages":'
                    '[{"depth":1,"width":1,"stride":1,"bottleneck_ratio":0.5,"group_width":0}]}')


def _spec_text(se_ratio: str = "0.25", **stage: str) -> str:
    """A valid one-stage Y-block spec as JSON text, with some values replaced by raw JSON literals."""
    fields = {"depth": "1", "width": "8", "stride": "1", "bottleneck_ratio": "1.0", "group_width": "1", **stage}
    body = ",".join(f'"{name}":{literal}' for name, literal in fields.items())
    return ('{"kind":"anynet","block":"Y","stem":"res_stem_cifar","stem_width":8,'
            f'"se_ratio":{se_ratio},"stages":[{{{body}}}]}}')


# (JSON text, the field the error must name)
BAD_SPECS = {
    "exact-zero-group-width": (ZERO_GROUP_WIDTH, "stages[0].group_width"),
    "group_width=0": (_spec_text(group_width="0"), "stages[0].group_width"),
    "group_width=-1": (_spec_text(group_width="-1"), "stages[0].group_width"),
    "stride=0": (_spec_text(stride="0"), "stages[0].stride"),
    "stride=3": (_spec_text(stride="3"), "stages[0].stride"),
    "stride=1.0": (_spec_text(stride="1.0"), "stages[0].stride"),
    "depth=0": (_spec_text(depth="0"), "stages[0].depth"),
    "width=0": (_spec_text(width="0"), "stages[0].width"),
    "width=-8": (_spec_text(width="-8"), "stages[0].width"),
    "bottleneck_ratio=0": (_spec_text(bottleneck_ratio="0"), "stages[0].bottleneck_ratio"),
    "bottleneck_ratio=NaN": (_spec_text(bottleneck_ratio="NaN"), "stages[0].bottleneck_ratio"),
    "bottleneck_ratio=Infinity": (_spec_text(bottleneck_ratio="Infinity"), "stages[0].bottleneck_ratio"),
    "bottleneck_ratio=-Infinity": (_spec_text(bottleneck_ratio="-Infinity"), "stages[0].bottleneck_ratio"),
    "bottleneck_ratio=1e999": (_spec_text(bottleneck_ratio="1e999"), "stages[0].bottleneck_ratio"),
    "se_ratio=NaN": (_spec_text(se_ratio="NaN"), "se_ratio"),
    "se_ratio=Infinity": (_spec_text(se_ratio="Infinity"), "se_ratio"),
    "se_ratio=1e999": (_spec_text(se_ratio="1e999"), "se_ratio"),
}

# Every CLI command that takes a spec, with options that make it print JSON and nothing else.
SPEC_COMMANDS = {
    "complexity": ["complexity", "{spec}", "--json"],
    "fit": ["fit", "{spec}", "--json"],
    "train": ["train", "{spec}", "--no-progress", "--json"],
}


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit status, stdout, stderr)."""
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def _assert_one_error_line(rc: int, out: str, err: str) -> str:
    """Exit status 2, nothing on stdout, exactly one `archspace: error:` line on stderr; return it."""
    assert rc == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("archspace: error:")
    return lines[0]


def test_the_base_spec_of_the_variants_is_valid(capsys):
    """The variants below fail because of the one value they change, not because of the rest."""
    rc, out, err = _run_cli(["complexity", _spec_text(), "--json", "--resolution", "32"], capsys)
    assert (rc, err) == (0, "")
    assert '"flops"' in out


@pytest.mark.parametrize("command", SPEC_COMMANDS)
@pytest.mark.parametrize("case", BAD_SPECS)
def test_cli_rejects_bad_spec_with_one_line(command, case, capsys):
    text, field = BAD_SPECS[case]
    argv = [text if arg == "{spec}" else arg for arg in SPEC_COMMANDS[command]]
    line = _assert_one_error_line(*_run_cli(argv, capsys))
    assert f": {field}: " in line


def test_cli_rejects_bad_spec_in_a_file(tmp_path, capsys):
    path = tmp_path / "spec.json"
    path.write_text(_spec_text(bottleneck_ratio="NaN"))
    line = _assert_one_error_line(*_run_cli(["complexity", str(path), "--json"], capsys))
    assert "stages[0].bottleneck_ratio: NaN is not a finite number" in line


@pytest.mark.parametrize("argv,option", [
    (["complexity", "regnetx_200mf", "--resolution", "0"], "--resolution"),
    (["complexity", "regnetx_200mf", "--classes", "-1"], "--classes"),
    (["sample", "anynetx_a", "--n", "2", "--seed", "0", "--resolution", "0"], "--resolution"),
    (["sample", "anynetx_a", "--n", "2", "--seed", "0", "--classes", "-3"], "--classes"),
    (["sample", "anynetx_a", "--n", "2", "--seed", "0", "--flops", "NaN:1G"], "--flops"),
])
def test_cli_rejects_bad_input_sizes_with_one_line(argv, option, capsys):
    line = _assert_one_error_line(*_run_cli(argv, capsys))
    assert option in line


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"])
def test_arch_from_json_rejects_non_finite_numbers(literal):
    with pytest.raises(InvalidArchitecture) as info:
        arch_from_json(_spec_text(bottleneck_ratio=literal))
    assert info.value.field == "stages[0].bottleneck_ratio"
    assert f"{literal} is not a finite number" in str(info.value)


def test_arch_from_json_names_non_finite_top_level_fields():
    with pytest.raises(InvalidArchitecture) as info:
        arch_from_json(_spec_text(se_ratio="Infinity"))
    assert info.value.field == "se_ratio"
    with pytest.raises(InvalidArchitecture) as info:
        arch_from_json("NaN")
    assert info.value.field == "<json>"


def test_arch_from_json_keeps_finite_floats():
    arch = arch_from_json(_spec_text(se_ratio="1e-1", bottleneck_ratio="2e0", width="16"))
    assert arch.se_ratio == 0.1
    assert arch.stages[0].bottleneck_ratio == 2.0
    assert arch_from_json(arch.to_json()) == arch


@pytest.mark.parametrize("field,value", [
    ("bottleneck_ratio", math.nan), ("bottleneck_ratio", math.inf), ("bottleneck_ratio", -math.inf),
    ("se_ratio", math.nan), ("se_ratio", math.inf),
])
def test_non_finite_numbers_from_dicts_are_rejected_by_validation(field, value):
    """arch_from_dict takes Python floats as they are; validation names the non-finite field."""
    data = {"kind": "anynet", "block": "Y", "stages": [{"depth": 1, "width": 8, "bottleneck_ratio": 1.0}]}
    if field == "se_ratio":
        data["se_ratio"] = value
        expected = "se_ratio"
    else:
        data["stages"][0][field] = value
        expected = f"stages[0].{field}"
    arch = arch_from_dict(data)
    with pytest.raises(InvalidArchitecture) as info:
        validate_anynet(arch)
    assert info.value.field == expected
    with pytest.raises(InvalidArchitecture) as info:
        family_for(arch).complexity(arch, resolution=32)
    assert info.value.field == expected


def test_family_complexity_validates_first():
    arch = arch_from_json(ZERO_GROUP_WIDTH)
    family = family_for(arch)
    with pytest.raises(InvalidArchitecture) as info:
        family.complexity(arch)
    assert info.value.field == "stages[0].group_width"
    with pytest.raises(InvalidArchitecture):
        family.complexity_many([arch])


@pytest.mark.parametrize("space_name", ["anynetx_a", "regnetx"])
@pytest.mark.parametrize("method", ["complexity", "build"])
def test_space_complexity_and_build_validate_first(space_name, method):
    arch = arch_from_json(_spec_text(group_width="0").replace('"block":"Y"', '"block":"X"'))
    with pytest.raises(InvalidArchitecture) as info:
        getattr(get_space(space_name), method)(arch)
    assert info.value.field == "stages[0].group_width"


@pytest.mark.parametrize("field", ["wa", "wm"])
def test_regnet_params_must_be_finite(field):
    from archspace.spaces.regnet import RegNetParams

    params = {"depth": 13, "w0": 24, "wa": 36.44, "wm": 2.49, "group_width": 8, field: float("inf")}
    with pytest.raises(InvalidArchitecture, match=f"{field}: must be a finite number"):
        RegNetParams(**params).validate()


def test_specs_of_every_family_load_without_importing_the_family_first():
    """A fresh process reading a study's trials gets its specs back (the kind's module is found)."""
    import subprocess
    import sys

    code = ("from archspace.arch import arch_from_json\n"
            "print(arch_from_json('{\"kind\":\"nb201\",\"ops\":[\"none\",\"skip_connect\",\"none\",\"none\",\"none\","
            "\"none\"]}').ops[1])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "skip_connect"
    from archspace.families import FAMILIES

    with pytest.raises(InvalidArchitecture, match="unknown kind 'mystery'; known kinds: ") as caught:
        arch_from_json('{"kind": "mystery"}')
    assert all(repr(kind) in str(caught.value) for kind in FAMILIES.names())  # every family's spec kind
