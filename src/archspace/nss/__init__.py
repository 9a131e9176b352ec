"""Network Space Search (NSS, supplement of *Network Space Search for Pareto-Efficient Spaces*).

- ``partition``: the documented, configurable partition of the expanded space into network spaces.
- ``distribution``: exact FLOPs distributions of network spaces under uniform sampling.
- ``regimes``: the 12 RegNet FLOPs regimes, user ranges, and their scaling to other inputs.
- ``table``: the analytic NAS-inside-Elite-Space vs expanded-space table (samples until the FLOPs
  constraint is met, Delta %), supplement Table 1.
- ``search``: Gumbel-softmax search over network spaces with the masked super network (torch).
- ``elite``: the Elite Space a search returns, with its ranges, size and FLOPs distribution.
- ``compare``: populations from an Elite Space and the expanded space trained in Studies.

Torch is imported only by ``search`` (and the super network it drives).
"""
