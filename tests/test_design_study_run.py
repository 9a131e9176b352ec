"""The design-space study: config handling, resume checks, and a tiny real run on Fashion-MNIST."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archspace.cli import main
from archspace.errors import UsageError
from archspace.experiments.design_study import (
    DesignStudyConfig,
    check_resumable,
    design_study_command,
    run_design_study,
    small_input_space,
    study_config,
)


def test_config_round_trips_through_yaml_and_parses_ranges(tmp_path: Path) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("n: 5\nflops: 2M:6M\nspaces: anynetx_a,regnetx\nepochs: 3\n")
    config = DesignStudyConfig.load(path)
    assert (config.n, config.flops, config.spaces, config.epochs) == (5, (2e6, 6e6), ("anynetx_a", "regnetx"), 3)
    path.write_text(config.to_yaml())
    assert DesignStudyConfig.load(path) == config
    assert design_study_command(config) == "archspace design-study --n 5 --flops 2M:6M --spaces anynetx_a,regnetx --epochs 3"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"n": 1}, "n must be an integer >= 2"),
        ({"flops": "4M:1M"}, "flops"),
        ({"epoch": 2}, "unknown design-study field"),
        ({"spaces": ["anynetx_a", "anynetx_a"]}, "distinct"),
        ({"workers": -1}, "workers"),
    ],
)
def test_bad_config_is_refused_by_name(data: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        DesignStudyConfig.from_dict(data)


def test_cli_flags_override_yaml_in_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "study.yaml"
    path.write_text("n: 5\nepochs: 3\n")
    assert main(["design-study", "--config", str(path), "--n", "7", "--regime", "1M:2M", "--dry-run", "--json"]) == 0
    resolved = json.loads(capsys.readouterr().out)
    assert (resolved["n"], resolved["epochs"], resolved["flops"]) == (7, 3, [1e6, 2e6])
    capsys.readouterr()
    assert main(["design-study", "--spaces", "anynetx_a,nb201", "--n", "2", "--dry-run"]) == 2  # checked, not run
    assert "'nb201' is not one" in capsys.readouterr().err
    assert main(["design-study", "--spaces", "nss:no-such-space", "--dry-run"]) == 2
    assert main(["design-study", "--regime", "nonsense", "--dry-run"]) == 2


def test_resume_refuses_a_different_recipe_or_space() -> None:
    config = DesignStudyConfig(epochs=2)
    stored = study_config(config, "anynetx_a")
    check_resumable(stored, study_config(config.replace(n=20), "anynetx_a"), "anynetx_a")  # n may grow
    with pytest.raises(UsageError, match="epochs: stored 2, given 3"):
        check_resumable(stored, study_config(config.replace(epochs=3), "anynetx_a"), "anynetx_a")
    with pytest.raises(UsageError, match="space"):
        check_resumable(stored, study_config(config, "regnetx"), "anynetx_a")
    for foreign in ({"space": "anynetx_a", "kind": "other"}, {"space": "anynetx_a", "flops": [1e6, 4e6]}):
        with pytest.raises(UsageError, match="not made by design-study"):
            check_resumable(foreign, stored, "anynetx_a")


def test_small_input_space_swaps_the_stem_only() -> None:
    config = DesignStudyConfig()
    space = small_input_space("anynetx_e", config)
    arch = space.sample(0)
    assert (arch.stem, arch.stem_width) == ("res_stem_cifar", 16)
    assert space.satisfies(arch) and space.validate(arch) is arch
    assert space.complexity(arch, resolution=28, num_classes=10, in_channels=1).flops > 0
    assert space.summary()["stem"] == "res_stem_cifar"
    with pytest.raises(UsageError, match="not one"):
        small_input_space("nb201", config)



def test_tiny_design_study_trains_stores_reports_and_resumes(tmp_path: Path, fashion_mnist_slice) -> None:
    data = fashion_mnist_slice(train=600, test=200)
    config = DesignStudyConfig(
        n=2, spaces=("anynetx_a", "regnetx"), flops=(3e5, 1.5e6), epochs=1, subset=256, val_size=200,
        workers=0, db=str(tmp_path / "design.db"), out=str(tmp_path / "report"), reps=200, dataset=str(data),
    )
    outcome = run_design_study(config, progress=False)
    summary = json.loads(outcome.summary_json.read_text())
    assert summary["groups"] == ["anynetx_a", "regnetx"]
    rows = {r["group"]: r for r in summary["design_space_summary"]}
    assert rows["anynetx_a"]["models"] == rows["regnetx"]["models"] == 2
    assert rows["anynetx_a"]["dimension"] == 16
    assert all(0 <= r["min_error"] <= 100 for r in rows.values())
    assert {"depth", "b", "g", "e_fit"} <= set(summary["bootstrap"])
    assert all(3e5 <= m["flops"] <= 1.5e6 for m in summary["pareto"]["flops"])
    assert "archspace design-study" in summary["notes"]["command"]
    assert outcome.report_html.read_text().count("data:image/png") >= 8
    # Rerunning resumes: nothing is trained again; a changed recipe is refused.
    again = run_design_study(config, progress=False)
    assert again.summary_table == outcome.summary_table
    with pytest.raises(UsageError, match="epochs"):
        run_design_study(config.replace(epochs=2), progress=False)
    # The stored studies are ordinary studies: `archspace analyze --db` reads them too.
    out = tmp_path / "analyze"
    assert main(["analyze", "anynetx_a", "regnetx", "--db", config.db, "--statistics", "depth",
                 "--reps", "100", "--out", str(out)]) == 0
    analyzed = json.loads((out / "summary.json").read_text())
    assert [r["min_error"] for r in analyzed["design_space_summary"]] == [r["min_error"] for r in outcome.summary_table]
    assert analyzed["design_space_summary"][0]["dimension"] == 16  # the space found from the study config
