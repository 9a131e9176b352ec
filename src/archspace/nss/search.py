"""Network Space Search: Gumbel-softmax over network spaces with the masked super network.

The objective is eq. S1 of the supplement, E_{A ~ P_theta}[E_{alpha ~ U(A)} L(alpha)], with a
categorical P_theta over the J spaces of a ``Partition``. Each step of the search phase:

1. draws Gumbel-softmax weights g = softmax((theta + G) / tau) over the J spaces (``hard``:
   straight-through one-hot), and one architecture alpha_j uniformly inside every space j;
2. builds the super network's choice: stage masks m[c] = sum_j g_j [w_j > c], depth weights
   sum_j g_j [d_j = d] and the stage-1 identity weight sum_j g_j [w_j1 = w0] (a one-hot g runs
   exactly alpha_j);
3. updates the weights by SGD on a training batch (g detached), then theta by Adam on a
   validation batch (DARTS-style first-order alternation) with the FLOPs-aware loss

       L = CE + lambda * sum_j g_j dev(F(alpha_j)),   dev(F) = max(0, log(F / hi), log(lo / F)),

   where [lo, hi] is the target regime and F is the exact analytic flops (``FlopsLookup``). The
   penalty is the expected log-distance of the drawn space's networks from the band, estimated
   with one architecture per space per step (unbiased for E_{alpha ~ U(A_j)} dev); it is 0 for a
   space whose networks meet the regime, so among those the task loss alone decides.

Temperature falls linearly from ``tau_start`` (5) to ``tau_end`` (0.001) over the search phase.
Warm-up (the first ``warmup_epochs``: 15 of 50 in the reference preset): weights only; each step
trains one uniform architecture of a uniform space, and every channel and every block outside
it is enabled with probability p, annealed linearly from 1 to 0 over the warm-up (filter and
block warm-up). After every epoch the full distribution softmax(theta) is recorded; the run is
checkpointed (weights, both optimizers, theta, step, history) at each epoch end and on Ctrl-C,
and a resumed run continues with the same draws. The Elite Space is the most probable space.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from archspace.configs import check_same_config
from archspace.data.dataset import Dataset
from archspace.errors import DataError, UsageError
from archspace.families.nss.supernet import NSSSuperNet, SuperChoice, SuperNetConfig
from archspace.nss.distribution import FlopsLookup, InputSpec
from archspace.nss.partition import Partition
from archspace.nss.regimes import FlopsRegime, check_reachable
from archspace.train.checkpoint import read_checkpoint, save_checkpoint
from archspace.train.schedule import cosine_lr, set_lr, sgd
from archspace.train.supernet import dataset_fingerprint

CHECKPOINT_FORMAT = "archspace-nss-search/1"


@dataclass(frozen=True)
class NSSSearchConfig:
    """A search (defaults: the reference preset, 50 epochs with 15 of warm-up, batch 64, DARTS-style
    optimizers: SGD lr 0.025 cosine to 0.001, momentum 0.9, wd 3e-4; Adam 3e-4, betas (0.5, 0.999),
    wd 1e-3 on theta). Scale it down with ``dataclasses.replace`` or ``scaled``."""

    regime: FlopsRegime
    partition: Partition = field(default_factory=Partition)
    epochs: int = 50
    warmup_epochs: int = 15
    batch_size: int = 64
    lr: float = 0.025
    lr_min: float = 0.001
    momentum: float = 0.9
    weight_decay: float = 3e-4
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    tau_start: float = 5.0
    tau_end: float = 0.001
    flops_weight: float = 1.0
    hard: bool = False
    grad_clip: float | None = 5.0
    steps_per_epoch: int | None = None
    train_subset: int | None = None

    def __post_init__(self) -> None:
        checks = [
            (self.tau_start > 0 and self.tau_end > 0, "tau_start/tau_end", "temperatures > 0"),
            (self.tau_end <= self.tau_start, "tau_end", "<= tau_start (the temperature falls)"),
            (self.epochs >= 1, "epochs", ">= 1"),
            (0 <= self.warmup_epochs < self.epochs, "warmup_epochs", "in [0, epochs): the search needs an epoch"),
            (self.batch_size >= 1, "batch_size", ">= 1"),
            (self.lr > 0 and 0 <= self.lr_min <= self.lr, "lr/lr_min", "0 <= lr_min <= lr, lr > 0"),
            (self.arch_lr > 0, "arch_lr", "> 0"),
            (self.flops_weight >= 0, "flops_weight", ">= 0"),
            (self.grad_clip is None or self.grad_clip > 0, "grad_clip", "> 0 or None"),
            (self.steps_per_epoch is None or self.steps_per_epoch >= 1, "steps_per_epoch", ">= 1 or None"),
            (self.train_subset is None or self.train_subset >= 1, "train_subset", ">= 1 or None"),
        ]
        for ok, name, allowed in checks:
            if not ok:
                raise UsageError(f"NSS search setting {name} is invalid: must be {allowed}")

    @classmethod
    def reference(cls, regime: FlopsRegime, partition: Partition | None = None) -> NSSSearchConfig:
        """The supplement's settings (the defaults) for ``regime``."""
        return cls(regime, partition or Partition())

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["regime"], out["partition"] = self.regime.to_dict(), self.partition.to_dict()
        out["arch_betas"] = list(self.arch_betas)
        return out

    @property
    def search_epochs(self) -> int:
        return self.epochs - self.warmup_epochs


