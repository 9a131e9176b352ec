"""Gradient-based architecture methods: how alpha becomes mixing weights and how its gradient is
taken. Each method is a small object the bi-level loop (``bilevel``) calls; none is tied to a cell
family (they see op groups, arch tensors and a loss).

- ``Darts(order=1)``: mixing = softmax(alpha) per edge; arch gradient of the validation loss.
  ``order=2``: the unrolled weight step w' = w - xi (momentum buffer + grad + wd w) with the
  finite-difference Hessian-vector product (R = 0.01 / ||grad_w' L_val||), as the reference.
- ``Gdas(tau_max=10, tau_min=0.1)``: hard straight-through Gumbel-softmax; only the sampled op
  runs, every alpha still gets a gradient; tau linear over epochs.
- ``Neighborhood(inner, n_nbr=10, distance=1, kind="additive"|"multiplicative", eps=0.3,
  aggregate="mean"|"max")``: NA-DARTS (thesis section 3.4.2): the arch gradient of the mean (by
  accumulating one neighbor's gradient at a time) or the max (Danskin: the gradient at the worst
  neighbor) of the validation loss over n_nbr neighbors of alpha, alpha itself included.
  Additive neighbors (eq. 3.6): on ``distance`` sampled edges, bounded noise |q_k| <= eps added
  to the mixing weights, clipped at 0 and renormalized; multiplicative (eq. 3.7): those edges
  forced to ``none`` or ``skip_connect``.

Every arch gradient is taken to the arch tensors only (``backward_to_arch``): the weights'
gradients from an architecture batch are never used (the weight step zeroes them), so they are
not computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from archspace.errors import UsageError
from archspace.families.supernet import Mixture

ARCH_BETA = "_beta"
Loss = Callable[[Mixture], torch.Tensor]


def backward_to_arch(loss: torch.Tensor, arch: dict[str, torch.Tensor]) -> None:
    """Accumulate d loss / d arch into the arch tensors' ``.grad`` and nothing else: the weights'
    gradients (the convolutions' weight-gradient kernels, most of a CPU backward pass) are not
    computed, since the weight step starts from zeroed gradients anyway."""
    loss.backward(inputs=list(arch.values()))


def op_groups(arch: dict[str, torch.Tensor]) -> list[str]:
    return [name for name in arch if not name.endswith(ARCH_BETA)]


def betas_of(arch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor] | None:
    betas = {name: value for name, value in arch.items() if name.endswith(ARCH_BETA)}
    return betas or None


def softmax_mixture(arch: dict[str, torch.Tensor]) -> Mixture:
    """DARTS's relaxation: softmax over the ops of each edge."""
    return Mixture({g: torch.softmax(arch[g], dim=-1) for g in op_groups(arch)}, betas=betas_of(arch))


def gumbel_hard_mixture(arch: dict[str, torch.Tensor], tau: float, generator: torch.Generator) -> Mixture:
    """GDAS: one-hot of argmax(log_softmax(alpha) + Gumbel) with the soft probabilities'
    gradient (straight-through); ``index`` names the sampled op of every edge."""
    weights, index = {}, {}
    for g in op_groups(arch):
        logp = torch.log_softmax(arch[g], dim=-1)
        gumbel = -torch.empty(logp.shape, dtype=logp.dtype).exponential_(generator=generator).log()
        probs = torch.softmax((logp + gumbel.to(logp.device)) / tau, dim=-1)
        chosen = probs.argmax(dim=-1)
        hard = torch.zeros_like(probs).scatter_(-1, chosen[:, None], 1.0)
        weights[g] = hard - probs.detach() + probs
        index[g] = [int(i) for i in chosen.tolist()]
    return Mixture(weights, index, betas_of(arch))


def argmax_mixture(arch: dict[str, torch.Tensor]) -> Mixture:
    """The discrete network of the current alpha (argmax op per edge), for GDAS evaluation."""
    weights, index = {}, {}
    for g in op_groups(arch):
        chosen = arch[g].argmax(dim=-1)
        weights[g] = torch.zeros_like(arch[g]).scatter_(-1, chosen[:, None], 1.0)
        index[g] = [int(i) for i in chosen.tolist()]
    return Mixture(weights, index, betas_of(arch))


@dataclass
class StepContext:
    """What a method may read at one step: position, learning rate, seeded generators, losses."""

    step: int
    epoch: int
    epochs: int
    lr: float
    seed: int
    train_loss: Loss  # loss of the current weight batch under a mixture
    val_loss: Loss  # loss of the current architecture batch under a mixture

    def generator(self, salt: int) -> torch.Generator:
        return torch.Generator().manual_seed(int(np.random.SeedSequence([self.seed, self.step, salt]).generate_state(1)[0]))

    def rng(self, salt: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, self.step, salt])


