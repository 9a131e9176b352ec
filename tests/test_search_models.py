"""GP surrogates, expected improvement, layer features and the learned architecture kernel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kendalltau

from archspace.errors import UsageError
from archspace.evaluators.nb201 import NB201Benchmark
from archspace.families import family_for
from archspace.families.layers import LAYER_TYPES
from archspace.families.nb201.spec import NB201Cell
from archspace.search.gp import EncodingGP, expected_improvement
from archspace.search.layer_features import feature_dim, layer_features
from archspace.search.learned_kernel import LearnedKernelConfig, LearnedKernelGP, build_kernel_gp
from archspace.spaces.nb201 import NB201Space

ALL_3X3 = NB201Cell(("nor_conv_3x3",) * 6)


def layer_sequence(arch, **options):  # noqa: ANN001, ANN003, ANN201 - the learned kernel's view of arch
    return family_for(arch).feature_sequence(arch, **options)


def test_expected_improvement_known_values() -> None:
    ei = expected_improvement(np.array([0.0, 1.0, -1.0, 0.0]), np.array([1.0, 1e-15, 1e-15, 2.0]), best=0.0)
    assert ei[0] == pytest.approx(1 / np.sqrt(2 * np.pi))  # mean = best: EI = std * pdf(0)
    assert ei[1] == pytest.approx(0.0) and ei[2] == pytest.approx(1.0)  # certain loss / gain
    assert ei[3] == pytest.approx(2 / np.sqrt(2 * np.pi))


def test_encoding_gp_interpolates_its_training_data() -> None:
    space, bench = NB201Space(), NB201Benchmark()
    cells = [space.sample(np.random.default_rng(i)) for i in range(30)]
    x = np.stack([space.encode(c) for c in cells])
    y = np.array([bench.evaluate(c).objective for c in cells])
    gp = EncodingGP().fit(x, y)
    mean, std = gp.predict(x)
    assert np.corrcoef(mean, gp.standardizer.forward(y))[0, 1] > 0.9
    assert np.all(std >= 0)


def test_nb201_layer_sequence_layout() -> None:
    layers = layer_sequence(ALL_3X3)
    assert len(layers) == 1 + 3 * 6 + 2 * 4 + 2  # stem, cells, reductions, pool + linear
    assert [layer.c_out for layer in layers if layer.type == "conv" and layer.kernel == 3][1:7] == [16] * 6
    assert layers[-1].type == "linear" and layers[-1].c_in == 64
    feats = layer_features(ALL_3X3)
    assert feats.shape == (29, feature_dim()) and feats.dtype == np.float32
    assert np.all(feats[:, : len(LAYER_TYPES)].sum(axis=1) == 1)  # one type per layer


def test_cell_edges_become_in_and_out_edge_vectors() -> None:
    feats = layer_features(ALL_3X3, window=8, macro=False)  # 6 edge layers only
    edge_in = feats[:, len(LAYER_TYPES) + 6 : len(LAYER_TYPES) + 14]
    edge_out = feats[:, len(LAYER_TYPES) + 14 :]
    # layer 2 is edge 2<-1: it reads edge 1<-0 (layer 0), two positions back -> in[1]
    assert edge_in[2].tolist() == [0, 1, 0, 0, 0, 0, 0, 0]
    # layer 5 is edge 3<-2: it reads node 2 = edges 2<-0 (layer 1) and 2<-1 (layer 2)
    assert np.flatnonzero(edge_in[5]).tolist() == [2, 3]  # offsets 5-2-1 and 5-1-1
    # edge 1<-0 (layer 0) feeds edges 2<-1 (layer 2) and 3<-1 (layer 4)
    assert np.flatnonzero(edge_out[0]).tolist() == [1, 3]


def test_none_edges_are_zero_layers_without_connections() -> None:
    cell = NB201Cell(("none", "nor_conv_3x3", "none", "none", "none", "skip_connect"))
    feats = layer_features(cell, macro=False)
    zero = LAYER_TYPES.index("zero")
    assert feats[[0, 2, 3, 4], zero].tolist() == [1, 1, 1, 1]
    assert feats[[0, 2, 3, 4], len(LAYER_TYPES) + 6 :].sum() == 0
    assert feats[5, len(LAYER_TYPES) + 6 :].sum() > 0  # skip 3<-2 reads conv 2<-0


def test_layer_sequence_of_an_unknown_kind_is_a_clear_error() -> None:
    class Other:
        kind = "mystery"

    with pytest.raises(UsageError, match="unknown network family 'mystery'"):
        layer_sequence(Other())  # type: ignore[arg-type]


def test_loo_objective_matches_gpytorch_leave_one_out_pseudo_likelihood() -> None:
    torch = pytest.importorskip("torch")
    gpytorch = pytest.importorskip("gpytorch")
    space = NB201Space()
    x = torch.from_numpy(np.stack([layer_features(space.sample(np.random.default_rng(i)), macro=False) for i in range(12)]))
    y = torch.linspace(-1.0, 1.0, 12)
    torch.manual_seed(0)
    module = build_kernel_gp(x.shape[-1], LearnedKernelConfig(hidden=4, jitter=0.0))
    with torch.no_grad():
        module.log_lengthscale.fill_(-0.3)
        module.log_outputscale.fill_(0.4)
        module.raw_noise.fill_(-1.0)
        module.mean.fill_(0.2)
        ours = float(module.loo_nlpp(x, y))
        z = module.embed(x)

    class Reference(gpytorch.models.ExactGP):
        def __init__(self, likelihood) -> None:  # noqa: ANN001
            super().__init__(z, y, likelihood)
            self.mean_module = gpytorch.means.ConstantMean()
            self.covar_module = gpytorch.kernels.ScaleKernel(gpytorch.kernels.RBFKernel())

        def forward(self, inputs):  # noqa: ANN001, ANN202
            return gpytorch.distributions.MultivariateNormal(self.mean_module(inputs), self.covar_module(inputs))

    likelihood = gpytorch.likelihoods.GaussianLikelihood(noise_constraint=gpytorch.constraints.GreaterThan(1e-8))
    ref = Reference(likelihood)
    ref.covar_module.base_kernel.lengthscale = float(np.exp(-0.3))
    ref.covar_module.outputscale = float(np.exp(0.4))
    ref.mean_module.constant.data.fill_(0.2)
    likelihood.noise = float(module.noise.detach())
    ref.train()
    with torch.no_grad(), gpytorch.settings.max_cholesky_size(10_000):
        theirs = -float(gpytorch.mlls.LeaveOneOutPseudoLikelihood(likelihood, ref)(ref(z), y))
    assert ours == pytest.approx(theirs, rel=1e-4)


def test_learned_kernel_training_lowers_the_loo_loss_and_ranks_held_out_cells() -> None:
    space, bench = NB201Space(), NB201Benchmark()
    cells = space.sample_distinct(140, np.random.default_rng(0))
    y = np.array([bench.evaluate(c).objective for c in cells])
    x = np.stack([layer_features(c, macro=False) for c in cells])
    gp = LearnedKernelGP(LearnedKernelConfig(hidden=8, iterations=30)).fit(x[:60], y[:60], seed=0)
    assert gp.loss_trace[-1] < gp.loss_trace[0] - 0.5
    mean, std = gp.predict(x[60:])
    assert kendalltau(mean, y[60:]).statistic > 0.3
    assert np.all(std > 0)
    z = gp.embed(x[:5])
    assert np.allclose(np.linalg.norm(z, axis=1), 1.0, atol=1e-5)
    again = LearnedKernelGP(LearnedKernelConfig(hidden=8, iterations=30)).fit(x[:60], y[:60], seed=0)
    assert np.array_equal(again.predict(x[60:])[0], mean)  # same seed, same kernel


def test_anynet_layer_sequence() -> None:
    from archspace.families.anynet.spec import AnyNetArch

    arch = AnyNetArch.from_lists([1, 2], [32, 64], bottleneck_ratios=[1, 1], group_widths=[8, 16])
    layers = layer_sequence(arch, num_classes=10)
    # stem + 3 convs per X block + projections where the shape changes (blocks 1 and 2) + pool + fc
    assert len(layers) == 1 + 3 * 3 + 2 + 2
    assert [layer.groups for layer in layers if layer.kernel == 3 and layer.c_in != 3] == [4, 4, 4]
    assert layers[-1].c_out == 10
    assert layer_features(arch).shape == (14, feature_dim())
