"""Evaluators by name: ``EVALUATORS``, filled by ``@EVALUATORS.register(name, trains=..., kinds=...)``.

Metadata: ``trains`` (whether evaluating trains a model: the cost is minutes, not microseconds)
and ``kinds`` (the spec kinds it evaluates; absent = every kind a family builds).
"""

from __future__ import annotations

from typing import Any

from archspace.registry import Registry

EVALUATORS: Registry[Any] = Registry("evaluator", modules=(
    "archspace.evaluators.complexity", "archspace.evaluators.training", "archspace.evaluators.nb201",
    "archspace.evaluators.supernet", "archspace.evaluators.measured", "archspace.evaluators.compress"))
