"""Elite Spaces in the design study: ``nss:<space-id>`` populations next to AnyNet ones (tiny real run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archspace.analysis.table import load_studies
from archspace.analysis.widths import block_widths, model_statistics
from archspace.cli import main
from archspace.errors import DataError
from archspace.experiments.design_study import (
    DesignStudyConfig,
    run_design_study,
    small_input_space,
)
from archspace.families.nss.spec import NSSArch
from archspace.spaces.nss import NSSSpace

# The seed-1 Elite Space of the committed CPU run (docs/nss/README.md): 64 networks whose exact
# flops at 28x28x1 / 10 classes span 568,981..1,530,610.
ELITE = "nss:d2-2w1-4_d1-1w5-8_d2-2w13-16"


def test_small_input_space_keeps_the_expanded_space_stem() -> None:
    space = small_input_space(ELITE, DesignStudyConfig())
    assert isinstance(space, NSSSpace) and space.name == ELITE and space.size == 64
    arch = space.sample(0)
    assert arch.depths[0] == 2 and 13 <= arch.widths[2] <= 16
    assert space.family.stem_width == 16 and space.options() == {}
    flops = space.complexity(arch, resolution=28, num_classes=10, in_channels=1).flops
    assert 568_981 <= flops <= 1_530_610


def test_nss_specs_have_anynet_statistics() -> None:
    spec = NSSArch((1, 2, 1), (4, 8, 16))
    for form in (spec, spec.to_dict(), spec.to_json()):
        assert block_widths(form).tolist() == [4.0, 8.0, 8.0, 16.0]
    stats = model_statistics(spec.to_dict(), with_fit=False)
    assert (stats["depth"], stats["w1"], stats["w_last"], stats["b"], stats["g"]) == (4.0, 4.0, 16.0, 1.0, 1.0)
    with pytest.raises(DataError, match="AnyNet-style"):
        block_widths({"kind": "other", "depths": [1], "widths": [4]})



def test_design_study_trains_an_elite_space_next_to_anynet(tmp_path: Path, fashion_mnist_slice) -> None:
    data = fashion_mnist_slice(train=500, test=100)
    config = DesignStudyConfig(
        n=2, spaces=(ELITE, "anynetx_a"), flops=(6e5, 1.5e6), epochs=1, subset=128, val_size=100, batch_size=64,
        workers=0, db=str(tmp_path / "design.db"), out=str(tmp_path / "report"), reps=100, dataset=str(data),
    )
    outcome = run_design_study(config, progress=False)
    summary = json.loads(outcome.summary_json.read_text())
    assert summary["groups"] == [ELITE, "anynetx_a"]
    rows = {r["group"]: r for r in summary["design_space_summary"]}
    assert rows[ELITE]["models"] == rows["anynetx_a"]["models"] == 2
    assert (rows[ELITE]["dimension"], rows[ELITE]["size"], rows["anynetx_a"]["dimension"]) == (6, 64, 16)
    # The NSS population comes first, yet both get the model statistics of the report.
    assert {"depth", "w_last"} <= set(summary["bootstrap"])
    table = load_studies(list(outcome.studies.values()), config.db)
    elite = table[table["group"] == ELITE]
    space = small_input_space(ELITE, config)
    assert all(space.contains(NSSArch(**{k: v for k, v in json.loads(a).items() if k != "kind"}))
               for a in elite["arch"])
    assert all(6e5 <= f <= 1.5e6 for f in table["flops"])
    assert all(0 <= e <= 100 for e in table["error"])
    # The CLI takes the same space list.
    assert main(["design-study", "--spaces", f"{ELITE},anynetx_a", "--n", "2", "--dry-run", "--json"]) == 0