@dataclass
class EpochRecord:
    """One epoch of the search: phase, losses, temperature, and where the distribution stands."""

    epoch: int
    phase: str
    loss: float
    train_error: float
    arch_loss: float
    flops_penalty: float
    tau: float
    lr: float
    entropy: float
    top: list[tuple[int, float]]
    seconds: float


@dataclass
class SearchRun:
    """Outcome of ``run_search``: theta, the recorded distributions, and the Elite Space index."""

    config: NSSSearchConfig
    seed: int
    theta: np.ndarray
    history: list[EpochRecord]
    distributions: np.ndarray  # (epochs recorded, J) softmax(theta) after each epoch
    steps: int
    total_steps: int
    seconds: float
    resumed_from_step: int = 0
    checkpoint: str | None = None

    @property
    def elite_index(self) -> int:
        return int(np.argmax(self.theta))

    @property
    def probabilities(self) -> np.ndarray:
        return _softmax(self.theta)


@contextmanager
def frozen(module: torch.nn.Module) -> Iterator[None]:
    """``module``'s parameters with ``requires_grad`` off inside the block (restored after)."""
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


def _softmax(theta: np.ndarray) -> np.ndarray:
    e = np.exp(theta - theta.max())
    return e / e.sum()


def _mix(*values: int) -> int:
    return int(np.random.SeedSequence([int(v) for v in values]).generate_state(1, dtype=np.uint32)[0])


def mixture_choice(g: torch.Tensor, depths: torch.Tensor, widths: torch.Tensor, config: SuperNetConfig) -> SuperChoice:
    """The super network's choice for weights ``g`` (J,) over architectures (J, 3) depths / widths."""
    masks, depth_weights = [], []
    for s in range(depths.shape[1]):
        per_width = torch.zeros(config.max_width, dtype=g.dtype).scatter_add(0, widths[:, s] - 1, g)
        masks.append(torch.flip(torch.cumsum(torch.flip(per_width, [0]), 0), [0]))  # m[c] = sum_j g_j [w_j > c]
        depth_weights.append(torch.zeros(config.max_depth, dtype=g.dtype).scatter_add(0, depths[:, s] - 1, g))
    identity = (g * (widths[:, 0] == config.stem_width).to(g.dtype)).sum()
    return SuperChoice(masks, depth_weights, identity)


def flops_deviation(flops: np.ndarray, regime: FlopsRegime) -> np.ndarray:
    """max(0, log(F / hi), log(lo / F)): 0 inside the band, the log-distance outside."""
    f = np.maximum(np.asarray(flops, dtype=np.float64), 1.0)
    return np.maximum.reduce([np.zeros_like(f), np.log(f / regime.high), np.log(max(regime.low, 1.0) / f)])


