"""Single-path one-shot (SPOS) supernet training: path samplers, the recipe and a resumable loop.

Path samplers (``UniformSampler``, ``FairSampler``) draw, for training step ``s``, a group of
paths as an int array ``(k, units, 6)`` of op indices into ``OPS``: ``units`` is 1 with cell-topology
sharing (every cell uses the same path) or 3N without (each cell its own). Uniform: k = 1, each
edge's op uniform over the allowed ops. Strictly fair (FairNAS): k = |O|, and for every unit and
edge the k paths use each allowed op exactly once (an independent random permutation per edge);
the trainer accumulates the gradients of the k paths on the same batch, then makes one update.
Draws depend only on (seed, step), so a resumed run samples exactly the paths it would have.

``train_supernet(config, dataset, recipe, seed, ...)`` trains a ``NB201Supernet`` with the
paper's recipe defaults (SGD lr 0.025, cosine to 1e-5, momentum 0.9, weight decay 3e-4 not on
BatchNorm / bias parameters, batch 256). Batch order, augmentation and paths all derive from
(seed, epoch or step); the checkpoint (written atomically at each epoch end, every
``checkpoint_every_s`` seconds and on Ctrl-C) holds weights, optimizer state and the step, so an
interrupted run resumed from it ends with the same weights as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from archspace.data.dataset import Dataset
from archspace.errors import DataError, UsageError
from archspace.families.nb201.supernet import NB201Supernet, SupernetConfig
from archspace.families.nb201.table import NUM_EDGES, OPS
from archspace.train import checkpoint as checkpoint_file
from archspace.train.device import resolve_device
from archspace.train.schedule import cosine_lr, decay_groups, set_lr, sgd

SAMPLERS = ("uniform", "fair")
AUGMENT_MODES = ("none", "standard", "strong")
CHECKPOINT_FORMAT = "archspace-supernet/1"
_OP_INDEX = {name: i for i, name in enumerate(OPS)}


# --- path samplers ------------------------------------------------------------------------------

class PathSampler:
    """Base: paths for a step from a generator seeded by (seed, step)."""

    name = ""

    def __init__(self, ops: tuple[str, ...], units: int, seed: int) -> None:
        if not ops:
            raise UsageError("a path sampler needs at least one allowed op")
        if units < 1:
            raise UsageError(f"units must be >= 1, got {units}")
        self.op_ids = np.array([_OP_INDEX[op] for op in ops], dtype=np.int64)
        self.units = int(units)
        self.seed = int(seed)

    @property
    def paths_per_step(self) -> int:
        return 1

    def generator(self, step: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, int(step), 0x5B05])

    def draw(self, step: int) -> np.ndarray:
        """(paths_per_step, units, 6) op indices into ``OPS`` for update ``step``."""
        raise NotImplementedError


class UniformSampler(PathSampler):
    """One path per step; every edge's op uniform over the allowed ops, independently."""

    name = "uniform"

    def draw(self, step: int) -> np.ndarray:
        picks = self.generator(step).integers(0, len(self.op_ids), size=(1, self.units, NUM_EDGES))
        return self.op_ids[picks]


class FairSampler(PathSampler):
    """|O| paths per step; on each edge of each unit they use every allowed op exactly once."""

    name = "fair"

    @property
    def paths_per_step(self) -> int:
        return len(self.op_ids)

    def draw(self, step: int) -> np.ndarray:
        k = len(self.op_ids)
        keys = self.generator(step).random((k, self.units, NUM_EDGES))
        order = np.argsort(keys, axis=0)  # a uniform random permutation along axis 0, per (unit, edge)
        return self.op_ids[order]


def make_sampler(name: str, ops: tuple[str, ...], units: int, seed: int) -> PathSampler:
    if name == "uniform":
        return UniformSampler(ops, units, seed)
    if name == "fair":
        return FairSampler(ops, units, seed)
    raise UsageError(f"unknown path sampler {name!r}; known: {list(SAMPLERS)}")


