"""The Space contract and composable constraints.

A Space samples, validates, mutates and encodes architectures of one family, and hands cost and
building to that family. Sampling, validation and cost are pure Python (no torch); ``build``
imports torch lazily.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np

from archspace.arch import ArchSpec
from archspace.complexity.counts import Complexity
from archspace.errors import UsageError
from archspace.families.base import Family

A = TypeVar("A", bound=ArchSpec)

# Draws per vectorized sampling call in ``sample_distinct`` (fixed, so results depend only on the seed).
SAMPLE_CHUNK = 256


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """Accept a seed or a Generator, return a Generator (never touches global state)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


@dataclass(frozen=True)
class Constraint(Generic[A]):
    """A named predicate over specs; spaces hold a tuple of them and sample by rejection."""

    name: str
    check: Callable[[Any], bool]
    description: str = ""
    # Optional map of raw draws into the constrained set (e.g. share one value across stages),
    # so that a strict constraint does not turn sampling into hopeless rejection. It takes and
    # returns the space's raw draw representation (for AnyNet: per-field arrays of shape
    # (models, stages)).
    project: Callable[[Any], Any] | None = None

    def __call__(self, arch: A) -> bool:
        return bool(self.check(arch))


@dataclass(frozen=True)
class Regime:
    """A complexity regime: a model is inside when every given bound holds (None = unbounded)."""

    flops: tuple[float, float] | None = None
    params: tuple[float, float] | None = None
    acts: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        for name in ("flops", "params", "acts"):
            bounds = getattr(self, name)
            if bounds is None:
                continue
            low, high = bounds
            if not (0 <= low <= high):
                raise UsageError(f"{name} regime must satisfy 0 <= low <= high, got {low}:{high}")

    def contains(self, cx: Complexity) -> bool:
        return bool(self.mask(cx.flops, cx.params, cx.acts))

    def mask(self, flops: Any, params: Any, acts: Any) -> Any:
        """Element-wise membership for scalars or arrays of flops / params / acts."""
        inside = np.ones(np.shape(flops), dtype=bool)
        for bounds, values in ((self.flops, flops), (self.params, params), (self.acts, acts)):
            if bounds is not None:
                inside &= (np.asarray(values) >= bounds[0]) & (np.asarray(values) <= bounds[1])
        return inside

    @property
    def is_unbounded(self) -> bool:
        return self.flops is None and self.params is None and self.acts is None


CAPABILITIES: tuple[str, ...] = ("neighbors", "mutate", "encode")


