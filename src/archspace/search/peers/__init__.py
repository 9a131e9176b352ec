"""Peer search libraries as archspace strategies, each run at its library's defaults.

Every adapter drives the peer through the peer's own ask/tell (or equivalent) API, over one
categorical parameter per cell edge (``edge_0`` .. ``edge_5``, choices = the space's allowed ops),
and records in ``config()`` every argument the peer's constructor took, defaults included, with
the library's version: a result says exactly what ran. The packages are the optional extra
``archspace[peers]``; a missing one is a one-line ``UsageError`` naming it.

* ``archspace.search.optuna_baseline``: ``tpe`` (Optuna ``TPESampler``), ``optuna-gp``
  (``GPSampler``) and ``optuna-gp-deterministic`` (the documented knob for noise-free objectives);
* ``archspace.search.peers.hyperopt_tpe``: ``hyperopt-tpe`` (``hyperopt.tpe.suggest``);
* ``archspace.search.peers.smac_facades``: ``smac-bb`` (SMAC3's ``BlackBoxFacade``, BO with a GP)
  and ``smac-hpo`` (``HyperparameterOptimizationFacade``, BO with a random forest, the facade the
  SMAC3 docs recommend for categorical, hyperparameter-like spaces).
"""
