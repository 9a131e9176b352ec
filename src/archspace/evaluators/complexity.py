"""``ComplexityEvaluator``: a training-free evaluator that reports a model's analytic cost.

Objective = flops in millions (lower is better); metrics and cost = flops, params, acts at the
given input size. It costs a population without training anything (``archspace study run ...
--evaluator complexity``: a dry run that shows what a regime's models cost) and gives tests and
benchmarks a real, cheap evaluator. It holds only the space's registry name, so it pickles small.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archspace.arch import ArchSpec
from archspace.evaluation import Result
from archspace.evaluators.registry import EVALUATORS


@EVALUATORS.register("complexity", trains=False)
@dataclass
class ComplexityEvaluator:
    """Analytic flops / params / acts of each architecture in space ``space`` (a registry name)."""

    space: str
    resolution: int = 224
    num_classes: int = 1000
    in_channels: int = 3
    space_options: dict[str, Any] = field(default_factory=dict)
    _space: Any = field(default=None, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_space": None}  # the space is looked up again where it is used

    def evaluate(self, arch: ArchSpec, seed: int = 0) -> Result:
        if self._space is None:
            from archspace.spaces.registry import get_space

            self._space = get_space(self.space, **self.space_options)
        cx = self._space.complexity(arch, resolution=self.resolution, num_classes=self.num_classes,
                                    in_channels=self.in_channels)
        counts = {"flops": float(cx.flops), "params": float(cx.params), "acts": float(cx.acts)}
        return Result(objective=cx.flops / 1e6, metrics=counts, cost=dict(counts))
