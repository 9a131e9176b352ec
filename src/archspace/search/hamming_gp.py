"""An exact GP over every point of a finite categorical space, updated one observation at a time.

The space is an ``(N, E)`` integer matrix of categorical choices (for NB201: the six op indices
of each isomorphism class's representative cell). The kernel is a function of which coordinates
differ: ``k(x, z) = exp(-sum_e w_e [x_e != z_e])`` (ARD Laplace on the one-hot encoding: one
weight per edge; ``ard=False`` ties them) or, for ``kernel="matern52"``, Matern 5/2 in
``sqrt(sum_e w_e [x_e != z_e])``. A kernel row against the whole space costs ``O(N E)``.

The GP keeps ``V = L^-1 K(X, all)`` (``L`` the Cholesky factor of ``K(X, X) + g I``) for all N
points: a new observation appends one row of V at ``O(n N)`` cost, after which the posterior mean
and variance of *every* point cost one ``(n, N)`` product, so acquisition maximization can be
exhaustive. Hyperparameters (the weights and the noise ratio ``g``) maximize the marginal
likelihood with the amplitude profiled out (its maximum-likelihood value ``y' K^-1 y / n``), by
L-BFGS with the analytic gradient, warm-started from the previous fit; V is rebuilt after a fit.

``warp="copula"`` fits the GP to the normal scores of the ranks of y instead of y. NAS objectives
are heavy-tailed (a cell with a broken path scores ~10% where the good ones differ by tenths of a
point), and on raw values those few cells set the scale; the ranks keep the order, so the best
observation stays the best, and the good cells spread out.

The kernel depends on a pair of points only through *which* coordinates differ, so with ``E``
coordinates (``E <= MAX_CODE_DIMS``) a kernel row is a lookup: each observed row keeps its
mismatch codes against every point (``sum_e [x_e != z_e] 2^e``), and the ``2^E`` kernel values
are computed once per hyperparameter setting. The table is computed by the same operations as the
direct row (``mismatch @ weights``, then the kernel), one row per code, so the values are the same
numbers; ``tests/test_bench_grid.py`` checks them bit for bit against the direct formula.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.optimize import minimize
from scipy.stats import norm, rankdata

from archspace.errors import UsageError

KERNELS: tuple[str, ...] = ("laplace", "matern52")
WARPS: tuple[str, ...] = ("none", "copula")  # output warpings of y before the GP sees it
LOG_WEIGHT_BOUNDS = (np.log(1e-3), np.log(20.0))
LOG_NOISE_BOUNDS = (np.log(1e-6), np.log(1.0))
PRIOR_LOG_WEIGHT = float(np.log(0.5))  # prior median of a weight: k = exp(-0.5) per differing edge
PRIOR_SCALE = 1.0
MAX_CODE_DIMS = 16  # kernel rows by mismatch-code lookup up to 2**16 codes; direct beyond


def kernel_of(distance: np.ndarray, kernel: str) -> np.ndarray:
    """k as a function of the weighted mismatch ``distance`` (>= 0)."""
    if kernel == "laplace":
        return np.exp(-distance)
    r = np.sqrt(5.0 * np.maximum(distance, 0.0))
    return (1.0 + r + r * r / 3.0) * np.exp(-r)


def _kernel_grad_factor(distance: np.ndarray, kernel: str) -> np.ndarray:
    """dk / d(distance)."""
    if kernel == "laplace":
        return -np.exp(-distance)
    r = np.sqrt(5.0 * np.maximum(distance, 0.0))
    return -(5.0 / 6.0) * (1.0 + r) * np.exp(-r)


class SpaceGP:
    """GP posterior over all rows of ``points`` given observations at some of them (by row)."""

    def __init__(self, points: np.ndarray, kernel: str = "laplace", ard: bool = True,
                 weight: float = 0.5, noise: float = 1e-2, warp: str = "none") -> None:
        if kernel not in KERNELS:
            raise UsageError(f"unknown kernel {kernel!r}; choose from {KERNELS}")
        if warp not in WARPS:
            raise UsageError(f"unknown output warping {warp!r}; choose from {WARPS}")
        self.points = np.ascontiguousarray(points, dtype=np.int8)
        self.kernel = kernel
        self.ard = ard
        n_dims = self.points.shape[1]
        self._weights = np.full(n_dims, float(weight))
        self.noise = float(noise)
        self.warp = warp
        self.rows: list[int] = []
        self.y = np.empty(0)
        self._scaled: np.ndarray | None = None  # _standardized() of the current y
        self._buffer = np.empty((64, len(self.points)))  # rows 0..n-1 hold V = L^-1 K(X, all)
        self._sumsq = np.zeros(len(self.points))  # column sums of V**2
        self._chol = np.empty((0, 0))
        self._table: np.ndarray | None = None  # kernel value per mismatch code at the current weights
        levels = int(self.points.max()) + 1 if self.points.size else 0
        self._coded = n_dims <= MAX_CODE_DIMS and self.points.size > 0 and int(self.points.min()) >= 0 \
            and levels <= 64
        if self._coded:
            dtype = np.uint8 if n_dims <= 8 else np.uint16
            codes = np.arange(2**n_dims)
            self._code_bits = (codes[:, None] >> np.arange(n_dims)[None, :]) & 1 == 1  # (2^E, E) bool
            self._popcount = self._code_bits.sum(axis=1)
            # _bit_masks[e, v]: bit e set at every point whose coordinate e differs from v
            self._bit_masks = np.stack([np.stack([(self.points[:, e] != v).astype(dtype) << e for v in range(levels)])
                                        for e in range(n_dims)])
            self._codes = np.empty((64, len(self.points)), dtype=dtype)  # row i: codes of observation i

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def weights(self) -> np.ndarray:
        """The per-coordinate kernel weights (setting them invalidates the kernel table)."""
        return self._weights

    @weights.setter
    def weights(self, value: np.ndarray) -> None:
        self._weights = np.asarray(value, dtype=float)
        self._table = None

    # --- data --------------------------------------------------------------------------------
    def _row_kernel(self, row: int) -> np.ndarray:
        """k(points[row], every point), computed directly."""
        mismatch = self.points != self.points[row]
        return kernel_of(mismatch @ self.weights, self.kernel)

    def _kernel_table(self) -> np.ndarray:
        """k for every mismatch code at the current weights (same operations as ``_row_kernel``)."""
        if self._table is None:
            self._table = kernel_of(self._code_bits @ self.weights, self.kernel)
        return self._table

    def _observed_kernel(self, i: int) -> np.ndarray:
        """k(x_i, every point) for the i-th observation (a lookup of its stored mismatch codes)."""
        if not self._coded:
            return self._row_kernel(self.rows[i])
        return self._kernel_table()[self._codes[i]]

    def _store_codes(self, i: int, row: int) -> None:
        if not self._coded:
            return
        if i >= self._codes.shape[0]:
            grown = np.empty((2 * self._codes.shape[0], self._codes.shape[1]), dtype=self._codes.dtype)
            grown[:i] = self._codes[:i]
            self._codes = grown
        point = self.points[row]
        codes = self._codes[i]
        codes[:] = self._bit_masks[0, point[0]]
        for e in range(1, len(point)):
            codes |= self._bit_masks[e, point[e]]

    def mismatch_counts(self, i: int) -> np.ndarray:
        """Hamming distance from the i-th observation's point to every point."""
        if not self._coded:
            return (self.points != self.points[self.rows[i]]).sum(axis=1)
        return self._popcount[self._codes[i]]

    def add(self, row: int, value: float) -> None:
        """One observation at point ``row`` (a repeat of a row is a second noisy observation)."""
        self.rows.append(int(row))
        self.y = np.append(self.y, float(value))
        i = len(self.rows) - 1
        if i >= self._buffer.shape[0]:
            grown = np.empty((2 * self._buffer.shape[0], self._buffer.shape[1]))
            grown[:i] = self._buffer[:i]
            self._buffer = grown
        self._store_codes(i, row)
        v = self._buffer[:i]
        l_col = v[:, row].copy()
        d = np.sqrt(max(1.0 + self.noise - float(l_col @ l_col), 1e-10))
        v_row = (self._observed_kernel(i) - l_col @ v) / d
        self._buffer[i] = v_row
        self._sumsq += v_row * v_row
        chol = np.zeros((i + 1, i + 1))
        chol[:i, :i] = self._chol
        chol[i, :i] = l_col
        chol[i, i] = d
        self._chol = chol

    def _rebuild(self) -> None:
        n = len(self.rows)
        cross = (self._kernel_table()[self._codes[:n]] if self._coded
                 else np.stack([self._row_kernel(r) for r in self.rows]))
        gram = cross[:, self.rows] + self.noise * np.eye(n)
        self._chol = np.linalg.cholesky(gram)
        self._buffer[:n] = solve_triangular(self._chol, cross, lower=True, check_finite=False)
        self._sumsq = np.einsum("ij,ij->j", self._buffer[:n], self._buffer[:n])

    # --- hyperparameters -----------------------------------------------------------------------
    def fit_hyperparameters(self, max_iter: int = 50) -> None:
        """Maximize the profiled marginal likelihood (L-BFGS from the current values); rebuild V."""
        n = len(self.rows)
        if n < 3:
            return
        y = self._standardized()
        points = self.points[self.rows]
        mismatch = (points[:, None, :] != points[None, :, :]).astype(float)  # (n, n, E)
        n_dims = mismatch.shape[2]

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            weights = np.exp(theta[:-1]) if self.ard else np.full(n_dims, np.exp(theta[0]))
            noise = float(np.exp(theta[-1]))
            distance = mismatch @ weights
            base = kernel_of(distance, self.kernel)
            try:
                factor = cho_factor(base + noise * np.eye(n), lower=True, check_finite=False)
            except np.linalg.LinAlgError:
                return 1e10, np.zeros_like(theta)
            alpha = cho_solve(factor, y, check_finite=False)
            amplitude = max(float(y @ alpha) / n, 1e-12)
            ll = -0.5 * n * np.log(amplitude) - np.log(np.diag(factor[0])).sum()
            inverse = cho_solve(factor, np.eye(n), check_finite=False)
            outer = np.outer(alpha, alpha) / amplitude - inverse  # dLL/dK = outer / 2
            dk = _kernel_grad_factor(distance, self.kernel)
            grads = 0.5 * np.einsum("ij,ij,ije->e", outer, dk, mismatch) * weights
            grad_weights = grads if self.ard else np.array([grads.sum()])
            grad_noise = 0.5 * np.trace(outer) * noise
            # log-normal prior on the weights (keeps ARD from fitting a few points exactly)
            log_w = theta[:-1]
            ll -= 0.5 * float(((log_w - PRIOR_LOG_WEIGHT) ** 2).sum()) / PRIOR_SCALE**2
            grad_weights = grad_weights - (log_w - PRIOR_LOG_WEIGHT) / PRIOR_SCALE**2
            return -ll, -np.append(grad_weights, grad_noise)

        start = np.append(np.log(self.weights) if self.ard else np.log(self.weights[:1]), np.log(self.noise))
        bounds = [LOG_WEIGHT_BOUNDS] * (len(start) - 1) + [LOG_NOISE_BOUNDS]
        start = np.clip(start, [b[0] for b in bounds], [b[1] for b in bounds])
        found = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                         options={"maxiter": max_iter})
        theta = found.x if np.all(np.isfinite(found.x)) else start
        self.weights = np.exp(theta[:-1]) if self.ard else np.full(n_dims, np.exp(theta[0]))
        self.noise = float(np.exp(theta[-1]))
        self._rebuild()

    # --- posterior ----------------------------------------------------------------------------
    def _warped(self) -> np.ndarray:
        """y after the output warping: unchanged (``"none"``), or the normal scores of its ranks
        (``"copula"``: a monotone map, so a few very bad cells no longer set the scale on which the
        good ones are told apart)."""
        if self.warp == "none" or len(self.y) < 2:
            return self.y
        return norm.ppf((rankdata(self.y) - 0.5) / len(self.y))

    def _standardized(self) -> np.ndarray:
        """The warped y, standardized; cached until the next observation (y only grows)."""
        if self._scaled is None or len(self._scaled) != len(self.y):
            y = self._warped()
            scale = float(np.std(y))
            self._scaled = (y - float(np.mean(y))) / (scale if scale > 1e-12 else 1.0)
        return self._scaled

    def posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) of the latent function at every point, in the GP's units (y warped, then
        standardized)."""
        y = self._standardized()
        w = solve_triangular(self._chol, y, lower=True, check_finite=False)
        mean = w @ self._buffer[: len(y)]
        amplitude = max(float(w @ w) / len(y), 1e-12)
        variance = np.maximum(1.0 - self._sumsq, 1e-12) * amplitude
        return mean, np.sqrt(variance)

    def standardize(self, value: float) -> float:
        """An objective value in the GP's units (warped, then standardized); with the copula
        warping, interpolated between the observed values."""
        if self.warp == "none" or len(self.y) < 2:
            scale = float(np.std(self.y))
            return (value - float(np.mean(self.y))) / (scale if scale > 1e-12 else 1.0)
        order = np.argsort(self.y, kind="stable")
        return float(np.interp(value, self.y[order], self._standardized()[order]))
