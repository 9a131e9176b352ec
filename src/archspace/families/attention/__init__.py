"""Attention cells (thesis chapter 4): ops and cells (``spec``), the op choices and counting rules
(``table``), and derived from them the analytic cost (``cost``), layer sequence (``layers``) and
torch modules (``modules``); ``family.AttentionFamily`` builds backbones with cells inserted.
Only ``modules`` and ``supernet`` import torch."""

from archspace.families.attention.spec import AttentionCell, AttentionNet, AttentionOp, SEInsert

__all__ = ["AttentionCell", "AttentionNet", "AttentionOp", "SEInsert"]
