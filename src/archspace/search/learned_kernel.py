"""The learned architecture kernel (thesis, ch. 2): a Bi-LSTM embedding inside an RBF kernel.

An architecture is its sequence of per-layer configuration vectors (``layer_features``). A
bidirectional LSTM reads the sequence; its outputs are mean-pooled over layers and L2-normalized,
giving an embedding ``z(a)`` on the unit sphere, and

    k(a, a') = s^2 exp(-||z(a) - z(a')||^2 / (2 l^2)),   y = m + f(a) + noise.

The LSTM weights, ``s``, ``l``, the constant mean ``m`` and the noise variance are learned
together by minimizing the leave-one-out negative log predictive posterior (thesis eq. 2.6),

    -(1/n) sum_i log p(y_i | y_{-i}, A),

not the marginal likelihood (``objective="posterior"``, the default of ``LearnedKernelGP``). The ablations of the thesis's
Table 2.6 are ``objective="marginal"`` (the mean negative log marginal likelihood of y) and
``objective="euclidean"`` (Euclidean regression: the encoder is trained so that embedding
distances regress the standardized objective differences, ``||z_i - z_j|| ~ |y_i - y_j| / 2``,
while s, l, m and the noise follow the marginal likelihood on the detached embeddings). With K = k(A, A) + noise I, the leave-one-out predictive of point i
is Gaussian with variance 1 / [K^-1]_ii and residual [K^-1 (y - m)]_i / [K^-1]_ii (Sundararajan
& Keerthi 2001) -- one Cholesky per step. This is exactly what gpytorch's
``LeaveOneOutPseudoLikelihood`` computes (a test checks the two agree); it is written out in
torch here because gpytorch's lazy-tensor machinery costs ~10 ms per training step, several
times the LSTM itself, and BO trains hundreds of these kernels.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from archspace.errors import UsageError
from archspace.search.gp import Standardizer

_LOG_2PI = math.log(2.0 * math.pi)
OBJECTIVES = ("posterior", "marginal", "euclidean")


@dataclass(frozen=True)
class LearnedKernelConfig:
    """Size of the Bi-LSTM and how it is trained."""

    hidden: int = 16
    iterations: int = 30
    learning_rate: float = 0.1
    min_noise: float = 1e-4
    jitter: float = 1e-6


def check_objective(objective: str) -> str:
    """``objective`` if it names a kernel training objective, else a UsageError listing them."""
    if objective not in OBJECTIVES:
        raise UsageError(f"kernel objective must be one of {list(OBJECTIVES)}, got {objective!r}")
    return objective


def _torch():  # noqa: ANN202
    import torch

    return torch


def build_kernel_gp(n_features: int, config: LearnedKernelConfig, objective: str = "posterior"):  # noqa: ANN201
    """The trainable module: Bi-LSTM encoder + RBF kernel hyperparameters + constant mean."""
    check_objective(objective)
    torch = _torch()
    from torch import nn

    class ArchitectureKernelGP(nn.Module):
        """Bi-LSTM embedding, RBF kernel on it, constant mean, Gaussian noise."""

        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(n_features, config.hidden, batch_first=True, bidirectional=True)
            self.log_lengthscale = nn.Parameter(torch.zeros(()))
            self.log_outputscale = nn.Parameter(torch.zeros(()))
            self.raw_noise = nn.Parameter(torch.tensor(-2.0))
            self.mean = nn.Parameter(torch.zeros(()))

        def embed(self, x: torch.Tensor) -> torch.Tensor:
            """(n, layers, features) -> (n, 2 * hidden) unit vectors: mean-pooled LSTM outputs."""
            out, _ = self.lstm(x)
            return nn.functional.normalize(out.mean(dim=1), dim=-1)

        @property
        def noise(self) -> torch.Tensor:
            return nn.functional.softplus(self.raw_noise) + config.min_noise

        def kernel(self, za: torch.Tensor, zb: torch.Tensor) -> torch.Tensor:
            sq = (za.unsqueeze(1) - zb.unsqueeze(0)).pow(2).sum(-1)
            return self.log_outputscale.exp() * torch.exp(-0.5 * sq / self.log_lengthscale.exp().pow(2))

        def train_covariance(self, z: torch.Tensor) -> torch.Tensor:
            eye = torch.eye(len(z), dtype=z.dtype)
            return self.kernel(z, z) + (self.noise + config.jitter) * eye

        def loo_nlpp(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            """Mean leave-one-out negative log predictive density of ``y`` (thesis eq. 2.6)."""
            cov = self.train_covariance(self.embed(x))
            precision = torch.cholesky_inverse(torch.linalg.cholesky(cov))
            diag = precision.diagonal()
            residual = (precision @ (y - self.mean)) / diag
            return 0.5 * (-torch.log(diag) + residual.pow(2) * diag + _LOG_2PI).mean()

        def marginal_nll(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            """Mean negative log marginal likelihood of ``y`` given embeddings ``z``."""
            chol = torch.linalg.cholesky(self.train_covariance(z))
            residual = (y - self.mean).unsqueeze(-1)
            alpha = torch.cholesky_solve(residual, chol)
            logdet = 2.0 * torch.log(chol.diagonal()).sum()
            return 0.5 * ((residual * alpha).sum() + logdet) / len(y) + 0.5 * _LOG_2PI

        def objective(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            """The training loss of ``objective`` (see the module docstring)."""
            if objective == "posterior":
                return self.loo_nlpp(x, y)
            z = self.embed(x)
            if objective == "marginal":
                return self.marginal_nll(z, y)
            distance = (z.unsqueeze(1) - z.unsqueeze(0)).pow(2).sum(-1).add(1e-9).sqrt()
            target = 0.5 * (y.unsqueeze(1) - y.unsqueeze(0)).abs()
            return (distance - target).pow(2).mean() + self.marginal_nll(z.detach(), y)

    return ArchitectureKernelGP()


def save_kernels(models: list[LearnedKernelGP], path: str) -> None:
    """Write trained kernels (encoder weights and hyperparameters) for kernel transfer."""
    torch = _torch()
    payload = [{"config": asdict(m.config), "objective": m.objective, "n_features": m.n_features,
                "state": m.module.state_dict()}
               for m in models if m.module is not None]
    if not payload:
        raise UsageError("no trained kernel to save: the search has not fitted one yet")
    torch.save(payload, path)


def load_kernels(path: str) -> list[dict]:
    """The kernels ``save_kernels`` wrote: dicts of config, n_features and state."""
    torch = _torch()
    return torch.load(path, map_location="cpu", weights_only=True)


class LearnedKernelGP:
    """GP with the Bi-LSTM architecture kernel: ``fit(seqs, y, seed)``, then ``predict(seqs)``.

    ``seqs`` has shape (n, n_layers, n_features). Targets are standardized internally; predictions
    are of the latent function in standardized units (use ``standardize`` on an incumbent before
    computing EI).
    """

    def __init__(self, config: LearnedKernelConfig | None = None, objective: str = "posterior") -> None:
        self.config = config or LearnedKernelConfig()
        self.objective = check_objective(objective)
        self.standardizer = Standardizer()
        self.loss_trace: list[float] = []
        self.module = None
        self._train_z = None
        self._chol = None
        self._alpha = None
        self.n_features = 0

    def fit(self, seqs: np.ndarray, y: np.ndarray, seed: int, state: dict | None = None) -> LearnedKernelGP:
        """Train encoder + hyperparameters from scratch on (seqs, y) by ``self.objective``.

        ``state``: a transferred kernel (``load_kernels``); it is not trained again, only
        conditioned on (seqs, y) -- the kernel-transfer setting of thesis 2.4.4.
        """
        torch = _torch()
        x = torch.from_numpy(np.asarray(seqs, dtype=np.float32))
        self.n_features = int(x.shape[-1])
        self.standardizer = Standardizer.fit(np.asarray(y, dtype=float))
        target = torch.as_tensor(self.standardizer.forward(y), dtype=torch.float32)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            module = build_kernel_gp(x.shape[-1], self.config, self.objective)
        if state is not None:
            module.load_state_dict(state)
        optimizer = torch.optim.Adam(module.parameters(), lr=self.config.learning_rate)
        self.loss_trace = []
        for _ in range(0 if state is not None else self.config.iterations):
            optimizer.zero_grad()
            loss = module.objective(x, target)
            loss.backward()
            optimizer.step()
            self.loss_trace.append(float(loss.detach()))
        with torch.no_grad():
            z = module.embed(x)
            chol = torch.linalg.cholesky(module.train_covariance(z))
            self._alpha = torch.cholesky_solve((target - module.mean).unsqueeze(-1), chol).squeeze(-1)
        self.module, self._train_z, self._chol = module, z, chol
        return self

    def predict(self, seqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of the latent objective (standardized units)."""
        torch = _torch()
        if self.module is None:
            raise RuntimeError("LearnedKernelGP.predict called before fit")
        with torch.no_grad():
            z = self.module.embed(torch.from_numpy(np.asarray(seqs, dtype=np.float32)))
            cross = self.module.kernel(z, self._train_z)
            mean = self.module.mean + cross @ self._alpha
            solved = torch.linalg.solve_triangular(self._chol, cross.T, upper=False)
            var = self.module.log_outputscale.exp() - solved.pow(2).sum(0)
        return mean.numpy().astype(float), var.clamp_min(1e-12).sqrt().numpy().astype(float)

    def embed(self, seqs: np.ndarray) -> np.ndarray:
        """Unit-length embeddings z(a) of the trained encoder."""
        torch = _torch()
        if self.module is None:
            raise RuntimeError("LearnedKernelGP.embed called before fit")
        with torch.no_grad():
            return self.module.embed(torch.from_numpy(np.asarray(seqs, dtype=np.float32))).numpy()

    def standardize(self, value: float) -> float:
        return float(self.standardizer.forward(value))
