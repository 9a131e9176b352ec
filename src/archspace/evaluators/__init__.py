"""Evaluators: ``evaluate(arch, seed) -> Result`` for every way a model gets a number.

- ``complexity``: analytic flops / params / acts (no training; ``ComplexityEvaluator``);
- ``training``: train from scratch with the trainer (``TrainingEvaluator``), any family;
- ``nb201``: NAS-Bench-201 table lookup (``NB201Benchmark``);
- ``supernet``: inherited weights of a trained single-path supernet (``SupernetEvaluator``).

``EVALUATORS`` (``archspace.evaluators.registry``) names them with their metadata; importing this
package imports none of them (training ones pull in torch).
"""

from archspace.evaluators.registry import EVALUATORS

__all__ = ["EVALUATORS"]
