"""The alternating weight / architecture loop of differentiable search, resumable and recorded.

``BilevelSearch(net, arch, method, recipe, data, seed)`` alternates, at every step, one
architecture step on a batch of the *architecture half* of the training split (Adam on the
arch tensors; the method fills their gradients) and one weight step on a batch of the *weight
half* (SGD with momentum, cosine learning rate per epoch, gradient clipping), as the DARTS
reference does. ``run()`` records after every epoch the arch tensors, the derived architecture
(``derive``), the supernet's validation accuracy and, with early stopping on, the dominant
eigenvalue of the Hessian of the validation loss w.r.t. alpha (DARTS-ES). Batch order, Gumbel
noise and neighbors derive from (seed, epoch or step) only, and the checkpoint (written
atomically at every epoch end, every ``checkpoint_every_s`` and on Ctrl-C) holds weights, arch
tensors, both optimizers and the step, so a resumed run on the CPU continues bit-identically.
Nothing here knows a cell family: a search network needs ``arch_shapes()``, ``op_names`` and
``forward(x, mixture)``. A convolutional network and its image batches are put in channels-last
memory format (``memory_format="auto"``, the trainer's rule; faster on the CPU, same results to
float rounding).
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from archspace.errors import DataError, UsageError
from archspace.families.supernet import Mixture
from archspace.oneshot.arch_params import ArchParameters
from archspace.oneshot.hessian import dominant_eigenvalue
from archspace.oneshot.methods import Method, StepContext, betas_of, op_groups, softmax_mixture
from archspace.train.checkpoint import read_checkpoint, save_checkpoint
from archspace.train.schedule import cosine_lr, set_lr

CHECKPOINT_FORMAT = "archspace-oneshot/1"


@dataclass(frozen=True)
class SearchRecipe:
    """Optimizer settings and run length; the defaults are the DARTS reference settings.

    weights: SGD lr 0.025 cosine to 0.001 over the epochs, momentum 0.9, wd 3e-4, grad clip 5;
    arch: Adam lr 3e-4, betas (0.5, 0.999), wd 1e-3; 50 epochs, batch 64. ``subset`` keeps that
    many training images before halving; ``eval_images`` of the validation split score the
    supernet each epoch. Early stopping (DARTS-ES) is on when ``es_k`` > 0: stop at epoch i when
    mean(ev[i-k-w+1 .. i-k]) / mean(ev[i-w+1 .. i]) < ``es_threshold`` and keep the
    architecture of epoch i - k (ev: dominant Hessian eigenvalue; w = ``es_window``).
    """

    epochs: int = 50
    batch_size: int = 64
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_wd: float = 3e-4
    grad_clip: float = 5.0
    a_lr: float = 3e-4
    a_betas: tuple[float, float] = (0.5, 0.999)
    a_wd: float = 1e-3
    subset: int | None = None
    eval_images: int = 1000
    es_k: int = 0
    es_window: int = 1
    es_threshold: float = 0.75
    hessian_batches: int = 2
    hessian_iterations: int = 10

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_images", "es_window", "hessian_batches", "hessian_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"{name} must be an integer >= 1, got {value!r}")
        if self.es_k < 0:
            raise UsageError(f"es_k must be >= 0, got {self.es_k}")
        for name in ("w_lr", "a_lr", "grad_clip"):
            if not getattr(self, name) > 0:
                raise UsageError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.subset is not None and self.subset < 4:
            raise UsageError(f"subset must be >= 4 images, got {self.subset}")
        object.__setattr__(self, "a_betas", tuple(float(b) for b in self.a_betas))

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["a_betas"] = list(self.a_betas)
        return data

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> SearchRecipe:
        """``reference`` (the DARTS paper's settings) with field overrides (scaled down by the user)."""
        if name != "reference":
            raise UsageError(f"unknown search preset {name!r}; known: ['reference']")
        return cls(**overrides)


@dataclass
class EpochRecord:
    epoch: int
    train_loss: float
    arch_loss: float
    val_accuracy: float
    lr: float
    seconds: float
    arch: dict[str, list]
    derived: dict[str, Any]
    eigenvalue: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchData:
    """The weight half, the architecture half (of the training split) and validation images."""

    weight_x: torch.Tensor
    weight_y: torch.Tensor
    arch_x: torch.Tensor
    arch_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor

    @classmethod
    def from_dataset(cls, dataset: Any, seed: int, subset: int | None = None, eval_images: int = 1000) -> SearchData:
        """Halve ``dataset.train`` (seeded, after an optional subset) into weight / arch halves."""
        images, labels = dataset.train.images, dataset.train.labels
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(_mix(seed, 7)))
        if subset is not None:
            order = order[:subset]
        half = len(order) // 2
        if half < 1:
            raise DataError("the training split is too small to halve")
        w, a = order[:half], order[half:2 * half]
        n_val = min(eval_images, len(dataset.val))
        return cls(images[w], labels[w], images[a], labels[a], dataset.val.images[:n_val], dataset.val.labels[:n_val])

    def fingerprint(self) -> list[float]:
        return [len(self.weight_y), len(self.arch_y), int(self.weight_y.sum()), int(self.arch_y.sum()),
                round(float(self.weight_x[:64].double().sum()), 3)]


