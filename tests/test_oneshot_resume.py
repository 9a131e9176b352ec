"""Bi-level search runs: an interrupted run resumed from its checkpoint ends bit-identical to an
uninterrupted one (DARTS and GDAS, CPU), records alpha and the derived cell every epoch, refuses a
checkpoint of another run, and DARTS-ES stops on a growing eigenvalue."""

from __future__ import annotations

import pytest
import torch

from archspace.errors import UsageError
from archspace.oneshot.bilevel import BilevelSearch, SearchData, SearchRecipe, early_stop
from archspace.oneshot.derive import derive_nb201
from archspace.oneshot.methods import Darts, Gdas
from archspace.oneshot.nb201_net import NB201SearchConfig, NB201SearchNetwork


def _data() -> SearchData:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 1, 8, 8, generator=g)
    y = torch.randint(0, 3, (40,), generator=g)
    return SearchData(x[:16], y[:16], x[16:32], y[16:32], x[32:], y[32:])


def _search(method, checkpoint=None, recipe=None) -> BilevelSearch:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = NB201SearchNetwork(NB201SearchConfig(channels=4, cells_per_stage=1, num_classes=3, in_channels=1))
    recipe = recipe or SearchRecipe(epochs=2, batch_size=8, eval_images=8)
    return BilevelSearch(net, method, recipe, _data(), seed=5, derive=lambda a: derive_nb201(a, net.op_names),
                         checkpoint=checkpoint, identity={"test": 1})


@pytest.mark.parametrize("method", [Darts(1), Gdas()], ids=["darts", "gdas"])
def test_resume_is_bit_identical(method, tmp_path):
    straight = _search(method).run()
    path = tmp_path / "run.pt"
    _search(method, path).run(stop_after_steps=3)  # stops mid-epoch 2 (2 steps per epoch)
    resumed = _search(method, path).run()
    assert resumed.resumed_from == 3 and resumed.step == straight.step == 4
    for a, b in zip(straight.net.state_dict().values(), resumed.net.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.equal(straight.arch.flat(), resumed.arch.flat())
    assert [h.arch for h in straight.history] == [h.arch for h in resumed.history]
    assert len(resumed.history) == 2 and resumed.history[-1].derived["spec"]["kind"] == "nb201"


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    path = tmp_path / "run.pt"
    _search(Darts(1), path).run(stop_after_steps=1)
    with pytest.raises(UsageError, match="different run"):
        _search(Gdas(), path).run()


def test_early_stopping_rule():
    """Stop when the eigenvalue k epochs ago is under 0.75 x today's (window-averaged)."""
    assert not early_stop([1.0, 1.2], k=1, window=1, threshold=0.75)
    assert early_stop([1.0, 1.2, 2.0], k=1, window=1, threshold=0.75)
    assert early_stop([1.0, 1.2, 2.0], k=1, window=2, threshold=0.75)  # 1.1 / 1.6 = 0.69
    assert not early_stop([1.0, 1.5, 1.6], k=1, window=2, threshold=0.75)  # 1.25 / 1.55 = 0.81
    assert not early_stop([2.0, 1.0, 0.5], k=1, window=1, threshold=0.75)  # falling curvature: go on
