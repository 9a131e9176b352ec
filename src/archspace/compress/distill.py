"""Short distillation training of a candidate, keeping its best epoch (thesis 2.3.3).

The loss is one of: ``kl`` (``archspace.train.distill.distillation_loss``: KL between the
temperature-softened teacher and student outputs, mixed with cross-entropy by ``kd_weight``),
``mse`` (mean squared error between student and teacher logits, what the ESNAC reference code
trains with, mixed the same way) or ``ce`` (plain cross-entropy: the final fine-tuning stage).
The teacher enters as its logits on the training split, computed once. The validation split held
out of the training set measures A(x) after every epoch; the best epoch's weights are kept.

A loop of its own, not ``archspace.train.train``: the trainer has no MSE loss and returns the
last epoch's weights; the optimizer and schedule (``archspace.train.schedule``) are shared.
"""

from __future__ import annotations

import copy
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from archspace.data.dataset import Dataset, Split
from archspace.errors import UsageError
from archspace.train.distill import distillation_loss
from archspace.train.schedule import cosine_lr, set_lr, sgd

LOSSES = ("kl", "mse", "ce")


@dataclass(frozen=True)
class DistillConfig:
    """Hyper-parameters of one candidate's distillation (or fine-tuning) run."""

    epochs: int = 2
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-5
    loss: str = "kl"
    temperature: float = 4.0
    kd_weight: float = 0.9

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise UsageError(f"distillation loss must be one of {list(LOSSES)}, got {self.loss!r}")
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        if not self.lr > 0 or not 0 <= self.momentum < 1 or self.weight_decay < 0:
            raise UsageError(f"lr > 0, momentum in [0, 1) and weight_decay >= 0 required, got {self}")
        if not self.temperature > 0 or not 0 <= self.kd_weight <= 1:
            raise UsageError(f"temperature > 0 and kd_weight in [0, 1] required, got {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StudentRun:
    """Outcome of ``train_student``: best validation accuracy (%) and the epoch it came from."""

    accuracy: float
    best_epoch: int
    history: list[float] = field(default_factory=list)
    seconds: float = 0.0
    state: dict[str, torch.Tensor] | None = None
    status: str = "complete"


def student_loss(logits: torch.Tensor, teacher_logits: torch.Tensor | None, labels: torch.Tensor,
                 config: DistillConfig) -> torch.Tensor:
    """The configured loss of one batch (``ce`` when no teacher logits are given)."""
    if config.loss == "ce" or teacher_logits is None:
        return F.cross_entropy(logits, labels)
    if config.loss == "kl":
        return distillation_loss(logits, teacher_logits, labels, config.temperature, config.kd_weight)
    hard = F.cross_entropy(logits, labels)
    return (1.0 - config.kd_weight) * hard + config.kd_weight * F.mse_loss(logits.float(), teacher_logits.float())


@torch.no_grad()
def accuracy(module: nn.Module, split: Split, batch_size: int = 512) -> float:
    """Top-1 accuracy (%) of ``module`` in eval mode on a whole split."""
    module.eval()
    correct = 0
    for start in range(0, len(split), batch_size):
        logits = module(split.images[start:start + batch_size])
        correct += int((logits.argmax(1) == split.labels[start:start + batch_size]).sum())
    return 100.0 * correct / max(1, len(split))


@torch.no_grad()
def logits_of(module: nn.Module, split: Split, batch_size: int = 512) -> torch.Tensor:
    module.eval()
    return torch.cat([module(split.images[s:s + batch_size]).float() for s in range(0, len(split), batch_size)])


def train_student(module: nn.Module, data: Dataset, teacher_logits: torch.Tensor | None, config: DistillConfig,
                  seed: int, keep_state: bool = False) -> StudentRun:
    """Train ``module`` in place on ``data.train`` for ``config.epochs``; A(x) is the best
    validation accuracy over the epochs, and with ``keep_state`` the module ends with that
    epoch's weights (returned in ``state`` too). A NaN loss ends the run as ``diverged``."""
    if teacher_logits is not None and tuple(teacher_logits.shape) != (len(data.train), data.num_classes):
        raise UsageError(f"teacher logits have shape {list(teacher_logits.shape)}; expected "
                         f"{[len(data.train), data.num_classes]}")
    start = time.perf_counter()
    generator = torch.Generator().manual_seed(seed)
    optimizer = sgd(module, config.lr, config.momentum, config.weight_decay, decay_1d=True)
    n = len(data.train)
    batch = min(config.batch_size, n)
    steps = max(1, n // batch)
    total, step = steps * config.epochs, 0
    best, best_epoch, best_state, history = -1.0, 0, None, []
    for epoch in range(1, config.epochs + 1):
        module.train()
        order = torch.randperm(n, generator=generator)
        for k in range(steps):
            index = order[k * batch:(k + 1) * batch]
            set_lr(optimizer, cosine_lr(config.lr, step / total))
            logits = module(data.train.images[index])
            soft = None if teacher_logits is None else teacher_logits[index]
            loss = student_loss(logits, soft, data.train.labels[index], config)
            if not torch.isfinite(loss):
                return StudentRun(0.0, epoch, history, time.perf_counter() - start, None, "diverged")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
        value = accuracy(module, data.val)
        history.append(value)
        if value > best:
            best, best_epoch = value, epoch
            if keep_state and epoch < config.epochs:
                best_state = copy.deepcopy(module.state_dict())
    if keep_state:
        if best_state is not None and best_epoch != config.epochs:
            module.load_state_dict(best_state)
        best_state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    return StudentRun(best, best_epoch, history, time.perf_counter() - start, best_state)
