"""Evaluate sub-networks of a trained supernet with inherited weights.

``evaluate_cells(supernet, cells, images, labels, bn=BNRecompute(...), train_images=...)`` returns
each cell's top-1 accuracy (%) on the given images. With ``bn`` set, every BatchNorm's running
statistics are recomputed for each cell before it is scored: all BN buffers are reset and
re-estimated as a cumulative average over ``bn.batches`` fixed training batches (drawn once with
``bn.seed``, so every cell sees the same images) in training mode, linear transformers off.
Without it, the statistics accumulated during supernet training (shared by all paths) are used.
Either way the supernet's own buffers are restored afterwards, so scores do not depend on the
order in which cells are evaluated.

``SupernetEvaluator`` puts this behind the Evaluator contract (``evaluate(cell, seed) -> Result``,
objective = 100 - accuracy) so that ranking runs inside a ``Study`` (persistent, resumable), with
``archspace.search.fixed.FixedList`` asking for the given cells in order.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archspace.arch import ArchSpec
from archspace.configs import init_config
from archspace.data import Dataset, load_dataset
from archspace.errors import InvalidArchitecture, UsageError
from archspace.evaluation import Result
from archspace.evaluators.registry import EVALUATORS
from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.supernet import NB201Supernet
from archspace.train.device import resolve_device
from archspace.train.supernet import load_supernet


@dataclass(frozen=True)
class BNRecompute:
    """Re-estimate BatchNorm statistics per sub-network on ``batches`` x ``batch_size`` training images."""

    batches: int = 4
    batch_size: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        if self.batches < 1 or self.batch_size < 1:
            raise UsageError(f"BN recompute needs batches >= 1 and batch_size >= 1, got {self.batches}, {self.batch_size}")

    def draw(self, train_images: torch.Tensor) -> list[torch.Tensor]:
        """The fixed calibration batches (without replacement when the split is large enough)."""
        count = len(train_images)
        need = self.batches * self.batch_size
        generator = torch.Generator().manual_seed(self.seed)
        index = torch.randperm(count, generator=generator)
        if need > count:
            index = torch.cat([index] * (need // count + 1))
        index = index[:need].to(train_images.device)
        return [train_images[index[i * self.batch_size:(i + 1) * self.batch_size]] for i in range(self.batches)]

    def describe(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def preserved_batchnorm(net: nn.Module) -> Iterator[list[nn.BatchNorm2d]]:
    """Yield the BN layers; afterwards restore their buffers, momentum and the module's mode."""
    layers = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone()) for m in layers]
    was_training = net.training
    try:
        yield layers
    finally:
        for m, (momentum, mean, var, tracked) in zip(layers, saved, strict=True):
            m.momentum = momentum
            m.running_mean.copy_(mean)
            m.running_var.copy_(var)
            m.num_batches_tracked.copy_(tracked)
        net.train(was_training)


@torch.no_grad()
def recompute_batchnorm(net: NB201Supernet, cell: NB201Cell, layers: list[nn.BatchNorm2d],
                        batches: Sequence[torch.Tensor]) -> None:
    """Reset every BN and re-estimate its statistics on ``batches`` for ``cell`` (cumulative mean)."""
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    for images in batches:
        net(images, cell, transformers=False)
    net.eval()