# --- the recipe ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SPOSRecipe:
    """How to train a supernet (defaults: the ranking-correlation paper's recipe).

    lr is for ``reference_batch`` images; with ``scale_lr`` the rate is scaled linearly by
    ``batch_size / reference_batch``. Cosine from lr to ``lr_min`` over all steps, after an
    optional linear warm-up of ``warmup_epochs`` from ``warmup_factor * lr``. ``weight_decay``
    skips BatchNorm parameters and biases unless ``wd_on_bn``. ``grad_clip``: max global norm
    (None = off). ``augment``: ``none``, ``standard`` (the dataset's crop/flip) or ``strong``
    (standard + cutout of a ``cutout`` x ``cutout`` square, default half the image side).
    ``sampler``: ``uniform`` or ``fair``; ``share_topology``: all cells use the same sampled path.
    ``subset``: train on this many training images (seeded draw).
    """

    epochs: int = 50
    batch_size: int = 256
    lr: float = 0.025
    lr_min: float = 1e-5
    momentum: float = 0.9
    weight_decay: float = 3e-4
    wd_on_bn: bool = False
    scale_lr: bool = False
    reference_batch: int = 256
    warmup_epochs: float = 0.0
    warmup_factor: float = 0.1
    grad_clip: float | None = None
    label_smoothing: float = 0.0
    augment: str = "standard"
    cutout: int | None = None
    sampler: str = "uniform"
    share_topology: bool = True
    subset: int | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.epochs >= 1, "epochs", "an integer >= 1"),
            (self.batch_size >= 1, "batch_size", "an integer >= 1"),
            (self.lr > 0 and math.isfinite(self.lr), "lr", "positive"),
            (0 <= self.lr_min < self.lr, "lr_min", "in [0, lr)"),
            (0 <= self.momentum < 1, "momentum", "in [0, 1)"),
            (self.weight_decay >= 0, "weight_decay", ">= 0"),
            (self.reference_batch >= 1, "reference_batch", ">= 1"),
            (self.warmup_epochs >= 0, "warmup_epochs", ">= 0"),
            (0 < self.warmup_factor <= 1, "warmup_factor", "in (0, 1]"),
            (self.grad_clip is None or self.grad_clip > 0, "grad_clip", "positive or null"),
            (0 <= self.label_smoothing < 1, "label_smoothing", "in [0, 1)"),
            (self.augment in AUGMENT_MODES, "augment", f"one of {list(AUGMENT_MODES)}"),
            (self.cutout is None or self.cutout >= 1, "cutout", ">= 1 or null"),
            (self.sampler in SAMPLERS, "sampler", f"one of {list(SAMPLERS)}"),
            (self.subset is None or self.subset >= 1, "subset", ">= 1 or null"),
        ]
        for ok, name, allowed in checks:
            if not ok:
                raise UsageError(f"supernet recipe field {name}={getattr(self, name)!r} is invalid: must be {allowed}")

    @property
    def effective_lr(self) -> float:
        return self.lr * (self.batch_size / self.reference_batch if self.scale_lr else 1.0)

    def lr_at(self, progress: float) -> float:
        """Learning rate at ``progress`` in [0, 1] of training (warm-up, then cosine to lr_min)."""
        return cosine_lr(self.effective_lr, progress, self.warmup_epochs / self.epochs, self.warmup_factor,
                         self.lr_min)

    def replace(self, **changes: Any) -> SPOSRecipe:
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise UsageError(f"unknown supernet recipe field(s) {sorted(unknown)}; known: {sorted(f.name for f in fields(self))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SPOSRecipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UsageError(f"unknown supernet recipe field(s) {unknown}; known: {sorted(known)}")
        return cls(**data)


# --- augmentation -------------------------------------------------------------------------------

def cutout(images: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """Zero a ``size`` x ``size`` square (clipped at the border) at a random centre of each image."""
    batch, _, height, width = images.shape
    centres = torch.randint(0, max(height, width), (2, batch), generator=generator)
    cy, cx = centres[0].clamp(max=height - 1), centres[1].clamp(max=width - 1)
    rows = torch.arange(height)[None, :]
    cols = torch.arange(width)[None, :]
    inside_r = (rows >= (cy - size // 2)[:, None]) & (rows < (cy - size // 2 + size)[:, None])
    inside_c = (cols >= (cx - size // 2)[:, None]) & (cols < (cx - size // 2 + size)[:, None])
    mask = (inside_r[:, :, None] & inside_c[:, None, :]).to(images.device)
    return images.masked_fill(mask[:, None], 0.0)


# --- training -----------------------------------------------------------------------------------

@dataclass
class EpochRecord:
    epoch: int
    loss: float
    train_error: float
    lr: float
    seconds: float


@dataclass
class SupernetRun:
    """Outcome of ``train_supernet``: the trained supernet and what happened."""

    supernet: NB201Supernet
    config: SupernetConfig
    recipe: SPOSRecipe
    seed: int
    steps: int
    total_steps: int
    train_seconds: float
    history: list[EpochRecord] = field(default_factory=list)
    checkpoint: str | None = None
    resumed_from_step: int = 0

    @property
    def finished(self) -> bool:
        return self.steps >= self.total_steps


@dataclass(frozen=True)
class StepProgress:
    step: int
    total_steps: int
    epoch: int
    loss: float
    lr: float


def _mix(*values: int) -> int:
    """A 63-bit seed from integers (numpy's SeedSequence hashing)."""
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(2, dtype=np.uint32).view(np.uint64)[0] >> 1)


def param_groups(module: torch.nn.Module, recipe: SPOSRecipe) -> list[dict[str, Any]]:
    """The trainer's weight-decay grouping under the supernet recipe's ``wd_on_bn``."""
    return decay_groups(module, recipe.weight_decay, decay_1d=recipe.wd_on_bn)


def dataset_fingerprint(dataset: Dataset) -> dict[str, Any]:
    """Cheap identity of the training data (size, shape, label sum, a pixel checksum)."""
    train = dataset.train
    return {"name": dataset.name, "train": len(train), "image_shape": list(dataset.image_shape),
            "num_classes": dataset.num_classes, "label_sum": int(train.labels.sum()),
            "pixel_sum": round(float(train.images[: min(len(train), 512)].double().sum()), 3)}


class _Trainer:
    """State of one supernet training run."""

    def __init__(self, config: SupernetConfig, dataset: Dataset, recipe: SPOSRecipe, seed: int,
                 device: torch.device, checkpoint: Path | None,
                 progress: Callable[[StepProgress], None] | None, checkpoint_every_s: float) -> None:
        self.config = config.with_data(dataset.num_classes, dataset.in_channels)
        if recipe.subset is not None:
            dataset = dataset.with_train_subset(recipe.subset, seed)
        self.dataset, self.recipe, self.seed, self.device = dataset.to(device), recipe, int(seed), device
        self.checkpoint, self.progress, self.checkpoint_every_s = checkpoint, progress, checkpoint_every_s
        self.batch_size = min(recipe.batch_size, len(dataset.train))
        self.steps_per_epoch = max(1, len(dataset.train) // self.batch_size)
        self.total_steps = self.steps_per_epoch * recipe.epochs
        units = 1 if recipe.share_topology else self.config.num_cells
        self.sampler = make_sampler(recipe.sampler, self.config.ops, units, seed)
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.supernet = NB201Supernet(self.config).to(device)
        self.optimizer = sgd(self.supernet, recipe.effective_lr, recipe.momentum, recipe.weight_decay,
                             decay_1d=recipe.wd_on_bn)
        self.step, self.train_seconds = 0, 0.0
        self.history: list[EpochRecord] = []
        self.resumed_from = 0
        self._order_epoch, self._order = -1, None
        self._epoch_loss, self._epoch_wrong, self._epoch_seen = 0.0, 0, 0

    # --- checkpoints --------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT, "config": self.config.to_dict(), "recipe": self.recipe.to_dict(),
            "seed": self.seed, "step": self.step, "total_steps": self.total_steps,
            "train_seconds": self.train_seconds, "history": [dataclasses.asdict(h) for h in self.history],
            "epoch_sums": [self._epoch_loss, self._epoch_wrong, self._epoch_seen],
            "data": dataset_fingerprint(self.dataset), "model": self.supernet.state_dict(),
            "optimizer": self.optimizer.state_dict(),
        }

    def save(self) -> None:
        if self.checkpoint is None:
            return
        checkpoint_file.save_checkpoint(self.state(), self.checkpoint)
        self._last_save = time.perf_counter()

    def restore(self) -> None:
        if self.checkpoint is None or not self.checkpoint.is_file():
            return
        state = read_checkpoint(self.checkpoint)
        expected = {"config": self.config.to_dict(), "recipe": self.recipe.to_dict(), "seed": self.seed,
                    "data": dataset_fingerprint(self.dataset)}
        for key, value in expected.items():
            if state[key] != value:
                raise UsageError(f"checkpoint {self.checkpoint} was written by a different run ({key} differs: "
                                 f"{state[key]!r} vs {value!r}); use another path or delete it")
        self.supernet.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.train_seconds = int(state["step"]), float(state["train_seconds"])
        self.history = [EpochRecord(**h) for h in state["history"]]
        self._epoch_loss, self._epoch_wrong, self._epoch_seen = state["epoch_sums"]
        self.resumed_from = self.step

    # --- the loop -----------------------------------------------------------------------------
    def batch_index(self, step: int) -> torch.Tensor:
        epoch, position = divmod(step, self.steps_per_epoch)
        if epoch != self._order_epoch:
            generator = torch.Generator().manual_seed(_mix(self.seed, epoch, 1))
            self._order = torch.randperm(len(self.dataset.train), generator=generator).to(self.device)
            self._order_epoch = epoch
        return self._order[position * self.batch_size:(position + 1) * self.batch_size]

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        index = self.batch_index(step)
        images, labels = self.dataset.train.images[index], self.dataset.train.labels[index]
        if self.recipe.augment != "none" and self.dataset.augmentation.enabled:
            generator = torch.Generator(device=self.device).manual_seed(_mix(self.seed, step, 2))
            images = self.dataset.augmentation(images, generator)
        if self.recipe.augment == "strong":
            size = self.recipe.cutout or max(1, self.dataset.resolution // 2)
            images = cutout(images, size, torch.Generator().manual_seed(_mix(self.seed, step, 3)))
        return images, labels

    def train_step(self, step: int) -> tuple[float, int, int, float]:
        recipe, net = self.recipe, self.supernet
        lr = recipe.lr_at(step / self.total_steps)
        set_lr(self.optimizer, lr)
        images, labels = self.batch(step)
        paths = self.sampler.draw(step)
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum, wrong = 0.0, 0
        for path in paths:
            logits = net(images, path, transformers=True)
            loss = F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
            loss.backward()  # gradients accumulate over the step's paths (FairNAS: summed)
            loss_sum += float(loss.detach())
            wrong += int((logits.detach().argmax(1) != labels).sum())
        if not math.isfinite(loss_sum):
            raise DataError(f"supernet loss became {loss_sum} at step {step}; lower the learning rate or clip gradients")
        if recipe.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(net.parameters(), recipe.grad_clip)
        self.optimizer.step()
        return loss_sum / len(paths), wrong, len(labels) * len(paths), lr

    def run(self, stop_after_steps: int | None) -> None:
        self.supernet.train()
        stop = self.total_steps if stop_after_steps is None else min(self.total_steps, int(stop_after_steps))
        self._last_save = time.perf_counter()
        while self.step < stop:
            start = time.perf_counter()
            try:
                loss, wrong, seen, lr = self.train_step(self.step)
            except KeyboardInterrupt:
                self.save()  # weights are only changed by optimizer.step(), the step's last call
                raise
            self.step += 1
            self.train_seconds += time.perf_counter() - start
            self._epoch_loss += loss
            self._epoch_wrong += wrong
            self._epoch_seen += seen
            epoch, position = divmod(self.step, self.steps_per_epoch)
            if self.progress is not None:
                self.progress(StepProgress(self.step, self.total_steps, epoch + (position > 0), loss, lr))
            if position == 0:
                self.history.append(EpochRecord(epoch, self._epoch_loss / self.steps_per_epoch,
                                                100.0 * self._epoch_wrong / max(self._epoch_seen, 1), lr,
                                                self.train_seconds - sum(h.seconds for h in self.history)))
                self._epoch_loss, self._epoch_wrong, self._epoch_seen = 0.0, 0, 0
                self.save()
            elif time.perf_counter() - self._last_save >= self.checkpoint_every_s:
                self.save()
        self.save()


def train_supernet(
    config: SupernetConfig,
    dataset: Dataset,
    recipe: SPOSRecipe | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    checkpoint: str | os.PathLike[str] | None = None,
    progress: Callable[[StepProgress], None] | None = None,
    stop_after_steps: int | None = None,
    checkpoint_every_s: float = 120.0,
) -> SupernetRun:
    """Train (or resume, when ``checkpoint`` exists) a supernet on ``dataset.train``.

    ``config``'s num_classes / in_channels are taken from the dataset. ``stop_after_steps`` ends
    the run early (its checkpoint then resumes it). On CPU the same seed gives the same weights.
    """
    recipe = recipe or SPOSRecipe()
    if not isinstance(config, SupernetConfig):
        raise UsageError(f"config must be a SupernetConfig, got {type(config).__name__}")
    trainer = _Trainer(config, dataset, recipe, seed, resolve_device(device),
                       None if checkpoint is None else Path(checkpoint), progress, checkpoint_every_s)
    trainer.restore()
    with torch.random.fork_rng():
        trainer.run(stop_after_steps)
    return SupernetRun(trainer.supernet, trainer.config, recipe, trainer.seed, trainer.step, trainer.total_steps,
                       trainer.train_seconds, trainer.history, None if checkpoint is None else str(checkpoint),
                       trainer.resumed_from)


def read_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A supernet checkpoint's state (format checked; see ``archspace.train.checkpoint``)."""
    return checkpoint_file.read_checkpoint(path, CHECKPOINT_FORMAT, "supernet")


def load_supernet(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[NB201Supernet, dict[str, Any]]:
    """The trained supernet of a checkpoint (eval mode) and the checkpoint's metadata."""
    state = read_checkpoint(path)
    net = NB201Supernet(SupernetConfig.from_dict(state["config"]))
    net.load_state_dict(state["model"])
    meta = {k: v for k, v in state.items() if k not in ("model", "optimizer")}
    return net.to(resolve_device(device)).eval(), meta


__all__ = [
    "AUGMENT_MODES",
    "SAMPLERS",
    "EpochRecord",
    "FairSampler",
    "PathSampler",
    "SPOSRecipe",
    "StepProgress",
    "SupernetRun",
    "UniformSampler",
    "cutout",
    "load_supernet",
    "make_sampler",
    "read_checkpoint",
    "train_supernet",
]
