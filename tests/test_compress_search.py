"""Strategies on the teacher space: TPE over raw per-layer operations, learned-kernel BO with its
objectives (posterior, marginal likelihood, Euclidean regression), K = 1, and kernel transfer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from archspace.checks import check_strategy
from archspace.compress.reward import reward
from archspace.errors import UsageError
from archspace.evaluation import Result
from archspace.search.layer_features import feature_dim, layer_features
from archspace.search.learned_kernel import LearnedKernelConfig, LearnedKernelGP, build_kernel_gp
from archspace.search.registry import make_strategy
from archspace.spaces.registry import get_space
from archspace.spaces.teacher import TeacherSpace


@pytest.fixture(scope="module")
def space():
    return TeacherSpace("resnet8", resolution=16)


def size_objective(space):
    teacher = space.complexity(space.teacher_graph).params

    def objective(arch):
        try:
            space.validate(arch)
        except Exception:  # noqa: BLE001 - an invalid proposal is the -1 of the reward
            return 1.0
        params = space.complexity(arch).params
        return -reward(100.0 - 20.0 * (1 - params / teacher) ** 2, params, 100.0, teacher)

    return objective


def drive(strategy, objective, steps):
    values = []
    for _ in range(steps):
        arch = strategy.ask()
        values.append(objective(arch))
        strategy.tell(arch, Result(values[-1]))
    return values


def test_tpe_over_raw_operations_is_a_replayable_strategy(space):
    pytest.importorskip("optuna")
    assert check_strategy(lambda s, seed: make_strategy("tpe-ops", s, seed), space, 10) == {"asks": 10}
    names = [d for d in make_strategy("tpe-ops", space, 0).distributions]
    assert len(names) == space.summary()["dimension"]
    assert sum(n.startswith("shrink_") for n in names) == len(space.structure.groups)
    with pytest.raises(UsageError, match="raw operation parameters"):
        make_strategy("tpe-ops", get_space("nb201"), 0)


def test_teacher_candidates_give_teacher_aligned_features(space):
    archs = space.sample_batch(np.random.default_rng(0), 5)
    feats = [layer_features(a, 8, space) for a in archs]
    assert {f.shape for f in feats} == {(len(space.teacher_graph), feature_dim(8))}
    assert any(len(a) < len(space.teacher_graph) for a in archs)  # removals show as identity rows


@pytest.mark.parametrize("objective", ["posterior", "marginal", "euclidean"])
def test_bo_learned_runs_with_every_objective(space, objective):
    options = {"n_kernels": 2, "n_init": 4, "n_candidates": 40, "objective": objective, "kernel": {"iterations": 10}}
    values = drive(make_strategy("bo-learned", space, 0, **options), size_objective(space), 8)
    assert len(values) == 8
    again = drive(make_strategy("bo-learned", space, 0, **options), size_objective(space), 8)
    assert values == again  # same seed, same proposals


def test_marginal_objective_is_the_gaussian_log_likelihood():
    torch.manual_seed(0)
    module = build_kernel_gp(5, LearnedKernelConfig(), "marginal")
    x, y = torch.randn(6, 3, 5), torch.randn(6)
    with torch.no_grad():
        z = module.embed(x)
        cov = module.train_covariance(z).double().numpy()
        expected = -multivariate_normal(mean=np.full(6, float(module.mean)), cov=cov).logpdf(y.double().numpy()) / 6
        assert float(module.objective(x, y)) == pytest.approx(expected, rel=1e-4)
    with pytest.raises(UsageError, match="objective"):
        LearnedKernelGP(objective="likelihood")


def test_k1_is_one_kernel_on_all_data(space):
    strategy = make_strategy("bo-learned", space, 0, n_kernels=1, subset_fraction=1.0, n_init=4, n_candidates=30,
                             kernel={"iterations": 5})
    drive(strategy, size_objective(space), 6)
    assert len(strategy.last_models) == 1


def test_kernel_transfer_reuses_the_learned_kernels(space, tmp_path):
    source = make_strategy("bo-learned", space, 0, n_kernels=2, n_init=4, n_candidates=30, kernel={"iterations": 5})
    drive(source, size_objective(space), 6)
    path = str(tmp_path / "kernels.pt")
    source.save_kernels(path)
    other = TeacherSpace("vgg-small", resolution=16)  # another teacher, another family of networks
    target = make_strategy("bo-learned", other, 1, n_kernels=2, n_init=4, n_candidates=30, transfer=path)
    drive(target, size_objective(other), 6)
    for saved, used in zip(source.last_models, target.last_models, strict=True):
        for (name, a), b in zip(saved.module.state_dict().items(), used.module.state_dict().values(), strict=True):
            assert torch.equal(a, b), name  # conditioned on the new data, not retrained
    archs = other.sample_batch(np.random.default_rng(2), 3)
    feats = target.features(archs)
    model = LearnedKernelGP().fit(feats, np.arange(3.0), seed=0, state=source.last_models[0].module.state_dict())
    assert model.loss_trace == []
    with pytest.raises(UsageError, match="does not exist"):
        make_strategy("bo-learned", other, 0, transfer=str(tmp_path / "missing.pt"))


def test_nb201_defaults_are_unchanged():
    strategy = make_strategy("bo-learned", get_space("nb201"), 0)
    config = strategy.config()
    assert config["n_kernels"] == 8 and config["subset_fraction"] == 0.5 and config["n_candidates"] == 300
    assert config["objective"] == "posterior" and config["transfer"] is None
    assert "objective" not in config["kernel"]  # stored kernel configs of older studies still match
