"""Workflows: functions the CLI and the Python API both call, on top of every other layer.

- ``design_study``: AnyNetX_A..E and RegNet populations trained on real data, EDFs, the report;
- ``population``: the ``study run`` policy (a population of n models in a regime, resumable);
- ``ranking_study``: supernet ranking correlations on NAS-Bench-201 cells;
- ``nb201_search``: search algorithms compared on the NAS-Bench-201 table;
- ``nb201_grid``: that comparison over protocols x budgets x datasets; ``nb201_na``: the
  thesis's neighborhood-aware protocol (T centers x n_nbr vs the plain search);
- ``committees``: cascades and ensembles chosen on held-out data, and committee pools as studies.

Importing this package imports none of them.
"""
