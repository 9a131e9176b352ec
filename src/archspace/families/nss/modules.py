"""Torch module of an expanded-space network: the AnyNet builder over the same table rows.

The stand-alone network of a spec is ``build_nss(arch)``; the super network
(``archspace.families.nss.supernet``) masks the same rows, and the tests check that a masked
super-block at a one-hot choice computes what this module's block computes with the same weights.
"""

from __future__ import annotations

from archspace.families.anynet.modules import AnyNet, build_anynet
from archspace.families.nss.cost import to_anynet
from archspace.families.nss.spec import NSSArch


def build_nss(arch: NSSArch, stem_width: int, num_classes: int, in_channels: int) -> AnyNet:
    return build_anynet(to_anynet(arch, stem_width), num_classes=num_classes, in_channels=in_channels)
