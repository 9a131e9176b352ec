"""Small synthetic prediction pools shared by the committee tests."""

from __future__ import annotations

import numpy as np

from archspace.committee.inputs import PredictionPool, pool_from_arrays


def synthetic_pool(models: int = 4, examples: int = 40, classes: int = 5, seed: int = 0,
                   costs: list[float] | None = None) -> PredictionPool:
    """Models of rising quality (signal on the true class grows with the index) and integer costs."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=examples)
    outputs = {}
    for index in range(models):
        logits = rng.normal(size=(examples, classes))
        logits[np.arange(examples), labels] += 0.5 + 0.6 * index
        outputs[f"m{index}"] = logits.astype(np.float32)
    costs = costs or [float(2**index) for index in range(models)]
    return pool_from_arrays(outputs, labels, costs)
