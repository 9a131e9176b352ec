"""The NAS-Bench-201 family: cell spec (``spec``), table of ops, edges and skeleton (``table``),
benchmark index and isomorphism classes (``index``), and derived from the table the analytic cost
(``cost``), layer sequence (``layers``), torch modules (``modules``) and the single-path supernet
(``supernet``); ``family.NB201Family`` ties them together. Only ``modules`` and ``supernet``
import torch."""

from archspace.families.nb201.spec import NB201Cell
from archspace.families.nb201.table import EDGES, NUM_CELLS, NUM_EDGES, NUM_OPS, OPS

__all__ = ["EDGES", "NUM_CELLS", "NUM_EDGES", "NUM_OPS", "OPS", "NB201Cell"]
