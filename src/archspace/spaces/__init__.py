"""Design spaces: AnyNet (A..E), RegNet, NAS-Bench-201 cells; a model zoo; a registry by name."""

from archspace.families.anynet.spec import AnyNetArch, StageSpec
from archspace.spaces.base import Constraint, Regime, Space
from archspace.spaces.registry import SPACES, get_space, space_names

__all__ = ["AnyNetArch", "Constraint", "Regime", "Space", "SPACES", "StageSpec", "get_space", "space_names"]
