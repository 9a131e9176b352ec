"""FLOPs regimes for NSS: the 12 RegNet regimes, user ranges, and their scaling to other inputs.

A regime with target T (e.g. ``400MF``) is the band [(1 - tolerance) T, T] (default tolerance 0.1:
400MF = 360M..400M flops, the convention of the design studies here); a user range ``LO:HI`` is
taken as given. The NAS constraint of the analytic table is the budget flops <= T.

``scale_regime`` maps a regime of the full expanded space at 32x32 to a reduced expanded space or
another input by matching quantiles: the scaled target is the flops value below which the same
fraction of the (reduced) space's networks lies as below T in the full space. The CPU run uses it
to turn the 32x32 regimes into 28x28 Fashion-MNIST regimes of its small space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from archspace.errors import UsageError
from archspace.nss.distribution import InputSpec, flops_below
from archspace.parsing import parse_number, parse_range
from archspace.spaces.nss import NSSSpace

REGNET_REGIMES: tuple[tuple[str, float], ...] = (
    ("200MF", 200e6), ("400MF", 400e6), ("600MF", 600e6), ("800MF", 800e6), ("1.6GF", 1.6e9), ("3.2GF", 3.2e9),
    ("4.0GF", 4.0e9), ("6.4GF", 6.4e9), ("8.0GF", 8.0e9), ("12GF", 12e9), ("16GF", 16e9), ("32GF", 32e9),
)
DEFAULT_TOLERANCE = 0.1


@dataclass(frozen=True)
class FlopsRegime:
    """A named flops band [low, high]; ``target`` = high (the budget)."""

    name: str
    low: float
    high: float

    def __post_init__(self) -> None:
        if not (0 <= self.low <= self.high) or not np.isfinite(self.high):
            raise UsageError(f"flops regime {self.name} must satisfy 0 <= low <= high, got {self.low}:{self.high}")

    @property
    def target(self) -> float:
        return self.high

    def to_dict(self) -> dict:
        return {"name": self.name, "low": self.low, "high": self.high}


def regime(target: float, name: str | None = None, tolerance: float = DEFAULT_TOLERANCE) -> FlopsRegime:
    """The band [(1 - tolerance) target, target]."""
    if not 0 <= tolerance < 1:
        raise UsageError(f"tolerance must be in [0, 1), got {tolerance}")
    if not target > 0:
        raise UsageError(f"flops target must be positive, got {target}")
    return FlopsRegime(name or _name(target), (1 - tolerance) * target, target)


def _name(value: float) -> str:
    return f"{value / 1e9:g}GF" if value >= 1e9 else f"{value / 1e6:g}MF"


def parse_regime(text: str, tolerance: float = DEFAULT_TOLERANCE) -> FlopsRegime:
    """``400M`` / ``400MF`` / ``3.2GF`` (a target, band below it) or ``LO:HI`` (a range)."""
    text = str(text).strip()
    if ":" in text:
        low, high = parse_range(text, "--flops")
        return FlopsRegime(text, low, high)
    number = text[:-1] if text.upper().endswith(("MF", "GF", "KF")) else text
    return regime(parse_number(number, "--flops"), None, tolerance)


def regnet_regimes(tolerance: float = DEFAULT_TOLERANCE) -> list[FlopsRegime]:
    return [regime(target, name, tolerance) for name, target in REGNET_REGIMES]


def check_reachable(space: NSSSpace, target: FlopsRegime, inputs: InputSpec) -> None:
    """``UsageError`` naming the regime and the reachable range when no network of ``space`` meets it."""
    below = flops_below(space, [np.ceil(target.low) - 1, target.high], inputs)
    if below.counts[1] - below.counts[0] == 0:
        raise UsageError(f"no network of space {space.name} has flops in regime {target.name} "
                         f"({target.low:.4g}..{target.high:.4g}); reachable flops are {below.min:.4g}..{below.max:.4g} "
                         f"at {inputs.resolution}x{inputs.resolution}")


def quantile_of(space: NSSSpace, value: float, inputs: InputSpec) -> float:
    return float(flops_below(space, [value], inputs).probability()[0])


def flops_at_quantile(space: NSSSpace, level: float, inputs: InputSpec) -> float:
    """Smallest flops v with P(F <= v) >= level (bisection on exact counts, to 1e-6 of the range)."""
    first = flops_below(space, [0], inputs)
    low, high = float(first.min - 1), float(first.max)
    while high - low > max(1.0, 1e-6 * first.max):
        mid = np.floor((low + high) / 2)
        if flops_below(space, [mid], inputs).probability()[0] >= level:
            high = mid
        else:
            low = mid
    return high


def scale_regime(target: FlopsRegime, source: NSSSpace, source_inputs: InputSpec, dest: NSSSpace,
                 dest_inputs: InputSpec) -> FlopsRegime:
    """``target`` moved to ``dest`` at ``dest_inputs`` by matching the quantiles of its bounds."""
    low = flops_at_quantile(dest, quantile_of(source, target.low, source_inputs), dest_inputs)
    high = flops_at_quantile(dest, quantile_of(source, target.high, source_inputs), dest_inputs)
    return FlopsRegime(f"{target.name}@{dest_inputs.resolution}px", low, max(low, high))
