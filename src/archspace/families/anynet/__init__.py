"""The AnyNet family: spec (``spec``), table of stems and blocks (``table``), and derived from
the table the analytic cost (``cost``), layer sequence (``layers``) and torch module
(``modules``); ``family.AnyNetFamily`` ties them together. Only ``modules`` imports torch."""

from archspace.families.anynet.spec import AnyNetArch, StageSpec

__all__ = ["AnyNetArch", "StageSpec"]