class _Search:
    """State of one search run."""

    def __init__(self, config: NSSSearchConfig, dataset: Dataset, seed: int, device: torch.device,
                 checkpoint: Path | None) -> None:
        if len(dataset.val) == 0:
            raise UsageError("NSS search updates theta on a validation split: load the dataset with val_size > 0")
        if config.train_subset is not None:
            dataset = dataset.with_train_subset(config.train_subset, seed)
        self.config, self.seed, self.device, self.checkpoint = config, int(seed), device, checkpoint
        self.dataset = dataset.to(device)
        part = config.partition
        self.inputs = InputSpec(dataset.resolution, dataset.num_classes, dataset.in_channels)
        check_reachable(part.expanded(), config.regime, self.inputs)
        self.net_config = SuperNetConfig(part.max_depth, part.max_width, part.stem_width, dataset.num_classes,
                                         dataset.in_channels)
        self.bounds = part.bounds()
        self.lookup = FlopsLookup.build(part.max_width, part.stem_width, self.inputs)
        self.batch_size = min(config.batch_size, len(dataset.train), len(dataset.val))
        full = max(1, len(dataset.train) // self.batch_size)
        self.steps_per_epoch = min(full, config.steps_per_epoch or full)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.warmup_steps = self.steps_per_epoch * config.warmup_epochs
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = NSSSuperNet(self.net_config).to(device)
        self.theta = torch.zeros(part.num_spaces, device=device, requires_grad=True)
        self.w_opt = sgd(self.net, config.lr, config.momentum, config.weight_decay, decay_1d=False)
        self.a_opt = torch.optim.Adam([self.theta], lr=config.arch_lr, betas=tuple(config.arch_betas),
                                      weight_decay=config.arch_weight_decay)
        self.step, self.seconds, self.resumed_from = 0, 0.0, 0
        self.history: list[EpochRecord] = []
        self.distributions: list[np.ndarray] = []
        self._sums = np.zeros(5)

    # --- checkpoints --------------------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        return {"config": self.config.to_dict(), "seed": self.seed, "data": dataset_fingerprint(self.dataset)}

    def save(self) -> None:
        if self.checkpoint is None:
            return
        state = {"format": CHECKPOINT_FORMAT, **self.identity(), "step": self.step, "seconds": self.seconds,
                 "history": [dataclasses.asdict(h) for h in self.history], "sums": self._sums.tolist(),
                 "distributions": torch.tensor(np.array(self.distributions)) if self.distributions else torch.zeros(0),
                 "model": self.net.state_dict(), "w_opt": self.w_opt.state_dict(), "a_opt": self.a_opt.state_dict(),
                 "theta": self.theta.detach().cpu()}
        save_checkpoint(state, self.checkpoint)

    def restore(self) -> None:
        if self.checkpoint is None or not self.checkpoint.is_file():
            return
        state = read_checkpoint(self.checkpoint, CHECKPOINT_FORMAT, "NSS search")
        check_same_config({k: state[k] for k in ("config", "seed", "data")}, self.identity(),
                          f"NSS checkpoint {self.checkpoint}")
        self.net.load_state_dict(state["model"])
        self.w_opt.load_state_dict(state["w_opt"])
        self.a_opt.load_state_dict(state["a_opt"])
        with torch.no_grad():
            self.theta.copy_(state["theta"].to(self.device))
        self.step, self.seconds = int(state["step"]), float(state["seconds"])
        self.history = [EpochRecord(**{**h, "top": [tuple(t) for t in h["top"]]}) for h in state["history"]]
        self._sums = np.asarray(state["sums"], dtype=np.float64)
        self.distributions = list(state["distributions"].numpy()) if len(state["distributions"]) else []
        self.resumed_from = self.step

    # --- data -----------------------------------------------------------------------------------
    def _batch(self, split: str, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        data = self.dataset.train if split == "train" else self.dataset.val
        epoch, position = divmod(step, self.steps_per_epoch)
        generator = torch.Generator().manual_seed(_mix(self.seed, epoch, 1 if split == "train" else 2))
        order = torch.randperm(len(data), generator=generator)
        start = (position * self.batch_size) % max(1, len(data) - self.batch_size + 1)
        index = order[start:start + self.batch_size].to(self.device)
        return data.images[index], data.labels[index]

    # --- one step -------------------------------------------------------------------------------
    def _draw_architectures(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        gen = np.random.default_rng([self.seed, step, 7])
        b = self.bounds
        depths = gen.integers(b[:, :, 0, 0], b[:, :, 0, 1] + 1)
        widths = gen.integers(b[:, :, 1, 0], b[:, :, 1, 1] + 1)
        return depths, widths

    def _warmup_choice(self, step: int) -> SuperChoice:
        c = self.net_config
        gen = np.random.default_rng([self.seed, step, 11])
        p = 1.0 - step / max(1, self.warmup_steps)  # enabling probability, linear from 1 to 0
        j = int(gen.integers(self.config.partition.num_spaces))
        depths, widths = self._draw_architectures(step)
        d, w = depths[j], widths[j]
        masks, active = [], []
        for s in range(len(d)):
            extra = gen.random(c.max_width) < p
            masks.append(torch.tensor((np.arange(c.max_width) < w[s]) | extra, dtype=torch.float32, device=self.device))
            active.append(torch.tensor((np.arange(c.max_depth) < d[s]) | (gen.random(c.max_depth) < p)))
        ones = [torch.ones(c.max_depth, device=self.device) for _ in d]  # unused in warm-up
        identity = torch.tensor(float(w[0] == c.stem_width and not masks[0][c.stem_width:].any()), device=self.device)
        return SuperChoice(masks, ones, identity, active)

    def _gumbel(self, step: int, tau: float) -> torch.Tensor:
        generator = torch.Generator().manual_seed(_mix(self.seed, step, 3))
        u = torch.rand(self.theta.shape, generator=generator).clamp_(1e-10, 1 - 1e-10).to(self.device)
        soft = torch.softmax((self.theta - torch.log(-torch.log(u))) / tau, dim=0)
        if not self.config.hard:
            return soft
        hard = F.one_hot(soft.argmax(), soft.numel()).to(soft.dtype)
        return hard - soft.detach() + soft

    def tau_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.config.tau_start
        search = max(1, self.total_steps - self.warmup_steps - 1)
        fraction = min(1.0, (step - self.warmup_steps) / search)
        return self.config.tau_start + (self.config.tau_end - self.config.tau_start) * fraction

    def _weight_step(self, choice: SuperChoice, step: int) -> tuple[float, int]:
        images, labels = self._batch("train", step)
        self.w_opt.zero_grad(set_to_none=True)
        logits = self.net(images, choice)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.config.grad_clip)
        self.w_opt.step()
        self.net.zero_grad(set_to_none=True)  # applied: drop them, so the theta step does not hold them
        value = float(loss.detach())
        if not math.isfinite(value):
            raise DataError(f"NSS super network loss became {value} at step {step}; lower the learning rate")
        return value, int((logits.detach().argmax(1) != labels).sum())

    def train_step(self, step: int) -> tuple[float, int, float, float, float]:
        lr = cosine_lr(self.config.lr, step / self.total_steps, lr_min=self.config.lr_min)
        set_lr(self.w_opt, lr)
        if step < self.warmup_steps:
            loss, wrong = self._weight_step(self._warmup_choice(step), step)
            return loss, wrong, math.nan, math.nan, lr
        depths, widths = self._draw_architectures(step)
        loss, wrong = self.weight_step(step, depths, widths)
        arch_loss, penalty = self.arch_step(step, depths, widths)
        return loss, wrong, arch_loss, penalty, lr

    def weight_step(self, step: int, depths: np.ndarray, widths: np.ndarray) -> tuple[float, int]:
        """SGD on the weights for a Gumbel draw over the spaces (g detached) on a training batch."""
        d, w = (torch.as_tensor(a, device=self.device) for a in (depths, widths))
        g = self._gumbel(step, self.tau_at(step))
        return self._weight_step(mixture_choice(g.detach(), d, w, self.net_config), step)

    def arch_loss(self, step: int, depths: np.ndarray, widths: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(CE + lambda * penalty, CE, penalty) for a fresh Gumbel draw on a validation batch."""
        d, w = (torch.as_tensor(a, device=self.device) for a in (depths, widths))
        g = self._gumbel(step + self.total_steps, self.tau_at(step))
        images, labels = self._batch("val", step)
        deviation = torch.as_tensor(flops_deviation(self.lookup.flops(depths, widths), self.config.regime),
                                    dtype=g.dtype, device=self.device)
        penalty = (g * deviation).sum()
        arch_loss = F.cross_entropy(self.net(images, mixture_choice(g, d, w, self.net_config)), labels)
        return arch_loss + self.config.flops_weight * penalty, arch_loss, penalty

    def arch_step(self, step: int, depths: np.ndarray, widths: np.ndarray) -> tuple[float, float]:
        """Adam on theta with the FLOPs-aware loss (``arch_loss``); only theta moves.

        So the weights are frozen (``requires_grad`` off) for this pass and the backward pass is
        asked for theta's gradient alone: autograd then neither saves the tensors that only weight
        gradients need (each conv's input) nor computes any weight gradient (about a third of a
        training step's work and a parameter-sized buffer). theta's gradient is exactly the one
        of a full backward (``tests/test_nss_search.py`` checks it)."""
        self.a_opt.zero_grad(set_to_none=True)
        with frozen(self.net):
            total, arch_loss, penalty = self.arch_loss(step, depths, widths)
            total.backward(inputs=[self.theta])
        self.a_opt.step()
        return float(arch_loss.detach()), float(penalty.detach())

    # --- the loop -------------------------------------------------------------------------------
    def run(self, progress: Callable[[int, int, float], None] | None, stop_after_steps: int | None) -> None:
        self.net.train()
        stop = self.total_steps if stop_after_steps is None else min(self.total_steps, int(stop_after_steps))
        while self.step < stop:
            start = time.perf_counter()
            try:
                loss, wrong, arch_loss, penalty, lr = self.train_step(self.step)
            except KeyboardInterrupt:
                self.save()  # the state is as it was before this step
                raise
            self.step += 1
            self.seconds += time.perf_counter() - start
            self._sums += [loss, wrong, 0.0 if math.isnan(arch_loss) else arch_loss,
                           0.0 if math.isnan(penalty) else penalty, 1.0]
            if progress is not None:
                progress(self.step, self.total_steps, loss)
            if self.step % self.steps_per_epoch == 0:
                self._end_epoch(lr)
        self.save()

    def _end_epoch(self, lr: float) -> None:
        epoch = self.step // self.steps_per_epoch - 1
        n = max(float(self._sums[4]), 1.0)
        probs = _softmax(self.theta.detach().cpu().numpy().astype(np.float64))
        top = np.argsort(-probs, kind="stable")[:5]
        phase = "warmup" if epoch < self.config.warmup_epochs else "search"
        entropy = float(-(probs * np.log(np.maximum(probs, 1e-300))).sum())
        sums = [float(v) for v in self._sums]  # plain floats: the checkpoint loads with weights_only
        self.history.append(EpochRecord(
            epoch, phase, sums[0] / n, 100.0 * sums[1] / (n * self.batch_size),
            math.nan if phase == "warmup" else sums[2] / n, math.nan if phase == "warmup" else sums[3] / n,
            float(self.tau_at(self.step - 1)), float(lr), entropy, [(int(i), float(probs[i])) for i in top],
            float(self.seconds - sum(h.seconds for h in self.history))))
        self.distributions.append(probs.astype(np.float32))
        self._sums[:] = 0.0
        self.save()


def run_search(config: NSSSearchConfig, dataset: Dataset, seed: int = 0, device: str | torch.device = "cpu",
               checkpoint: str | Path | None = None, progress: Callable[[int, int, float], None] | None = None,
               stop_after_steps: int | None = None) -> SearchRun:
    """Search network spaces on ``dataset`` (resuming from ``checkpoint`` when it exists)."""
    from archspace.train.device import resolve_device

    search = _Search(config, dataset, seed, resolve_device(str(device)), None if checkpoint is None else Path(checkpoint))
    search.restore()
    with torch.random.fork_rng():
        search.run(progress, stop_after_steps)
    theta = search.theta.detach().cpu().numpy().astype(np.float64)
    distributions = np.array(search.distributions) if search.distributions else np.zeros((0, len(theta)))
    return SearchRun(config, search.seed, theta, search.history, distributions, search.step, search.total_steps,
                     search.seconds, search.resumed_from, None if checkpoint is None else str(checkpoint))
