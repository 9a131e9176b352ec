"""Learning-rate schedule: linear warm-up then half-period cosine, as a function of progress."""

from __future__ import annotations

import math


def cosine_lr(base_lr: float, progress: float, warmup_fraction: float = 0.0, warmup_factor: float = 0.1) -> float:
    """Learning rate at ``progress`` in [0, 1] of training.

    Half-period cosine: ``base_lr * 0.5 * (1 + cos(pi * progress))`` (reaches 0 at the end).
    During the first ``warmup_fraction`` of training the rate is additionally scaled by a factor
    that grows linearly from ``warmup_factor`` to 1 (pycls's warm-up).
    """
    progress = min(max(progress, 0.0), 1.0)
    lr = base_lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    if warmup_fraction > 0 and progress < warmup_fraction:
        alpha = progress / warmup_fraction
        lr *= warmup_factor * (1.0 - alpha) + alpha
    return lr
