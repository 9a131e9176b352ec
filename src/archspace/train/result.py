"""What a training run measured: ``TrainResult`` and its per-epoch ``EpochStats``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

TrainStatus = Literal["complete", "diverged", "oom"]


@dataclass(frozen=True)
class EpochStats:
    """One epoch: mean training loss, training top-1 error (%, on augmented batches), validation
    error (%, None when not measured that epoch), learning rate at its end, seconds spent training."""

    epoch: int
    train_loss: float
    train_error: float
    val_error: float | None
    lr: float
    seconds: float


@dataclass
class TrainResult:
    """Outcome of ``train``.

    status: ``complete``; ``diverged`` (a NaN/inf loss stopped training early; errors are None);
        ``oom`` (the device ran out of memory; ``message`` says where).
    val_error / test_error: top-1 error in % of the final model (None unless complete).
    train_loss: mean loss of the last completed epoch. epochs: epochs run (fractional when a time
        budget or divergence stopped a run mid-epoch). images_per_s: training throughput,
        excluding evaluation. flops/params/acts: per-image cost of the trained network (None when
        unknown). peak_memory_mb: CUDA peak allocation, or the process's peak RSS on CPU.
    val_logits / test_logits: per-example logits as float16; val_labels / test_labels as int64
        (test ones None when the test split was not evaluated).
    model: the trained module (not serialized). memory_format: ``channels_last`` or
        ``contiguous``, the layout the model trained in (results are bit-identical per format).
    """

    status: TrainStatus
    val_error: float | None
    test_error: float | None
    train_loss: float | None
    epochs: float
    steps: int
    train_seconds: float
    wall_seconds: float
    images_per_s: float
    history: list[EpochStats] = field(default_factory=list)
    flops: int | None = None
    params: int | None = None
    acts: int | None = None
    peak_memory_mb: float | None = None
    device: str = "cpu"
    seed: int = 0
    message: str = ""
    val_logits: np.ndarray | None = None
    val_labels: np.ndarray | None = None
    test_logits: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    model: Any = field(default=None, repr=False, compare=False)
    memory_format: str = "contiguous"

    PREDICTION_KEYS = ("val_logits", "val_labels", "test_logits", "test_labels")

    def predictions(self) -> dict[str, np.ndarray] | None:
        """The per-example arrays, or None when the run produced none."""
        if self.val_logits is None:
            return None
        return {key: getattr(self, key) for key in self.PREDICTION_KEYS if getattr(self, key) is not None}

    def to_dict(self, include_predictions: bool = False) -> dict[str, Any]:
        """JSON-ready summary (predictions as nested lists only when asked)."""
        data: dict[str, Any] = {
            key: value for key, value in asdict(self).items()
            if key not in self.PREDICTION_KEYS and key not in ("model", "history")
        }
        data["history"] = [asdict(stats) for stats in self.history]
        if include_predictions and self.val_logits is not None:
            for key in self.PREDICTION_KEYS:
                value = getattr(self, key)
                data[key] = None if value is None else value.tolist()
        return data
