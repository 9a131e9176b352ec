"""Width profiles, model statistics of AnyNet specs, and e_fit vs error through the RegNet fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from archspace.analysis.widths import (
    add_model_statistics,
    block_widths,
    efit_vs_error,
    model_statistics,
)
from archspace.errors import DataError
from archspace.families.anynet.spec import AnyNetArch
from archspace.spaces.regnet import RegNetParams, regnet_to_anynet

ARCH = AnyNetArch.from_lists([1, 2, 3, 1], [24, 48, 96, 192], bottleneck_ratios=[1, 2, 2, 4], group_widths=[8, 8, 16, 16])


def test_block_widths_from_object_dict_and_json_agree() -> None:
    expected = [24, 48, 48, 96, 96, 96, 192]
    assert block_widths(ARCH).tolist() == expected
    assert block_widths(ARCH.to_dict()).tolist() == expected
    assert block_widths(ARCH.to_json()).tolist() == expected
    with pytest.raises(DataError, match="stages"):
        block_widths({"kind": "nb201"})


def test_model_statistics_of_a_known_spec() -> None:
    stats = model_statistics(ARCH, with_fit=False)
    assert stats["depth"] == 7 and stats["stages"] == 4
    assert (stats["d2"], stats["w4"], stats["b3"], stats["g1"]) == (2, 192, 2, 8)
    assert stats["b"] == pytest.approx(2.25) and stats["g"] == 12 and stats["w_last"] == 192


def test_e_fit_is_zero_for_a_regnet_and_positive_for_an_irregular_profile() -> None:
    regnet = regnet_to_anynet(RegNetParams(depth=13, w0=24, wa=36.44, wm=2.49, group_width=8))
    assert model_statistics(regnet)["e_fit"] < 0.05  # near zero; the grid fit and width rounding leave a little
    irregular = AnyNetArch.from_lists([1, 1, 6, 1], [256, 16, 512, 24])
    assert model_statistics(irregular)["e_fit"] > 0.3


def test_efit_vs_error_band_covers_the_best_efit() -> None:
    rng = np.random.default_rng(0)
    efit = rng.uniform(0, 0.5, 300)
    table = pd.DataFrame({"e_fit": efit, "error": 10 + 20 * efit + rng.normal(0, 0.3, 300)})
    x, error, best = efit_vs_error(table, reps=2000)
    assert x.size == error.size == 300
    assert best.low <= 0.05 and best.median < 0.1


def test_add_model_statistics_adds_columns_without_touching_existing_ones() -> None:
    table = pd.DataFrame({"arch": [ARCH.to_json(), ARCH.to_json()], "error": [1.0, 2.0], "depth": [99, 99]})
    out = add_model_statistics(table, with_fit=False)
    assert out["depth"].tolist() == [99, 99] and out["w1"].tolist() == [24, 24]
