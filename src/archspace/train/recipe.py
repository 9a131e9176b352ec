"""Training recipes: a dataclass of hyper-parameters with the RegNet paper's low-epoch defaults.

Defaults follow *Designing Network Design Spaces* (section 3, the setting used to sample and
compare populations of models): SGD with momentum 0.9, batch 128, learning rate 0.05, half-period
cosine schedule, weight decay 5e-5, 10 epochs. Recipes round-trip through YAML.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from archspace.errors import UsageError

AMP_MODES = ("auto", "off", "bf16", "fp16")
NULLABLE = ("grad_clip", "subset", "time_budget_s", "eval_batch_size")


@dataclass(frozen=True)
class Recipe:
    """How to train a model.

    epochs: passes over the training set; time_budget_s stops earlier (the cosine schedule then
        follows the fraction of the budget spent, so it still anneals to zero).
    lr: base learning rate for batch_size; warmup_epochs ramps it linearly from
        warmup_factor * lr. momentum / nesterov: SGD. weight_decay: L2 on weights; with
        no_wd_on_bn_bias it is not applied to BatchNorm parameters and biases (1-D tensors).
    label_smoothing: cross-entropy smoothing in [0, 1). grad_clip: max global gradient norm
        (None = no clipping). subset: train on this many training examples (seeded draw).
    augment: apply the dataset's augmentation (random crop, flip) to training batches.
    eval_batch_size: batch size for validation/test inference (None = 1024 on CUDA; on CPU the
        largest of 32..512 whose largest activation fits the cache, ``trainer.cpu_eval_batch``;
        logits do not depend on it). eval_each_epoch: measure the
        validation error after every epoch (else only at the end).
    amp: mixed precision on CUDA ("auto" = bf16 when supported); ignored on CPU.
    channels_last: NHWC memory format for convolutional models, on CPU and CUDA (faster on both;
        ``archspace.train.trainer.memory_format_for`` has the rule). compile: torch.compile.
    kd_temperature / kd_weight: knowledge distillation (used when a teacher is given).
    """

    epochs: int = 10
    batch_size: int = 128
    lr: float = 0.05
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-5
    no_wd_on_bn_bias: bool = False
    label_smoothing: float = 0.0
    warmup_epochs: float = 0.0
    warmup_factor: float = 0.1
    grad_clip: float | None = None
    subset: int | None = None
    time_budget_s: float | None = None
    augment: bool = True
    eval_batch_size: int | None = None
    eval_each_epoch: bool = True
    amp: str = "auto"
    channels_last: bool = True
    compile: bool = False
    kd_temperature: float = 4.0
    kd_weight: float = 0.5

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``UsageError`` naming the first field outside its allowed range."""
        _check(self.epochs >= 1, "epochs", self.epochs, "an integer >= 1")
        _check(self.batch_size >= 1, "batch_size", self.batch_size, "an integer >= 1")
        _check(self.eval_batch_size is None or self.eval_batch_size >= 1, "eval_batch_size",
               self.eval_batch_size, "an integer >= 1 or null")
        _check(_finite(self.lr) and self.lr > 0, "lr", self.lr, "a positive number")
        _check(0 <= self.momentum < 1, "momentum", self.momentum, "in [0, 1)")
        _check(not self.nesterov or self.momentum > 0, "nesterov", self.nesterov, "only with momentum > 0")
        _check(_finite(self.weight_decay) and self.weight_decay >= 0, "weight_decay", self.weight_decay, ">= 0")
        _check(0 <= self.label_smoothing < 1, "label_smoothing", self.label_smoothing, "in [0, 1)")
        _check(_finite(self.warmup_epochs) and self.warmup_epochs >= 0, "warmup_epochs", self.warmup_epochs, ">= 0")
        _check(0 < self.warmup_factor <= 1, "warmup_factor", self.warmup_factor, "in (0, 1]")
        _check(self.grad_clip is None or self.grad_clip > 0, "grad_clip", self.grad_clip, "positive or null")
        _check(self.subset is None or self.subset >= 1, "subset", self.subset, "an integer >= 1 or null")
        _check(self.time_budget_s is None or self.time_budget_s > 0, "time_budget_s", self.time_budget_s,
               "positive or null")
        _check(self.amp in AMP_MODES, "amp", self.amp, f"one of {list(AMP_MODES)}")
        _check(self.kd_temperature > 0, "kd_temperature", self.kd_temperature, "positive")
        _check(0 <= self.kd_weight <= 1, "kd_weight", self.kd_weight, "in [0, 1]")

    def replace(self, **changes: Any) -> Recipe:
        """A copy with some fields changed (validated)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise UsageError(f"unknown recipe field(s) {sorted(unknown)}; known: {sorted(f.name for f in fields(self))}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Build from a mapping; unknown keys and wrong types are rejected by name."""
        if not isinstance(data, dict):
            raise UsageError(f"a recipe must be a mapping of field: value, got {type(data).__name__}")
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise UsageError(f"unknown recipe field(s) {unknown}; known: {sorted(known)}")
        defaults = cls()
        return cls(**{name: _coerce(name, value, getattr(defaults, name)) for name, value in data.items()})

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml())

    @classmethod
    def from_yaml(cls, text: str) -> Recipe:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UsageError(f"recipe is not valid YAML: {exc}") from None
        return cls.from_dict(data or {})

    @classmethod
    def load(cls, path: str | Path) -> Recipe:
        path = Path(path)
        if not path.is_file():
            raise UsageError(f"recipe file not found: {path}")
        return cls.from_yaml(path.read_text())


def _coerce(name: str, value: Any, default: Any) -> Any:
    """Accept ints for float fields; reject other type mismatches (bools are not numbers here)."""
    if value is None:
        if name in NULLABLE:
            return None
        raise UsageError(f"recipe field {name} cannot be null")
    if isinstance(default, bool) or (default is None and isinstance(value, bool)):
        if not isinstance(value, bool):
            raise UsageError(f"recipe field {name} must be true or false, got {value!r}")
        return value
    if isinstance(default, str):
        if not isinstance(value, str):
            raise UsageError(f"recipe field {name} must be a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"recipe field {name} must be a number, got {value!r}")
    if isinstance(default, int) or name in ("subset", "eval_batch_size"):
        if float(value) != int(value):
            raise UsageError(f"recipe field {name} must be an integer, got {value!r}")
        return int(value)
    return float(value)


def _finite(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _check(ok: bool, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise UsageError(f"recipe field {name}={value!r} is invalid: must be {allowed}")
