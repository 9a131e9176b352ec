"""The trainer: ``train(arch_or_module, dataset, recipe, seed, device) -> TrainResult``.

The dataset lives in memory on the training device; each epoch draws one seeded permutation and
every batch is an index slice of it, augmented on the whole batch at once. Model initialization,
batch order and augmentation all derive from ``seed`` (the caller's global RNG state is restored
afterwards), so on CPU the same seed and memory format give bit-identical logits. A NaN/inf loss
ends the run with status ``diverged``; running out of memory ends it with status ``oom``.

Speed on CPU (see ``benchmarks/bench_train_throughput.py``): convolutional models train in the
channels-last (NHWC) memory format, which oneDNN's convolutions run 1.1-2.5x faster than NCHW on
every model that benchmark measured (design-study populations and the small zoo models); the rule
is in ``memory_format_for``. Validation and test logits are computed in no-grad batches as large as
the cache allows (``cpu_eval_batch``; the logits do not depend on the batch), and
``evaluate_test=False`` skips the test split for callers that judge only the validation error.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from archspace.arch import ArchSpec
from archspace.data.dataset import Dataset, Split
from archspace.errors import UsageError
from archspace.train.device import (
    Precision,
    is_out_of_memory,
    peak_memory_mb,
    reset_peak_memory,
    resolve_device,
    resolve_precision,
)
from archspace.train.distill import distillation_loss
from archspace.train.model import ModelCost, check_output_shape, resolve_model
from archspace.train.recipe import Recipe
from archspace.train.result import EpochStats, TrainResult
from archspace.train.schedule import cosine_lr, decay_groups, set_lr, sgd

FLOAT16_MAX = 65504.0


@dataclass(frozen=True)
class Progress:
    """Reported to the ``progress`` callback every few steps and at the end of each epoch."""

    epoch: int  # 1-based
    epochs: int
    step: int  # within the epoch, 1-based
    steps_per_epoch: int
    loss: float  # running mean training loss this epoch
    train_error: float  # running training error (%) this epoch
    images_per_s: float
    val_error: float | None = None  # set on the end-of-epoch report when measured
    epoch_end: bool = False


ProgressCallback = Callable[[Progress], None]
Teacher = nn.Module | torch.Tensor | None


class _Diverged(Exception):
    """Internal signal: the loss became NaN or infinite."""


def train(
    model: ArchSpec | nn.Module,
    dataset: Dataset,
    recipe: Recipe | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    teacher: Teacher = None,
    progress: ProgressCallback | None = None,
    progress_every: int = 20,
    space: Any = None,
    evaluate_test: bool = True,
) -> TrainResult:
    """Train ``model`` (a spec, built fresh from ``seed``; or a module, trained in place).

    teacher: for knowledge distillation, a module (run in eval mode on each training batch) or a
        (N_train, num_classes) tensor of logits aligned with ``dataset.train`` (before any
        ``recipe.subset`` draw); the recipe's ``kd_temperature`` and ``kd_weight`` set the loss.
    progress: called with a ``Progress`` every ``progress_every`` steps and after each epoch.
    space: the Space (or Family) that builds a spec ``model`` (e.g. an NB201 space with its C and
        N); default: the family of the spec's kind with its default options.
    evaluate_test: also compute the test split's logits and error (False: ``test_error`` and
        ``test_logits`` are None, which saves a full pass over the test split).
    """
    recipe = recipe or Recipe()
    device = resolve_device(device)
    teacher_logits = _check_teacher(teacher, dataset)
    if recipe.subset is not None and recipe.subset < len(dataset.train):
        index = _subset_index(len(dataset.train), recipe.subset, seed)
        dataset = replace(dataset, train=dataset.train.take(index))
        teacher_logits = None if teacher_logits is None else teacher_logits[index]
    dataset = dataset.to(device)
    devices = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        module, cost = resolve_model(model, dataset, space)
        module = module.to(device)
        check_output_shape(module, dataset, device)
        run = _Run(module, dataset, recipe, seed, device, teacher, teacher_logits, cost, progress, progress_every,
                   evaluate_test)
        return run.execute()


def _check_teacher(teacher: Teacher, dataset: Dataset) -> torch.Tensor | None:
    if teacher is None or isinstance(teacher, nn.Module):
        return None
    if not isinstance(teacher, torch.Tensor):
        raise UsageError(f"teacher must be an nn.Module or a logits tensor, got {type(teacher).__name__}")
    expected = (len(dataset.train), dataset.num_classes)
    if tuple(teacher.shape) != expected:
        raise UsageError(f"teacher logits have shape {list(teacher.shape)}; expected {list(expected)} (train split)")
    return teacher.float()


def _subset_index(count: int, size: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(count, generator=generator)[:size].sort().values


CPU_EVAL_BATCHES = (32, 64, 128, 256, 512)  # candidate no-grad batch sizes on CPU
CPU_EVAL_ACTIVATION_BYTES = 25 * 2**20  # largest activation of one no-grad batch: ~3/4 of a 32 MiB L3
CUDA_EVAL_BATCH = 1024


def largest_activation_bytes(module: nn.Module, example: torch.Tensor) -> int:
    """Bytes of the largest tensor any leaf module outputs for ``example`` (one input, eval mode).

    A shape probe, not a timing: the same model always gets the same answer, whatever the load.
    """
    sizes: list[int] = [example.numel() * example.element_size()]

    def record(_module: nn.Module, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            sizes.append(output.numel() * output.element_size())

    leaves = [layer for layer in module.modules() if next(layer.children(), None) is None]
    hooks = [layer.register_forward_hook(record) for layer in leaves]
    was_training = module.training
    try:
        with torch.no_grad():
            module.eval()(example)
    finally:
        for hook in hooks:
            hook.remove()
        module.train(was_training)
    return max(sizes)


def cpu_eval_batch(activation_bytes: int) -> int:
    """The largest candidate no-grad batch whose largest activation fits ``CPU_EVAL_ACTIVATION_BYTES``.

    ``benchmarks/bench_train_throughput.py`` (eval section) measured that on CPU a no-grad batch is
    fastest while its largest activation stays in the last-level cache and turns 1.2-1.8x slower past
    it (a batch of 512 of a 98 KiB-per-image model is 49 MiB), while models with small activations
    keep gaining up to 512. Logits do not depend on the batch (checked there and in the tests), so
    the rule changes speed only.
    """
    fitting = [batch for batch in CPU_EVAL_BATCHES if batch * activation_bytes <= CPU_EVAL_ACTIVATION_BYTES]
    return max(fitting, default=CPU_EVAL_BATCHES[0])


def memory_format_for(module: nn.Module, device: torch.device, wanted: bool = True) -> torch.memory_format:
    """The memory format to train ``module`` in: channels-last when ``wanted`` and it has a 2-D conv.

    On CUDA this is the usual NHWC tensor-core layout. On CPU, oneDNN runs channels-last
    convolutions (and their backward) faster than NCHW on every convolutional model that
    ``benchmarks/bench_train_throughput.py`` measured, so the rule is the same there; a model
    without ``Conv2d`` layers (an MLP) keeps the default layout, where NHWC would only add copies,
    and so does one with ``Conv3d`` layers, whose 5-D weights have no channels-last form.
    """
    if not wanted or device.type not in ("cpu", "cuda"):
        return torch.contiguous_format
    layers = list(module.modules())
    if any(isinstance(layer, nn.Conv3d) for layer in layers):
        return torch.contiguous_format  # 5-D weights (video models, attention cells) have no NHWC layout
    if any(isinstance(layer, nn.Conv2d) for layer in layers):
        return torch.channels_last
    return torch.contiguous_format


def format_name(memory_format: torch.memory_format) -> str:
    """``channels_last`` or ``contiguous`` (as stored in ``TrainResult.memory_format``)."""
    return "channels_last" if memory_format == torch.channels_last else "contiguous"


def param_groups(module: nn.Module, recipe: Recipe) -> list[dict]:
    """One group, or two when weight decay skips BatchNorm parameters and biases (1-D tensors)."""
    return decay_groups(module, recipe.weight_decay, decay_1d=not recipe.no_wd_on_bn_bias)


class _Run:
    """State of one training run (kept off the public API)."""

    def __init__(self, module: nn.Module, dataset: Dataset, recipe: Recipe, seed: int, device: torch.device,
                 teacher: Teacher, teacher_logits: torch.Tensor | None, cost: ModelCost,
                 progress: ProgressCallback | None, progress_every: int, evaluate_test: bool = True) -> None:
        self.module, self.dataset, self.recipe, self.seed, self.device = module, dataset, recipe, seed, device
        self.teacher_module = teacher if isinstance(teacher, nn.Module) else None
        self.teacher_logits = None if teacher_logits is None else teacher_logits.to(device)
        self.cost, self.progress, self.progress_every = cost, progress, max(1, progress_every)
        self.precision: Precision = resolve_precision(recipe.amp, device)
        self.memory_format = memory_format_for(module, device, recipe.channels_last)
        self.channels_last = self.memory_format == torch.channels_last
        self.evaluate_test = evaluate_test
        self.batch_size = min(recipe.batch_size, len(dataset.train))
        # None on CPU: chosen from the model's largest activation at the first evaluation
        self.eval_batch_size = recipe.eval_batch_size or (CUDA_EVAL_BATCH if device.type == "cuda" else None)
        self.steps_per_epoch = max(1, len(dataset.train) // self.batch_size)
        self.total_steps = self.steps_per_epoch * recipe.epochs
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.history: list[EpochStats] = []
        self.step = 0
        self.train_seconds = 0.0
        self.images_seen = 0

    # ----- setup -------------------------------------------------------------------------------
    def _prepare(self) -> None:
        if self.channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.module) if self.recipe.compile else self.module
        recipe = self.recipe
        self.optimizer = sgd(self.module, recipe.lr, recipe.momentum, recipe.weight_decay,
                             decay_1d=not recipe.no_wd_on_bn_bias, nesterov=recipe.nesterov)
        self.scaler = torch.amp.GradScaler(self.device.type) if self.precision.needs_scaler else None
        if self.teacher_module is not None:
            self.teacher_module = self.teacher_module.to(self.device).eval()

    def execute(self) -> TrainResult:
        start = time.perf_counter()
        reset_peak_memory(self.device)
        status, message = "complete", ""
        try:
            self._prepare()
            self._train_epochs()
            val_logits, test_logits = self._final_logits()
        except _Diverged as exc:
            status, message, val_logits, test_logits = "diverged", str(exc), None, None
        except (RuntimeError, torch.OutOfMemoryError) as exc:
            if not is_out_of_memory(exc):
                raise
            status, message, val_logits, test_logits = "oom", f"out of memory on {self.device}: {exc}", None, None
            self._release_memory()
        return self._result(status, message, val_logits, test_logits, time.perf_counter() - start)

    # ----- training ------------------------------------------------------------------------------
    def _train_epochs(self) -> None:
        budget = self.recipe.time_budget_s
        for epoch in range(1, self.recipe.epochs + 1):
            finished_early = self._train_one_epoch(epoch)
            last = (epoch == self.recipe.epochs or finished_early
                    or (budget is not None and self.train_seconds >= budget))
            val_error = None
            if self.recipe.eval_each_epoch or last:
                self.val_logits = self._predict(self.dataset.val)
                val_error = top1_error(self.val_logits, self.dataset.val.labels)
            self._record_epoch(epoch, val_error)
            if last:
                break

    def _train_one_epoch(self, epoch: int) -> bool:
        """Run one epoch; True when the time budget ran out before its end."""
        module, recipe, train_split = self.module, self.recipe, self.dataset.train
        module.train()
        order = torch.randperm(len(train_split), generator=self.generator, device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        wrong = torch.zeros((), device=self.device, dtype=torch.long)
        check_every = 1 if self.device.type == "cpu" else 25
        epoch_start = time.perf_counter()
        self._epoch_state = (epoch, epoch_start, loss_sum, wrong, 0)
        for batch_number in range(self.steps_per_epoch):
            index = order[batch_number * self.batch_size:(batch_number + 1) * self.batch_size]
            self._set_lr(epoch_start)
            loss, logits, labels = self._train_step(train_split, index)
            loss_sum += loss.detach()
            wrong += (logits.detach().argmax(1) != labels).sum()
            self.step += 1
            self.images_seen += int(index.shape[0])
            done = batch_number + 1
            self._epoch_state = (epoch, epoch_start, loss_sum, wrong, done)
            if done % check_every == 0 and not torch.isfinite(loss_sum):
                raise _Diverged(f"loss became {loss_sum.item()} at epoch {epoch}, step {done}")
            if self.progress is not None and done % self.progress_every == 0 and done < self.steps_per_epoch:
                self.progress(self._progress_event(done, epoch_start))
            if recipe.time_budget_s is not None and self._spent(epoch_start) >= recipe.time_budget_s:
                self._close_epoch(epoch_start)
                return True
        if not torch.isfinite(loss_sum):
            raise _Diverged(f"loss became {loss_sum.item()} at epoch {epoch}")
        self._close_epoch(epoch_start)
        return False

    def _train_step(self, split: Split, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        images, labels = split.images[index], split.labels[index]
        if self.recipe.augment and self.dataset.augmentation.enabled:
            images = self.dataset.augmentation(images, self.generator)
        if self.channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        with self.precision.autocast(self.device):
            logits = self.forward(images)
            loss = self._loss(logits, labels, images, index)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
            self._clip()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            loss.backward()
            self._clip()
            self.optimizer.step()
        return loss, logits, labels

    def _loss(self, logits: torch.Tensor, labels: torch.Tensor, images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        recipe = self.recipe
        if self.teacher_module is None and self.teacher_logits is None:
            return F.cross_entropy(logits, labels, label_smoothing=recipe.label_smoothing)
        if self.teacher_module is not None:
            with torch.no_grad():
                teacher_logits = self.teacher_module(images)
        else:
            teacher_logits = self.teacher_logits[index]
        return distillation_loss(logits, teacher_logits, labels, recipe.kd_temperature, recipe.kd_weight,
                                 recipe.label_smoothing)

    def _clip(self) -> None:
        if self.recipe.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.recipe.grad_clip)

    def _set_lr(self, epoch_start: float) -> None:
        recipe = self.recipe
        progress = self.step / self.total_steps
        if recipe.time_budget_s is not None:
            progress = max(progress, self._spent(epoch_start) / recipe.time_budget_s)
        warmup_fraction = recipe.warmup_epochs / recipe.epochs
        self.lr = cosine_lr(recipe.lr, progress, warmup_fraction, recipe.warmup_factor)
        set_lr(self.optimizer, self.lr)

    def _elapsed(self, epoch_start: float) -> float:
        return time.perf_counter() - epoch_start

    def _spent(self, epoch_start: float) -> float:
        """Training seconds so far, this epoch included."""
        return self.train_seconds + self._elapsed(epoch_start)

    def _close_epoch(self, epoch_start: float) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        self.train_seconds += self._elapsed(epoch_start)

    def _progress_event(self, done: int, epoch_start: float, val_error: float | None = None,
                        epoch_end: bool = False) -> Progress:
        epoch, _, loss_sum, wrong, _ = self._epoch_state
        seconds = self.train_seconds + (0.0 if epoch_end else self._elapsed(epoch_start))
        return Progress(
            epoch=epoch, epochs=self.recipe.epochs, step=done, steps_per_epoch=self.steps_per_epoch,
            loss=loss_sum.item() / max(done, 1), train_error=100.0 * wrong.item() / max(done * self.batch_size, 1),
            images_per_s=self.images_seen / max(seconds, 1e-9), val_error=val_error, epoch_end=epoch_end,
        )

    def _record_epoch(self, epoch: int, val_error: float | None) -> None:
        _, epoch_start, loss_sum, wrong, done = self._epoch_state
        previous = sum(stats.seconds for stats in self.history)
        stats = EpochStats(
            epoch=epoch, train_loss=loss_sum.item() / max(done, 1),
            train_error=100.0 * wrong.item() / max(done * self.batch_size, 1), val_error=val_error,
            lr=self.lr, seconds=self.train_seconds - previous,
        )
        self.history.append(stats)
        if self.progress is not None:
            self.progress(self._progress_event(done, epoch_start, val_error, epoch_end=True))

    # ----- evaluation ----------------------------------------------------------------------------
    @torch.no_grad()
    def _predict(self, split: Split) -> torch.Tensor:
        """Float32 logits of the model (eval mode) on a whole split, in order."""
        self.module.eval()
        outputs = []
        if self.eval_batch_size is None:
            self.eval_batch_size = cpu_eval_batch(largest_activation_bytes(self.module, self._layout(split.images[:1])))
        for start in range(0, len(split), self.eval_batch_size):
            images = self._layout(split.images[start:start + self.eval_batch_size])
            with self.precision.autocast(self.device):
                outputs.append(self.forward(images).float())
        return torch.cat(outputs)

    def _layout(self, images: torch.Tensor) -> torch.Tensor:
        return images.contiguous(memory_format=torch.channels_last) if self.channels_last else images

    def _final_logits(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        val_logits = self.val_logits
        test_logits = self._predict(self.dataset.test) if self.evaluate_test else None
        finite = torch.isfinite(val_logits).all() and (test_logits is None or torch.isfinite(test_logits).all())
        if not finite:
            raise _Diverged("the trained model outputs NaN or infinite logits")
        return val_logits, test_logits

    def _release_memory(self) -> None:
        self.optimizer = None  # type: ignore[assignment]
        if self.device.type == "cuda":
            torch.cuda.empty_cache()

    def _result(self, status: str, message: str, val_logits: torch.Tensor | None,
                test_logits: torch.Tensor | None, wall_seconds: float) -> TrainResult:
        complete = status == "complete"
        tested = complete and test_logits is not None
        epochs_run = self.step / self.steps_per_epoch
        last = self.history[-1] if self.history else None
        return TrainResult(
            status=status,  # type: ignore[arg-type]
            val_error=top1_error(val_logits, self.dataset.val.labels) if complete else None,
            test_error=top1_error(test_logits, self.dataset.test.labels) if tested else None,
            train_loss=last.train_loss if last and math.isfinite(last.train_loss) else None,
            epochs=round(epochs_run, 4), steps=self.step, train_seconds=self.train_seconds,
            wall_seconds=wall_seconds, images_per_s=self.images_seen / max(self.train_seconds, 1e-9),
            history=self.history, flops=self.cost.flops, params=self.cost.params, acts=self.cost.acts,
            peak_memory_mb=peak_memory_mb(self.device), device=str(self.device), seed=self.seed,
            message=message,
            val_logits=compact_logits(val_logits) if complete else None,
            val_labels=self.dataset.val.labels.cpu().numpy() if complete else None,
            test_logits=compact_logits(test_logits) if tested else None,
            test_labels=self.dataset.test.labels.cpu().numpy() if tested else None,
            model=self.module, memory_format=format_name(self.memory_format),
        )


def top1_error(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """Top-1 error in percent."""
    if len(labels) == 0:
        return float("nan")
    return 100.0 * (logits.argmax(1) != labels).float().mean().item()


def compact_logits(logits: torch.Tensor) -> np.ndarray:
    """Float16 copy on the host (clamped to the float16 range) — 4x smaller than float64."""
    return logits.clamp(-FLOAT16_MAX, FLOAT16_MAX).to(torch.float16).cpu().numpy()
