"""Committees of trained models: ensembles, cascades, and cascade selection under cost targets.

Modules (import them directly; this package imports nothing heavy):

- ``inputs``: ``PredictionPool`` (validated per-example outputs of M models), ``pool_from_arrays``,
  ``pool_from_npz``, ``pools_from_study``; probabilities are stored as log-probabilities.
- ``ensemble``: mean of logits or probabilities (``evaluate_ensemble``).
- ``confidence``: max softmax probability, top-2 margin, normalized negative entropy, in [0, 1].
- ``cascade``: ``Cascade`` + ``evaluate_cascade`` (Algorithm 4: running average, exit when
  confidence >= t_k; accuracy, average / worst-case cost, exit ratio per stage).
- ``thresholds``: every threshold setting of a cascade at once from sorted-confidence bins.
- ``selection``: ``select_cascade`` (exhaustive over ordered combinations of <= 4 models and their
  thresholds, with pruning) under a target average cost or accuracy and a worst-case bound.
- ``pareto``, ``figure``: fronts of singles / ensembles / cascades and their figure; the
  choose-on-held-out / report-on-test workflow behind ``archspace committee`` and the training of
  a pool as a study are in ``archspace.experiments.committees``.
- ``dense``: region-level cascades for N x C x H x W outputs.
- ``self_cascade``: one trained model at several input resolutions.
"""
