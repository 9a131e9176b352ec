"""The R3D family: small 3-D residual networks for video clips (spec kind ``r3d``).

Spec (``spec``), table of the stem and the basic 3-D block (``table``), and derived from the
table the analytic cost (``cost``), layer sequence (``layers``) and torch module (``modules``);
``family.R3DFamily`` ties them together. Only ``modules`` imports torch. It is the video backbone
that attention cells are inserted into (``archspace.families.attention``).
"""

from archspace.families.r3d.spec import R3DArch, R3DStage

__all__ = ["R3DArch", "R3DStage"]
