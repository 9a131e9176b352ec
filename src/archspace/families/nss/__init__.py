"""The NSS expanded-space family (*Network Space Search*, supplement): spec (``spec``), the table
of the expanded space (``table``), and derived from it the analytic cost (``cost``), layer
sequence (``layers``), torch module (``modules``) and the channel-masked, depth-shared super
network (``supernet``); ``family.NSSFamily`` ties them together. Only ``modules`` and
``supernet`` import torch."""

from archspace.families.nss.spec import NSSArch

__all__ = ["NSSArch"]
