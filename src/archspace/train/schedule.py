"""Optimizer and learning-rate schedule shared by the trainer and the supernet trainer.

``sgd`` builds SGD with the usual weight-decay grouping (BatchNorm weights and biases, the 1-D
tensors, optionally without decay); ``cosine_lr`` is linear warm-up then half-period cosine as a
function of training progress; ``set_lr`` applies a rate to every group.
"""

from __future__ import annotations

import math
from typing import Any


def cosine_lr(base_lr: float, progress: float, warmup_fraction: float = 0.0, warmup_factor: float = 0.1,
              lr_min: float = 0.0) -> float:
    """Learning rate at ``progress`` in [0, 1] of training.

    Half-period cosine from ``base_lr`` to ``lr_min``: ``lr_min + 0.5 * (base_lr - lr_min) *
    (1 + cos(pi * progress))``. During the first ``warmup_fraction`` of training the rate is
    additionally scaled by a factor that grows linearly from ``warmup_factor`` to 1 (pycls's warm-up).
    """
    progress = min(max(progress, 0.0), 1.0)
    lr = lr_min + 0.5 * (base_lr - lr_min) * (1.0 + math.cos(math.pi * progress))
    if warmup_fraction > 0 and progress < warmup_fraction:
        alpha = progress / warmup_fraction
        lr *= warmup_factor * (1.0 - alpha) + alpha
    return lr


def decay_groups(module: Any, weight_decay: float, decay_1d: bool) -> list[dict[str, Any]]:
    """One parameter group, or two when weight decay skips the 1-D tensors (BN weights, biases)."""
    params = [p for p in module.parameters() if p.requires_grad]
    if decay_1d:
        return [{"params": params, "weight_decay": weight_decay}]
    return [{"params": [p for p in params if p.dim() > 1], "weight_decay": weight_decay},
            {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0}]


def sgd(module: Any, lr: float, momentum: float, weight_decay: float, decay_1d: bool,
        nesterov: bool = False) -> Any:
    """``torch.optim.SGD`` over ``decay_groups(module, weight_decay, decay_1d)``.

    ``foreach=True`` on every device: the multi-tensor update gives bit-identical weights to the
    per-tensor loop (pinned by a test) at less Python cost per step, which matters on CPU where torch
    would otherwise pick the loop (5-16% of a design-study trial's CPU time in a probe; BENCHMARKS.md)."""
    import torch

    return torch.optim.SGD(decay_groups(module, weight_decay, decay_1d), lr=lr, momentum=momentum,
                           nesterov=nesterov, foreach=True)


def set_lr(optimizer: Any, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr
