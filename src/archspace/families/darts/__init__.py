"""The DARTS cell family: genotype spec (``spec``), table of ops, steps and skeleton (``table``),
published genotypes (``genotypes``), and derived from the table the analytic cost (``cost``),
layer sequence (``layers``), torch modules (``modules``) and the mixed-op search supernet
(``supernet``); ``family.DartsFamily`` ties them together. Only ``modules`` and ``supernet``
import torch."""

from archspace.families.darts.spec import DartsGenotype
from archspace.families.darts.table import OP_TABLE, PARAMETER_FREE_OPS, S3_OPS, SEARCH_OPS

__all__ = ["OP_TABLE", "PARAMETER_FREE_OPS", "S3_OPS", "SEARCH_OPS", "DartsGenotype"]
