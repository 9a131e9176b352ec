"""Gaussian-process surrogates and expected improvement for minimization.

``EncodingGP`` is the standard surrogate: scikit-learn's exact GP with a scaled RBF kernel on the
space's fixed-length encoding plus a learned noise term, hyperparameters fitted by maximizing
the marginal likelihood (L-BFGS). Targets are standardized before fitting.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

_SQRT_2PI = np.sqrt(2.0 * np.pi)


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float, xi: float = 0.0) -> np.ndarray:
    """EI of each candidate over ``best`` when *lower* is better (vectorized, EI >= 0)."""
    mean = np.asarray(mean, dtype=float)
    std = np.maximum(np.asarray(std, dtype=float), 1e-12)
    improvement = best - xi - mean
    z = improvement / std
    pdf = np.exp(-0.5 * z * z) / _SQRT_2PI
    return np.maximum(improvement * ndtr(z) + std * pdf, 0.0)


@dataclass
class Standardizer:
    """Affine map of targets to zero mean, unit variance (identity scale when constant)."""

    mean: float = 0.0
    scale: float = 1.0

    @classmethod
    def fit(cls, y: np.ndarray) -> Standardizer:
        scale = float(np.std(y))
        return cls(float(np.mean(y)), scale if scale > 1e-12 else 1.0)

    def forward(self, y: np.ndarray | float) -> np.ndarray:
        return (np.asarray(y, dtype=float) - self.mean) / self.scale


def default_kernel(length_scale: float = 2.0, noise: float = 1e-2):  # noqa: ANN201
    """Scaled RBF + white noise, with the bounds the marginal-likelihood fit searches in."""
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    return ConstantKernel(1.0, (1e-2, 1e2)) * RBF(length_scale, (1e-1, 1e2)) + WhiteKernel(noise, (1e-6, 1.0))


class EncodingGP:
    """Exact GP on encodings (scikit-learn): ``fit(X, y)``, then ``predict(X) -> (mean, std)``.

    ``kernel``: start point of the hyperparameter fit (default ``default_kernel()``);
    ``optimize=False`` keeps it fixed (a refit costs one Cholesky). ``kernel_`` after ``fit`` is
    the fitted kernel, to warm-start or reuse in the next fit. Predictions are in standardized
    units; compare them with ``standardize(best)``.
    """

    def __init__(self, kernel=None, optimize: bool = True, seed: int = 0) -> None:  # noqa: ANN001
        self.kernel = kernel if kernel is not None else default_kernel()
        self.optimize = optimize
        self.seed = seed
        self.standardizer = Standardizer()
        self.kernel_ = self.kernel
        self._model = None

    def fit(self, x: np.ndarray, y: np.ndarray) -> EncodingGP:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor

        y = np.asarray(y, dtype=float)
        self.standardizer = Standardizer.fit(y)
        model = GaussianProcessRegressor(
            kernel=self.kernel,
            optimizer="fmin_l_bfgs_b" if self.optimize else None,
            normalize_y=False,
            random_state=self.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(np.asarray(x, dtype=float), self.standardizer.forward(y))
        self._model = model
        self.kernel_ = model.kernel_
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._model is None:
            raise RuntimeError("EncodingGP.predict called before fit")
        mean, std = self._model.predict(np.asarray(x, dtype=float), return_std=True)
        return mean, std

    def standardize(self, value: float) -> float:
        return float(self.standardizer.forward(value))