def _mix(*values: int) -> int:
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(1)[0])


class BilevelSearch:
    """State of one differentiable search run (see the module docstring)."""

    def __init__(self, net: nn.Module, method: Method, recipe: SearchRecipe, data: SearchData, seed: int = 0,
                 derive: Callable[[dict[str, np.ndarray]], Any] | None = None,
                 describe: Callable[[Any], dict[str, Any]] | None = None, checkpoint: str | os.PathLike | None = None,
                 checkpoint_every_s: float = 120.0, identity: dict[str, Any] | None = None,
                 memory_format: str = "auto") -> None:
        self.net, self.method, self.recipe, self.data, self.seed = net, method, recipe, data, int(seed)
        self.channels_last = _use_channels_last(memory_format, net, data)
        if self.channels_last:
            net.to(memory_format=torch.channels_last)  # in place: the parameters stay the same objects
        self.op_names = tuple(net.op_names)
        if hasattr(method, "check_ops"):
            method.check_ops(self.op_names)
        self.arch = ArchParameters(net.arch_shapes(), seed=_mix(seed, 3))
        self.derive, self.describe = derive, describe or (lambda spec: {"spec": spec.to_dict()})
        self.w_opt = torch.optim.SGD(net.parameters(), lr=recipe.w_lr, momentum=recipe.w_momentum,
                                     weight_decay=recipe.w_wd)
        self.a_opt = torch.optim.Adam(self.arch.parameters(), lr=recipe.a_lr, betas=recipe.a_betas,
                                      weight_decay=recipe.a_wd)
        self.batch_size = min(recipe.batch_size, len(data.weight_y))
        self.steps_per_epoch = max(1, min(len(data.weight_y), len(data.arch_y)) // self.batch_size)
        self.total_steps = self.steps_per_epoch * recipe.epochs
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.checkpoint_every_s = checkpoint_every_s
        self.identity = dict(identity or {})
        self.step, self.seconds, self.stopped_at = 0, 0.0, None
        self.history: list[EpochRecord] = []
        self.sums = [0.0, 0.0]
        self.resumed_from = 0
        self._orders: dict[tuple[int, int], torch.Tensor] = {}

    # --- batches and losses -----------------------------------------------------------------
    def _order(self, epoch: int, which: int) -> torch.Tensor:
        key = (epoch, which)
        if key not in self._orders:
            n = len(self.data.weight_y if which == 0 else self.data.arch_y)
            self._orders = {key: torch.randperm(n, generator=torch.Generator().manual_seed(_mix(self.seed, epoch, which)))}
        return self._orders[key]

    def batch(self, step: int, which: int) -> tuple[torch.Tensor, torch.Tensor]:
        epoch, pos = divmod(step, self.steps_per_epoch)
        index = self._order(epoch, which)[pos * self.batch_size:(pos + 1) * self.batch_size]
        x, y = (self.data.weight_x, self.data.weight_y) if which == 0 else (self.data.arch_x, self.data.arch_y)
        return self.layout(x[index]), y[index]

    def layout(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the network's memory format (channels-last images on the CPU, see ``__init__``)."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def loss_fn(self, x: torch.Tensor, y: torch.Tensor) -> Callable[[Mixture], torch.Tensor]:
        return lambda mixture: F.cross_entropy(self.net(x, mixture), y)

    def lr_at(self, epoch: int) -> float:
        return cosine_lr(self.recipe.w_lr, epoch / self.recipe.epochs, lr_min=self.recipe.w_lr_min)

    def context(self, step: int) -> StepContext:
        epoch = step // self.steps_per_epoch
        xt, yt = self.batch(step, 0)
        xa, ya = self.batch(step, 1)
        ctx = StepContext(step, epoch, self.recipe.epochs, self.lr_at(epoch), self.seed,
                          self.loss_fn(xt, yt), self.loss_fn(xa, ya))
        ctx.batches = (xt, yt, xa, ya)  # type: ignore[attr-defined]
        return ctx

    # --- one step -------------------------------------------------------------------------
    def train_step(self, step: int) -> tuple[float, float]:
        """One architecture step, then one weight step; returns (weight loss, arch loss)."""
        ctx = self.context(step)
        set_lr(self.w_opt, ctx.lr)
        arch_loss = self.arch_step(ctx)
        return self.weight_step(ctx), arch_loss

    def arch_step(self, ctx: StepContext) -> float:
        """Adam on the arch tensors with the method's gradient (architecture batch)."""
        self.a_opt.zero_grad(set_to_none=True)
        arch_loss = self.method.arch_backward(self.arch.as_dict(), ctx, self)
        self.a_opt.step()
        return arch_loss

    def weight_step(self, ctx: StepContext) -> float:
        """SGD on the weights under the method's weight mixture (weight batch), gradient clipped."""
        self.w_opt.zero_grad(set_to_none=True)
        loss = ctx.train_loss(self.method.weight_mixture(self.arch.as_dict(), ctx))
        loss.backward()
        if not math.isfinite(float(loss.detach())):
            raise DataError(f"search loss became {float(loss.detach())} at step {ctx.step}; lower the learning rate")
        nn.utils.clip_grad_norm_(self.net.parameters(), self.recipe.grad_clip)
        self.w_opt.step()
        return float(loss.detach())

    def unrolled_weights(self, params: list[torch.Tensor], grads: tuple[torch.Tensor | None, ...],
                         eta: float) -> list[torch.Tensor]:
        """w' = w - eta (momentum buffer + grad + wd w) per parameter, as new leaf tensors with
        **the parameter's own strides**: for shapes whose channels-last and contiguous strides
        are both dense (1x1 and depthwise convolution weights, one input channel) elementwise
        ops pick contiguous strides, and a convolution whose weight's layout differs from its
        channels-last input runs ~2x slower on the CPU (BENCHMARKS.md, issue 15). Same values."""
        rec = self.recipe
        unrolled = []
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                g = torch.zeros_like(p) if g is None else g
                buf = self.w_opt.state.get(p, {}).get("momentum_buffer")
                moment = torch.zeros_like(p) if buf is None else rec.w_momentum * buf
                w = torch.empty_like(p, memory_format=torch.preserve_format)  # p's exact strides
                unrolled.append(w.copy_(p - eta * (moment + g + rec.w_wd * p)).requires_grad_(True))
        return unrolled

    def unrolled_arch_backward(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> float:
        """Second-order DARTS: gradient of L_val(w - xi grad L_train(w, a), a) w.r.t. a, the
        Hessian-vector product by central differences with R = 0.01 / ||grad_w' L_val||."""
        xt, yt, xa, ya = ctx.batches  # type: ignore[attr-defined]
        names = [n for n, _ in self.net.named_parameters()]
        params = [p for _, p in self.net.named_parameters()]
        eta = ctx.lr
        grads = torch.autograd.grad(ctx.train_loss(self.method.weight_mixture(arch, ctx)), params, allow_unused=True)
        unrolled = self.unrolled_weights(params, grads, eta)
        buffers = {n: b.clone() for n, b in self.net.named_buffers()}
        tensors = list(arch.values())
        mixture = softmax_mixture(arch)
        logits = torch.func.functional_call(self.net, ({**dict(zip(names, unrolled, strict=True)), **buffers}),
                                            (xa, mixture))
        loss = F.cross_entropy(logits, ya)
        out = torch.autograd.grad(loss, tensors + unrolled, allow_unused=True)
        d_arch = [torch.zeros_like(t) if g is None else g for g, t in zip(out[:len(tensors)], tensors, strict=True)]
        d_w = [torch.zeros_like(p) if g is None else g for g, p in zip(out[len(tensors):], params, strict=True)]
        r = 0.01 / torch.cat([g.reshape(-1) for g in d_w]).norm().clamp_min(1e-12)
        backup = [p.detach().clone() for p in params]

        def arch_grad_at(sign: float) -> list[torch.Tensor]:
            with torch.no_grad():
                for p, b, v in zip(params, backup, d_w, strict=True):
                    p.copy_(b + sign * r * v)
            g = torch.autograd.grad(ctx.train_loss(softmax_mixture(arch)), tensors, allow_unused=True)
            return [torch.zeros_like(t) if x is None else x for x, t in zip(g, tensors, strict=True)]

        plus, minus = arch_grad_at(1.0), arch_grad_at(-1.0)
        with torch.no_grad():
            for p, b in zip(params, backup, strict=True):
                p.copy_(b)
        for t, d, gp, gm in zip(tensors, d_arch, plus, minus, strict=True):
            t.grad = d - eta * (gp - gm) / (2 * r)
        return float(loss.detach())

    # --- epoch end ------------------------------------------------------------------------
    @torch.no_grad()
    def val_accuracy(self) -> float:
        was = self.net.training
        self.net.eval()
        mixture = self.method.eval_mixture(self.arch.as_dict())
        right = 0
        for start in range(0, len(self.data.val_y), 256):
            x, y = self.layout(self.data.val_x[start:start + 256]), self.data.val_y[start:start + 256]
            right += int((self.net(x, mixture).argmax(1) == y).sum())
        self.net.train(was)
        return 100.0 * right / max(1, len(self.data.val_y))

    def val_loss_of_flat(self, batches: int) -> Callable[[torch.Tensor], torch.Tensor]:
        """Mean validation loss (architecture-half batches) as a function of the flat alpha."""
        n = min(len(self.data.arch_y), batches * self.batch_size)
        x, y = self.layout(self.data.arch_x[:n]), self.data.arch_y[:n]

        def loss_of(flat: torch.Tensor) -> torch.Tensor:
            arch = self.arch.unflatten(flat)
            mixture = Mixture({g: torch.softmax(arch[g], -1) for g in op_groups(arch)}, betas=betas_of(arch))
            return sum(F.cross_entropy(self.net(x[i:i + self.batch_size], mixture), y[i:i + self.batch_size])
                       for i in range(0, n, self.batch_size)) / math.ceil(n / self.batch_size)
        return loss_of

    def eigenvalue(self, epoch: int) -> float:
        loss_of = self.val_loss_of_flat(self.recipe.hessian_batches)
        return dominant_eigenvalue(loss_of, self.arch.flat().detach(), self.recipe.hessian_iterations,
                                   seed=_mix(self.seed, epoch, 5))

    def derived(self) -> Any:
        if self.derive is None:
            return None
        arch = {k: v.detach().cpu().numpy() for k, v in self.arch.as_dict().items()}
        return self.derive(arch)

    def end_epoch(self, epoch: int, lr: float) -> None:
        rec = self.recipe
        ev = self.eigenvalue(epoch) if rec.es_k > 0 else None
        spec = self.derived()
        self.history.append(EpochRecord(
            epoch, self.sums[0] / self.steps_per_epoch, self.sums[1] / self.steps_per_epoch, self.val_accuracy(), lr,
            self.seconds - sum(h.seconds for h in self.history), self.arch.snapshot(),
            {} if spec is None else self.describe(spec), ev))
        self.sums = [0.0, 0.0]
        if rec.es_k > 0 and self.stopped_at is None and early_stop(
                [h.eigenvalue for h in self.history], rec.es_k, rec.es_window, rec.es_threshold):
            self.stopped_at = epoch

    @property
    def selected_epoch(self) -> int | None:
        """The epoch whose architecture the run returns (DARTS-ES: k epochs before stopping)."""
        if not self.history:
            return None
        if self.stopped_at is not None:
            return self.stopped_at - self.recipe.es_k
        return self.history[-1].epoch

    # --- checkpoints ----------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"format": CHECKPOINT_FORMAT, "identity": self.identity, "recipe": self.recipe.to_dict(),
                "method": self.method.config(), "seed": self.seed, "data": self.data.fingerprint(),
                "step": self.step, "seconds": self.seconds, "stopped_at": self.stopped_at, "sums": self.sums,
                "history": [dataclasses.asdict(h) for h in self.history], "net": self.net.state_dict(),
                "arch": self.arch.state_dict(), "w_opt": self.w_opt.state_dict(), "a_opt": self.a_opt.state_dict()}

    def save(self) -> None:
        if self.checkpoint is not None:
            save_checkpoint(self.state(), self.checkpoint)
        self._last_save = time.perf_counter()

    def restore(self) -> None:
        if self.checkpoint is None or not self.checkpoint.is_file():
            return
        state = read_checkpoint(self.checkpoint, CHECKPOINT_FORMAT, "one-shot")
        mine = self.state()
        for key in ("identity", "recipe", "method", "seed", "data"):
            if state[key] != mine[key]:
                raise UsageError(f"checkpoint {self.checkpoint} was written by a different run ({key} differs); "
                                 "use another path or delete it")
        self.net.load_state_dict(state["net"])
        self.arch.load_state_dict(state["arch"])
        self.w_opt.load_state_dict(state["w_opt"])
        self.a_opt.load_state_dict(state["a_opt"])
        self.step, self.seconds, self.stopped_at = int(state["step"]), float(state["seconds"]), state["stopped_at"]
        self.sums = list(state["sums"])
        self.history = [EpochRecord(**h) for h in state["history"]]
        self.resumed_from = self.step

    # --- the loop -------------------------------------------------------------------------
    def run(self, stop_after_steps: int | None = None,
            progress: Callable[[int, int, float], None] | None = None) -> BilevelSearch:
        """Run (or continue) until the last epoch, early stopping, or ``stop_after_steps``."""
        self.restore()
        self.net.train()
        stop = self.total_steps if stop_after_steps is None else min(self.total_steps, int(stop_after_steps))
        self._last_save = time.perf_counter()
        with torch.random.fork_rng():
            torch.manual_seed(_mix(self.seed, 9))
            while self.step < stop and self.stopped_at is None:
                start = time.perf_counter()
                try:
                    loss, arch_loss = self.train_step(self.step)
                except KeyboardInterrupt:
                    self.save()  # weights and alpha change only at the end of a step
                    raise
                self.step += 1
                self.seconds += time.perf_counter() - start
                self.sums[0] += loss
                self.sums[1] += arch_loss
                if progress is not None:
                    progress(self.step, self.total_steps, loss)
                epoch, pos = divmod(self.step, self.steps_per_epoch)
                if pos == 0:
                    self.end_epoch(epoch - 1, self.lr_at(epoch - 1))
                    self.save()
                elif time.perf_counter() - self._last_save >= self.checkpoint_every_s:
                    self.save()
        self.save()
        return self


MEMORY_FORMATS = ("auto", "channels_last", "contiguous")


def _use_channels_last(memory_format: str, net: nn.Module, data: SearchData) -> bool:
    """``auto``: the trainer's rule (``train.trainer.memory_format_for``: channels-last for a
    network with 2-D convolutions and no 3-D ones) for image batches; on the CPU the search
    networks' steps run 1.3-1.7x faster so (BENCHMARKS.md, issue 15), with the same results to
    float rounding."""
    from archspace.train.trainer import memory_format_for

    if memory_format not in MEMORY_FORMATS:
        raise UsageError(f"memory_format must be one of {list(MEMORY_FORMATS)}, got {memory_format!r}")
    if memory_format != "auto":
        return memory_format == "channels_last"
    device = next((p.device for p in net.parameters()), torch.device("cpu"))
    return data.weight_x.dim() == 4 and memory_format_for(net, device) == torch.channels_last


def early_stop(eigenvalues: list[float], k: int, window: int, threshold: float) -> bool:
    """DARTS-ES: mean(ev[i-k-w+1 .. i-k]) / mean(ev[i-w+1 .. i]) < threshold at the last epoch i."""
    if len(eigenvalues) < k + window:
        return False
    now = float(np.mean(eigenvalues[-window:]))
    before = float(np.mean(eigenvalues[len(eigenvalues) - k - window:len(eigenvalues) - k]))
    return now > 0 and before / now < threshold


__all__ = ["CHECKPOINT_FORMAT", "MEMORY_FORMATS", "BilevelSearch", "EpochRecord", "SearchData", "SearchRecipe", "early_stop"]