@torch.no_grad()
def predict(net: NB201Supernet, cell: NB201Cell, images: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Eval-mode logits of one sub-network (no linear transformers) on ``images``."""
    net.eval()
    return torch.cat([net(images[i:i + batch_size], cell, transformers=False)
                      for i in range(0, len(images), batch_size)])


def evaluate_cells(
    supernet: NB201Supernet,
    cells: Sequence[NB201Cell],
    images: torch.Tensor,
    labels: torch.Tensor,
    bn: BNRecompute | None = None,
    train_images: torch.Tensor | None = None,
    batch_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """Top-1 accuracy (%) of each cell's sub-network with inherited weights (float64 array)."""
    if bn is not None and train_images is None:
        raise UsageError("BN recompute needs train_images")
    cells = [cell if isinstance(cell, NB201Cell) else NB201Cell(tuple(cell)) for cell in cells]
    for cell in cells:
        supernet.resolve_path(cell)  # op-mask errors before any work
    device = next(supernet.parameters()).device
    images, labels = images.to(device), labels.to(device)
    calibration = bn.draw(train_images.to(device)) if bn is not None else []
    out = np.empty(len(cells), dtype=np.float64)
    with preserved_batchnorm(supernet) as layers:
        for i, cell in enumerate(cells):
            if bn is not None:
                recompute_batchnorm(supernet, cell, layers, calibration)
            logits = predict(supernet, cell, images, batch_size)
            out[i] = 100.0 * float((logits.argmax(1) == labels).double().mean())
            if progress is not None:
                progress(i + 1, len(cells))
    return out


@EVALUATORS.register("supernet", trains=False, kinds=("nb201",))
class SupernetEvaluator:
    """Evaluator: a cell's accuracy with weights inherited from a supernet checkpoint.

    checkpoint: the ``train_supernet`` checkpoint. dataset / data_dir / val_size / split_seed: how
    to load the data (``load_dataset``); the split must be the one the ranking is judged on.
    split: ``val`` or ``test``; eval_images: score on the first this many images of it (None: all).
    bn_batches: 0 = use the supernet's training BN statistics; > 0 = recompute them per cell on
    that many training batches of ``bn_batch_size`` (drawn with ``bn_seed``). The evaluation seed
    is recorded but does not change the score: every cell is judged on the same images. threads:
    torch threads per evaluation (``archspace.numerics``; None = its default, 1).
    """

    def __init__(self, checkpoint: str | Path, dataset: str = "fashion-mnist", data_dir: str | None = None,
                 val_size: int | None = None, split_seed: int = 0, split: str = "val",
                 eval_images: int | None = 1000, bn_batches: int = 4, bn_batch_size: int = 128,
                 bn_seed: int = 0, batch_size: int = 500, device: str = "cpu", threads: int | None = None) -> None:
        if split not in ("val", "test"):
            raise UsageError(f"split must be 'val' or 'test', got {split!r}")
        if eval_images is not None and eval_images < 1:
            raise UsageError(f"eval_images must be >= 1 or None, got {eval_images}")
        if bn_batches < 0:
            raise UsageError(f"bn_batches must be >= 0, got {bn_batches}")
        self.checkpoint, self.dataset, self.data_dir = str(checkpoint), dataset, data_dir
        self.val_size, self.split_seed, self.split, self.eval_images = val_size, split_seed, split, eval_images
        self.bn_batches, self.bn_batch_size, self.bn_seed = bn_batches, bn_batch_size, bn_seed
        self.batch_size, self.device = batch_size, device
        self.threads = threads  # torch threads of each evaluation (None: archspace.numerics' default)
        self._state: tuple[NB201Supernet, Dataset, dict[str, Any]] | None = None

    def to_config(self) -> dict[str, Any]:
        return init_config(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> SupernetEvaluator:
        return cls(**config)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_state": None}

    @property
    def bn(self) -> BNRecompute | None:
        return BNRecompute(self.bn_batches, self.bn_batch_size, self.bn_seed) if self.bn_batches else None

    def load(self) -> tuple[NB201Supernet, Dataset, dict[str, Any]]:
        """Supernet, dataset and checkpoint metadata (loaded once)."""
        if self._state is None:
            net, meta = load_supernet(self.checkpoint, self.device)
            data = load_dataset(self.dataset, data_dir=self.data_dir, seed=self.split_seed, val_size=self.val_size)
            if data.num_classes != net.config.num_classes or data.in_channels != net.config.in_channels:
                raise UsageError(f"supernet {self.checkpoint} was trained for {net.config.num_classes} classes and "
                                 f"{net.config.in_channels} channels; {self.dataset} has {data.num_classes} and {data.in_channels}")
            self._state = (net, data.to(resolve_device(self.device)), meta)
        return self._state

    def evaluate(self, arch: ArchSpec, seed: int = 0) -> Result:
        if not isinstance(arch, NB201Cell):
            raise InvalidArchitecture("kind", f"a supernet evaluates nb201 cells, got {type(arch).__name__}")
        net, data, meta = self.load()
        split = data.val if self.split == "val" else data.test
        count = len(split) if self.eval_images is None else min(self.eval_images, len(split))
        start = time.perf_counter()
        accuracy = float(evaluate_cells(net, [arch], split.images[:count], split.labels[:count], self.bn,
                                        data.train.images, self.batch_size)[0])
        seconds = time.perf_counter() - start
        return Result(
            objective=100.0 - accuracy,
            metrics={"accuracy": accuracy, "error": 100.0 - accuracy},
            cost={"eval_seconds": seconds},
            info={"checkpoint": self.checkpoint, "split": self.split, "images": count, "seed": seed,
                  "bn_recompute": None if self.bn is None else self.bn.describe(),
                  "supernet_step": meta["step"], "supernet_seed": meta["seed"]},
        )

    def __repr__(self) -> str:
        return f"SupernetEvaluator({self.checkpoint!r}, dataset={self.dataset!r}, bn_batches={self.bn_batches})"


__all__ = ["BNRecompute", "SupernetEvaluator", "evaluate_cells", "preserved_batchnorm",
           "recompute_batchnorm"]