class Method:
    """Base: softmax relaxation, first-order arch gradient."""

    name = "darts"

    def weight_mixture(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> Mixture:
        with torch.no_grad():
            return softmax_mixture(arch)

    def eval_mixture(self, arch: dict[str, torch.Tensor]) -> Mixture:
        with torch.no_grad():
            return softmax_mixture(arch)

    def relax(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> Mixture:
        """The differentiable mixture the arch gradient is taken through."""
        return softmax_mixture(arch)

    def arch_backward(self, arch: dict[str, torch.Tensor], ctx: StepContext, bilevel: object) -> float:
        """Fill the ``.grad`` of the arch tensors; returns the validation loss."""
        loss = ctx.val_loss(self.relax(arch, ctx))
        backward_to_arch(loss, arch)
        return float(loss.detach())

    def config(self) -> dict[str, object]:
        return {"name": self.name}


class Darts(Method):
    """DARTS, first (``order=1``) or second order (see the module docstring)."""

    def __init__(self, order: int = 1) -> None:
        if order not in (1, 2):
            raise UsageError(f"DARTS order must be 1 or 2, got {order!r}")
        self.order = order
        self.name = "darts" if order == 1 else "darts2"

    def arch_backward(self, arch: dict[str, torch.Tensor], ctx: StepContext, bilevel: object) -> float:
        if self.order == 1:
            return super().arch_backward(arch, ctx, bilevel)
        return bilevel.unrolled_arch_backward(arch, ctx)  # type: ignore[attr-defined]

    def config(self) -> dict[str, object]:
        return {"name": self.name, "order": self.order}


class Gdas(Method):
    """GDAS: hard Gumbel straight-through sampling in both steps, tau linear tau_max -> tau_min."""

    name = "gdas"

    def __init__(self, tau_max: float = 10.0, tau_min: float = 0.1) -> None:
        if not 0 < tau_min <= tau_max:
            raise UsageError(f"GDAS needs 0 < tau_min <= tau_max, got {tau_min}, {tau_max}")
        self.tau_max, self.tau_min = float(tau_max), float(tau_min)

    def tau(self, epoch: int, epochs: int) -> float:
        if epochs <= 1:
            return self.tau_max
        return self.tau_max - (self.tau_max - self.tau_min) * epoch / (epochs - 1)

    def weight_mixture(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> Mixture:
        with torch.no_grad():
            return gumbel_hard_mixture(arch, self.tau(ctx.epoch, ctx.epochs), ctx.generator(11))

    def relax(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> Mixture:
        return gumbel_hard_mixture(arch, self.tau(ctx.epoch, ctx.epochs), ctx.generator(12))

    def eval_mixture(self, arch: dict[str, torch.Tensor]) -> Mixture:
        with torch.no_grad():
            return argmax_mixture(arch)

    def config(self) -> dict[str, object]:
        return {"name": self.name, "tau_max": self.tau_max, "tau_min": self.tau_min}


NEIGHBOR_KINDS = ("additive", "multiplicative")
AGGREGATES = ("mean", "max")


@dataclass(frozen=True)
class Perturbation:
    """One edge change of a neighbor: add ``noise`` (additive) or force op ``forced``."""

    group: str
    edge: int
    noise: tuple[float, ...] | None = None
    forced: int | None = None


def draw_neighbors(shapes: dict[str, tuple[int, ...]], op_names: Sequence[str], n_nbr: int, distance: int,
                   kind: str, eps: float, rng: np.random.Generator) -> list[tuple[Perturbation, ...]]:
    """``n_nbr`` neighbors as edge perturbations; the first is alpha itself (no perturbation)."""
    edges = [(g, e) for g, shape in shapes.items() for e in range(shape[0])]
    forced = [op_names.index(op) for op in ("none", "skip_connect") if op in op_names]
    out: list[tuple[Perturbation, ...]] = [()]
    for _ in range(n_nbr - 1):
        picks = rng.choice(len(edges), size=min(distance, len(edges)), replace=False)
        changes = []
        for p in sorted(int(i) for i in picks):
            g, e = edges[p]
            if kind == "additive":
                noise = rng.uniform(-eps, eps, size=shapes[g][1])
                changes.append(Perturbation(g, e, noise=tuple(float(q) for q in noise)))
            else:
                changes.append(Perturbation(g, e, forced=forced[int(rng.integers(len(forced)))]))
        out.append(tuple(changes))
    return out


def apply_neighbor(mixture: Mixture, changes: Sequence[Perturbation]) -> Mixture:
    """The neighbor's mixing weights (differentiable in the unchanged / noised entries)."""
    if not changes:
        return mixture
    weights = dict(mixture.weights)
    for group in {c.group for c in changes}:
        rows = list(weights[group].unbind(0))
        for c in (c for c in changes if c.group == group):
            row = rows[c.edge]
            if c.noise is not None:
                row = (row + torch.tensor(c.noise, dtype=row.dtype, device=row.device)).clamp_min(0.0)
                row = row / row.sum().clamp_min(1e-12)
            else:
                row = torch.zeros_like(row).index_fill_(0, torch.tensor([c.forced], device=row.device), 1.0)
            rows[c.edge] = row
        weights[group] = torch.stack(rows)
    return Mixture(weights, mixture.index, mixture.betas)


class Neighborhood(Method):
    """NA-DARTS on top of a softmax method (DARTS first order; with early stopping or partial
    channels through the loop and network options); see the module docstring."""

    def __init__(self, inner: Method | None = None, n_nbr: int = 10, distance: int = 1, kind: str = "additive",
                 eps: float = 0.3, aggregate: str = "mean") -> None:
        inner = inner or Darts(1)
        if isinstance(inner, Gdas) or getattr(inner, "order", 1) != 1:
            raise UsageError("the neighborhood-aware formulation applies to first-order DARTS "
                             f"(and its ES / PC variants), not {inner.name}")
        if isinstance(n_nbr, bool) or not isinstance(n_nbr, int) or n_nbr < 1:
            raise UsageError(f"n_nbr must be an integer >= 1, got {n_nbr!r}")
        if isinstance(distance, bool) or not isinstance(distance, int) or distance < 1:
            raise UsageError(f"distance must be an integer >= 1, got {distance!r}")
        if kind not in NEIGHBOR_KINDS:
            raise UsageError(f"neighbor kind must be one of {list(NEIGHBOR_KINDS)}, got {kind!r}")
        if kind == "additive" and not 0.0 < float(eps) < 1.0:
            raise UsageError(f"eps must be in (0, 1), got {eps!r}")
        if aggregate not in AGGREGATES:
            raise UsageError(f"aggregate must be one of {list(AGGREGATES)}, got {aggregate!r}")
        self.inner, self.n_nbr, self.distance, self.kind = inner, n_nbr, distance, kind
        self.eps, self.aggregate = float(eps), aggregate
        self.name = f"na-{inner.name}"

    def check_ops(self, op_names: Sequence[str]) -> None:
        if self.kind == "multiplicative" and not {"none", "skip_connect"} & set(op_names):
            raise UsageError("multiplicative neighbors force edges to none or skip_connect; the op mask has neither")

    def neighbors(self, arch: dict[str, torch.Tensor], op_names: Sequence[str], ctx: StepContext) -> list:
        shapes = {g: tuple(arch[g].shape) for g in op_groups(arch)}
        return draw_neighbors(shapes, op_names, self.n_nbr, self.distance, self.kind, self.eps, ctx.rng(21))

    def arch_backward(self, arch: dict[str, torch.Tensor], ctx: StepContext, bilevel: object) -> float:
        nbrs = self.neighbors(arch, bilevel.op_names, ctx)  # type: ignore[attr-defined]
        if self.aggregate == "mean":
            total = 0.0
            for changes in nbrs:  # one neighbor's graph in memory at a time
                loss = ctx.val_loss(apply_neighbor(self.inner.relax(arch, ctx), changes)) / len(nbrs)
                backward_to_arch(loss, arch)
                total += float(loss.detach())
            return total
        with torch.no_grad():
            losses = [float(ctx.val_loss(apply_neighbor(self.inner.relax(arch, ctx), c))) for c in nbrs]
        worst = int(np.argmax(losses))
        loss = ctx.val_loss(apply_neighbor(self.inner.relax(arch, ctx), nbrs[worst]))
        backward_to_arch(loss, arch)  # Danskin: the gradient of the max is the gradient at the maximizer
        return float(loss.detach())

    def weight_mixture(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> Mixture:
        return self.inner.weight_mixture(arch, ctx)

    def eval_mixture(self, arch: dict[str, torch.Tensor]) -> Mixture:
        return self.inner.eval_mixture(arch)

    def relax(self, arch: dict[str, torch.Tensor], ctx: StepContext) -> Mixture:
        return self.inner.relax(arch, ctx)

    def config(self) -> dict[str, object]:
        return {"name": self.name, "inner": self.inner.config(), "n_nbr": self.n_nbr, "distance": self.distance,
                "kind": self.kind, "eps": self.eps, "aggregate": self.aggregate}


METHODS = ("darts", "darts2", "gdas", "na-darts")


def make_method(name: str, **options: object) -> Method:
    """A method by CLI name; ``na-darts`` takes the ``Neighborhood`` options."""
    if name == "darts":
        return Darts(1)
    if name == "darts2":
        return Darts(2)
    if name == "gdas":
        return Gdas(**options)  # type: ignore[arg-type]
    if name == "na-darts":
        return Neighborhood(Darts(1), **options)  # type: ignore[arg-type]
    raise UsageError(f"unknown one-shot method {name!r}; known: {list(METHODS)}")


__all__ = ["AGGREGATES", "METHODS", "NEIGHBOR_KINDS", "Darts", "Gdas", "Method", "Neighborhood", "Perturbation",
           "StepContext", "apply_neighbor", "argmax_mixture", "backward_to_arch", "draw_neighbors", "gumbel_hard_mixture",
           "make_method", "softmax_mixture"]
