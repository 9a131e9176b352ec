"""Design spaces: AnyNet (A..E), RegNet, NAS-Bench-201 cells; a model zoo; a registry by name."""

from archspace.spaces.anynet import AnyNetArch, StageSpec
from archspace.spaces.base import Constraint, Regime, Space
from archspace.spaces.registry import get_space, space_for, space_names

__all__ = ["AnyNetArch", "Constraint", "Regime", "Space", "StageSpec", "get_space", "space_for", "space_names"]
