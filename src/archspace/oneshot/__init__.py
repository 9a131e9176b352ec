"""Differentiable (gradient-based one-shot) architecture search.

``arch_params`` (the architecture-parameter container), ``methods`` (DARTS first / second order,
GDAS, the neighborhood-aware NA wrapper), ``bilevel`` (the alternating weight / architecture
loop with the reference optimizer presets, per-epoch records, DARTS-ES early stopping and
bit-identical checkpoint resume), ``hessian`` (Hessian-vector products, eigenpairs), ``derive``
(DARTS and NB201 derivation rules), ``landscape`` (loss surfaces over the top Hessian
eigenvectors), ``nb201_net`` (the NB201 mixed-op network), ``search`` (the workflow the CLI
calls) and ``handoff`` (derived cells to a Study for stand-alone training, behind ``archspace
oneshot train-derived``). The DARTS mixed-op network is the family's:
``archspace.families.darts.supernet``.
"""
