"""The layer sequence of an expanded-space network: the AnyNet sequence of the same network
(``cost.to_anynet``), which walks the same table rows as the cost and the module."""

from __future__ import annotations

from archspace.families.anynet.layers import anynet_layer_sequence
from archspace.families.layers import LayerConfig
from archspace.families.nss.cost import to_anynet
from archspace.families.nss.spec import NSSArch


def nss_layer_sequence(arch: NSSArch, stem_width: int, num_classes: int, in_channels: int) -> list[LayerConfig]:
    return anynet_layer_sequence(to_anynet(arch, stem_width), num_classes, in_channels)
