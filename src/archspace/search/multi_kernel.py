"""BO with learned architecture kernels, one or many (thesis, multiple-kernel strategy).

Each step trains ``n_kernels`` learned-kernel GPs from scratch, each on a random subset
(``subset_fraction``, a half by default) of the evaluated architectures; each kernel proposes the
architecture maximizing its expected improvement, excluding what earlier kernels of the step
picked, so one step yields ``n_kernels`` distinct proposals. With ``n_kernels=1`` and
``subset_fraction=1`` this is plain BO with one learned kernel.

``objective`` picks the kernels' training objective (posterior, marginal, euclidean: the ablations
of thesis Table 2.6). Kernel transfer (thesis 2.4.4): ``save_kernels(path)`` writes the kernels of
the last step; a search built with ``transfer=path`` reuses them in another setting (another
teacher, family or dataset; the layer features have one width for all of them), conditioning
each on that setting's data instead of training it (kernel k of a step is saved kernel k mod K').
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from archspace.arch import ArchSpec
from archspace.errors import UsageError
from archspace.search.bo import SurrogateSearch
from archspace.search.gp import expected_improvement
from archspace.search.layer_features import DEFAULT_WINDOW, layer_features
from archspace.search.learned_kernel import (
    LearnedKernelConfig,
    LearnedKernelGP,
    check_objective,
    load_kernels,
    save_kernels,
)
from archspace.search.registry import STRATEGIES
from archspace.spaces.base import Space


@STRATEGIES.register("bo-learned", description="BO with learned Bi-LSTM architecture kernels (K = 8)",
                     model_based=True, uses_torch=True)
class MultiKernelBO(SurrogateSearch):
    """Batched BO: ``n_kernels`` Bi-LSTM kernels per step, one proposal each."""

    name = "bo-learned"

    def __init__(
        self,
        space: Space,
        seed: int | np.random.Generator | None = None,
        n_kernels: int = 8,
        subset_fraction: float = 0.5,
        n_init: int = 10,
        n_candidates: int = 300,
        optimizer: str = "random",
        kernel: LearnedKernelConfig | None = None,
        window: int = DEFAULT_WINDOW,
        feature_options: dict | None = None,
        transfer: str | None = None,
        objective: str = "posterior",
    ) -> None:
        if n_kernels < 1:
            raise UsageError(f"n_kernels must be >= 1, got {n_kernels}")
        if not 0.0 < subset_fraction <= 1.0:
            raise UsageError(f"subset_fraction must be in (0, 1], got {subset_fraction}")
        super().__init__(
            space, seed, n_init=n_init, batch_size=n_kernels, n_candidates=n_candidates,
            optimizer=optimizer,
        )
        self.n_kernels = n_kernels
        self.subset_fraction = subset_fraction
        self.kernel = LearnedKernelConfig(**kernel) if isinstance(kernel, dict) else (kernel or LearnedKernelConfig())
        self.transfer = transfer
        self.objective = check_objective(objective)
        self._transferred = self._load_transfer(transfer)
        self.last_models: list[LearnedKernelGP] = []
        self.window = window
        self.feature_options = dict(feature_options or {})
        self._features: dict[ArchSpec, np.ndarray] = {}

    @staticmethod
    def _load_transfer(path: str | None) -> list[dict]:
        if path is None:
            return []
        from pathlib import Path

        if not Path(path).is_file():
            raise UsageError(f"kernel-transfer file {path} does not exist (write one with save_kernels)")
        kernels = load_kernels(path)
        if not kernels:
            raise UsageError(f"kernel-transfer file {path} holds no kernels")
        return kernels

    def save_kernels(self, path: str) -> None:
        """Write the last step's kernels for reuse by ``transfer=path`` in another setting."""
        save_kernels(self.last_models, path)

    def features(self, archs: Sequence[ArchSpec]) -> np.ndarray:
        """(n, n_layers, n_features) layer-configuration tensors, cached per architecture."""
        rows = []
        for arch in archs:
            feats = self._features.get(arch)
            if feats is None:
                feats = self._features[arch] = layer_features(arch, self.window, self.space, **self.feature_options)
            rows.append(feats)
        if len({r.shape for r in rows}) > 1:
            raise UsageError(
                "the learned kernel batches fixed-length layer sequences; this space gives sequences "
                f"of lengths {sorted({len(r) for r in rows})} (padding/packing is not implemented)"
            )
        return np.stack(rows)

    def _propose(self, n: int) -> list[ArchSpec]:
        archs, y = self.training_data()
        picked: list[ArchSpec] = []
        exclude = set(self._proposed)
        size = max(2, int(round(self.subset_fraction * len(archs))))
        self.last_models = []
        for k in range(n):
            subset = np.sort(self.rng.choice(len(archs), size=min(size, len(archs)), replace=False))
            sub_archs = [archs[i] for i in subset]
            seed = int(self.rng.integers(2**31))
            if self._transferred:
                saved = self._transferred[k % len(self._transferred)]
                model = LearnedKernelGP(_kernel_config(saved["config"]), saved.get("objective", "posterior")).fit(
                    self.features(sub_archs), y[subset], seed=seed, state=saved["state"])
            else:
                model = LearnedKernelGP(self.kernel, self.objective).fit(self.features(sub_archs), y[subset],
                                                                         seed=seed)
            self.last_models.append(model)
            best = model.standardize(float(y.min()))

            def score(candidates: Sequence[ArchSpec], model: LearnedKernelGP = model, best: float = best) -> np.ndarray:
                mean, std = model.predict(self.features(candidates))
                return expected_improvement(mean, std, best)

            choice = self.maximize(score, exclude, 1, self.parents(archs, y))
            if choice:
                picked.append(choice[0])
                exclude.add(choice[0])
        return picked


def _kernel_config(saved: dict) -> LearnedKernelConfig:
    """The kernel config of a saved kernel (fields a newer or older version added are ignored)."""
    known = set(LearnedKernelConfig.__dataclass_fields__)
    return LearnedKernelConfig(**{k: v for k, v in saved.items() if k in known})
