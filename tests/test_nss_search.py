"""The NSS search loop on a tiny space (digits, 8x8): distributions recorded per epoch, warm-up
leaves theta alone, the FLOPs-aware loss steers toward the regime, an interrupted run resumed from
its checkpoint ends exactly where an uninterrupted one does, and bad settings are refused."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from archspace.data import load_dataset  # noqa: E402
from archspace.errors import UsageError  # noqa: E402
from archspace.nss.distribution import InputSpec, probability_in  # noqa: E402
from archspace.nss.partition import Partition  # noqa: E402
from archspace.nss.regimes import FlopsRegime  # noqa: E402
from archspace.nss.search import NSSSearchConfig, flops_deviation, run_search  # noqa: E402

PART = Partition.uniform(max_depth=2, max_width=8, depth_bins=2, width_bins=2)
INPUTS = InputSpec(8, 10, 1)
REGIME = FlopsRegime("small", 20_000, 60_000)


@pytest.fixture(scope="module")
def digits():  # noqa: ANN201
    return load_dataset("digits", seed=0)


def _config(**changes) -> NSSSearchConfig:  # noqa: ANN003
    base = NSSSearchConfig(REGIME, PART, epochs=3, warmup_epochs=1, batch_size=32, steps_per_epoch=3, arch_lr=0.3,
                           flops_weight=5.0)
    return dataclasses.replace(base, **changes)


def test_search_records_the_distribution_every_epoch(digits):
    torch.set_num_threads(1)
    run = run_search(_config(), digits, seed=0)
    assert [h.phase for h in run.history] == ["warmup", "search", "search"]
    assert run.distributions.shape == (3, PART.num_spaces)
    np.testing.assert_allclose(run.distributions.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(run.distributions[0], 1 / PART.num_spaces, rtol=1e-6)  # warm-up: weights only
    assert run.history[-1].tau == pytest.approx(0.001) and run.history[1].tau < 5.0
    assert run.elite_index == int(np.argmax(run.distributions[-1]))


def test_flops_term_steers_toward_spaces_in_the_regime(digits):
    run = run_search(_config(epochs=5, steps_per_epoch=4), digits, seed=1)
    probs = run.probabilities
    band = np.array([probability_in(PART.space(j), REGIME.low, REGIME.high, INPUTS) for j in range(PART.num_spaces)])
    uniform = band.mean()
    assert float(probs @ band) > uniform  # more mass on spaces whose networks meet the regime
    assert band[run.elite_index] > uniform


def test_deviation_is_zero_inside_the_band_and_log_distance_outside():
    dev = flops_deviation(np.array([10_000, 20_000, 40_000, 60_000, 120_000]), REGIME)
    np.testing.assert_allclose(dev, [np.log(2), 0, 0, 0, np.log(2)])


def test_interrupted_search_resumes_to_the_same_result(digits, tmp_path):
    torch.set_num_threads(1)
    config = _config()
    straight = run_search(config, digits, seed=3)
    path = tmp_path / "nss.pt"
    first = run_search(config, digits, seed=3, checkpoint=path, stop_after_steps=5)
    assert first.steps == 5 and path.is_file()
    resumed = run_search(config, digits, seed=3, checkpoint=path)
    assert resumed.resumed_from_step == 5 and resumed.steps == straight.steps
    np.testing.assert_array_equal(resumed.theta, straight.theta)
    np.testing.assert_array_equal(resumed.distributions, straight.distributions)
    with pytest.raises(UsageError, match="different settings"):
        run_search(_config(flops_weight=1.0), digits, seed=3, checkpoint=path)


@pytest.mark.parametrize("changes, message", [({"tau_end": 0.0}, "temperatures > 0"),
                                              ({"tau_start": -1.0}, "temperatures > 0"),
                                              ({"tau_end": 9.0}, "tau_end"),
                                              ({"warmup_epochs": 3}, "warmup_epochs")])
def test_bad_settings_are_refused(changes, message):
    with pytest.raises(UsageError, match=message):
        _config(**changes)


def test_an_unreachable_regime_is_refused_before_training(digits):
    with pytest.raises(UsageError, match=r"regime huge .*reachable flops"):
        run_search(_config(regime=FlopsRegime("huge", 1e12, 2e12)), digits, seed=0)


def test_straight_through_gumbel_runs_one_network_per_step(digits):
    from archspace.nss.search import _Search

    search = _Search(_config(hard=True), digits, 0, torch.device("cpu"), None)
    g = search._gumbel(10, 0.5)
    assert sorted(g.detach().tolist())[-1] == pytest.approx(1.0) and float(g.detach().sum()) == pytest.approx(1.0)
    assert int((g.detach() > 0.5).sum()) == 1
    run = run_search(_config(hard=True, epochs=2, steps_per_epoch=2), digits, seed=0)
    assert run.steps == 4 and np.isfinite(run.theta).all()


def test_theta_step_computes_only_the_theta_gradient(digits):
    """The architecture step runs with the weights frozen and asks backward for theta alone:
    theta's gradient equals the one a full backward gives, and no weight gradient is computed."""
    from archspace.nss.search import _Search, frozen

    torch.set_num_threads(1)
    search = _Search(_config(), digits, 0, torch.device("cpu"), None)
    step = search.warmup_steps
    depths, widths = search._draw_architectures(step)
    search.arch_loss(step, depths, widths)[0].backward()
    full = search.theta.grad.clone()
    assert all(p.grad is not None for p in search.net.parameters())
    search.net.zero_grad(set_to_none=True)
    search.theta.grad = None
    with frozen(search.net):
        search.arch_loss(step, depths, widths)[0].backward(inputs=[search.theta])
    torch.testing.assert_close(search.theta.grad, full, rtol=1e-6, atol=1e-9)
    assert all(p.grad is None and p.requires_grad for p in search.net.parameters())
    before = search.theta.detach().clone()
    search.weight_step(step, depths, widths)
    search.arch_step(step, depths, widths)
    assert all(p.grad is None and p.requires_grad for p in search.net.parameters())  # applied weight grads dropped
    assert not torch.equal(search.theta.detach(), before)