class Space(ABC, Generic[A]):
    """Base class of every design space: sampling and constraints over one family's specs.

    Subclasses set ``family`` (the ``archspace.families.Family`` that validates, costs and builds
    their specs), implement ``sample`` and ``validate``, and declare in ``capabilities`` which
    optional methods (neighbors, mutate, encode) they define; calling an undeclared one raises a
    ``UsageError`` naming it. ``options()`` returns the constructor arguments that, with a spec,
    rebuild its network (``get_space(name, **space.options())``).
    """

    name: str = ""
    arch_class: type[ArchSpec]
    family: Family
    capabilities: frozenset[str] = frozenset()

    def __init__(self, constraints: Sequence[Constraint] = ()) -> None:
        self.constraints: tuple[Constraint, ...] = tuple(constraints)

    # --- what every space must provide -------------------------------------------------------
    @abstractmethod
    def sample(self, rng: int | np.random.Generator | None = None) -> A:
        """One architecture drawn from the space's sampling distribution (constraints applied)."""

    @abstractmethod
    def validate(self, arch: A) -> A:
        """Return ``arch`` if it belongs to the space; raise ``InvalidArchitecture`` otherwise."""

    def options(self) -> dict[str, Any]:
        """Constructor options (JSON values) that, with a spec, determine its network."""
        return {}

    def complexity(self, arch: A, resolution: int | None = None, num_classes: int | None = None,
                   in_channels: int | None = None) -> Complexity:
        """Analytic flops / params / acts, without building a model (validated first).

        The space's ``validate`` includes its family's, so the family's unchecked ``cost`` follows.
        """
        return self.family.cost(self.validate(arch), **self.family.input_spec(resolution, num_classes, in_channels))

    def build(self, arch: A, num_classes: int | None = None, in_channels: int | None = None) -> Any:
        """A ``torch.nn.Module`` for ``arch`` (validated first)."""
        return self.family.build(self.validate(arch), num_classes=num_classes, in_channels=in_channels)

    def feature_sequence(self, arch: A, **options: Any) -> list:
        """The layers the learned kernel reads (``Family.feature_sequence`` of this space's family)."""
        return self.family.feature_sequence(self.validate(arch), **options)

    def neighbors(self, arch: A, distance: int = 1) -> list[A]:
        raise self._lacks("neighbors")

    def mutate(self, arch: A, rng: int | np.random.Generator | None = None) -> A:
        raise self._lacks("mutate")

    def encode(self, arch: A) -> np.ndarray:
        raise self._lacks("encode")

    def _lacks(self, capability: str) -> UsageError:
        return UsageError(f"space {self.name!r} does not define {capability} "
                          f"(its capabilities: {sorted(self.capabilities) or 'none'})")

    def summary(self) -> dict[str, Any]:
        """Name, dimension and size (where countable) of the space."""
        return {"name": self.name}

    def complexity_many(self, archs: Sequence[A], **input_spec: Any) -> list[Complexity]:
        """Complexity of many models (the family's batched computation)."""
        return self.family.complexity_many([self.validate(a) for a in archs], validate=False, **input_spec)

    def sample_batch(self, rng: int | np.random.Generator | None, n: int) -> list[A]:
        """``n`` draws at once; spaces override this with a vectorized sampler."""
        gen = as_generator(rng)
        return [self.sample(gen) for _ in range(n)]

    # --- shared behaviour ----------------------------------------------------------------------
    def satisfies(self, arch: A) -> bool:
        return all(c(arch) for c in self.constraints)

    def parse(self, data: dict[str, Any]) -> A:
        """Spec from a plain dict, validated."""
        return self.validate(self.arch_class.from_dict(data))  # type: ignore[return-value]

    def sample_distinct(
        self,
        n: int,
        rng: int | np.random.Generator | None = None,
        regime: Regime | None = None,
        max_draws: int | None = None,
        complexity_kwargs: dict[str, Any] | None = None,
    ) -> list[A]:
        """Rejection-sample ``n`` distinct architectures inside ``regime``.

        Raises ``UsageError`` if ``max_draws`` (default 1000 * n + 10_000) draws do not suffice,
        which is how an empty or nearly empty regime is reported.
        """
        if n < 0:
            raise UsageError(f"n must be >= 0, got {n}")
        gen = as_generator(rng)
        limit = max_draws if max_draws is not None else 1000 * n + 10_000
        kwargs = complexity_kwargs or {}
        chosen: dict[A, None] = {}
        rejected: set[A] = set()
        draws = 0
        while len(chosen) < n and draws < limit:
            batch = self.sample_batch(gen, min(SAMPLE_CHUNK, limit - draws))
            draws += len(batch)
            fresh = list(dict.fromkeys(a for a in batch if a not in chosen and a not in rejected))
            if regime is not None and not regime.is_unbounded and fresh:
                # drawn by this space, so valid by construction: cost them without re-validating
                inside = [regime.contains(cx) for cx in self.family.complexity_many(fresh, validate=False, **kwargs)]
                rejected.update(a for a, ok in zip(fresh, inside) if not ok)
                fresh = [a for a, ok in zip(fresh, inside) if ok]
            for arch in fresh[: n - len(chosen)]:
                chosen[arch] = None
        if len(chosen) < n:
            raise UsageError(
                f"only {len(chosen)} of {n} distinct models of {self.name} fell in the regime "
                f"after {limit} draws; widen the regime"
            )
        return list(chosen)


def first_violation(constraints: Iterable[Constraint], arch: Any) -> Constraint | None:
    """The first constraint ``arch`` breaks, or None."""
    for constraint in constraints:
        if not constraint(arch):
            return constraint
    return None
