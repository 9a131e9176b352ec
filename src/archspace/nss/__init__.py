"""Network Space Search (NSS, supplement of *Network Space Search for Pareto-Efficient Spaces*).

- ``partition``: the documented, configurable partition of the expanded space into network spaces.
- ``distribution``: exact FLOPs distributions of network spaces under uniform sampling.
- ``regimes``: the 12 RegNet FLOPs regimes, user ranges, and their scaling to other inputs.
- ``table``: the analytic NAS-inside-Elite-Space vs expanded-space table (samples until the FLOPs
  constraint is met, Delta %), supplement Table 1.
- ``search``: Gumbel-softmax search over network spaces with the masked super network (torch).
- ``elite``: the Elite Space a search returns, with its ranges, size and FLOPs distribution.
- ``nas``: NAS inside a network space under a FLOPs budget: a seeded random search whose in-budget
  candidates are trained in a Study (Table 1's samples, Delta and error, measured).
- ``workflow``: ``archspace nss search`` (checked settings, resumable run directory, result.json).

Torch is imported only by ``search`` (and the super network it drives) and, lazily, by ``nas.run_nas``.
"""
