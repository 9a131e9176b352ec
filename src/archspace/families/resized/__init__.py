"""Input-resized networks: any family's spec run on inputs resized to a given resolution (kind ``resized``)."""

from archspace.families.resized.spec import ResizedInput

__all__ = ["ResizedInput"]
