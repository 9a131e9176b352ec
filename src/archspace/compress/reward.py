"""The compression reward (thesis eq. 2.2): f(x) = C(x) (2 - C(x)) A(x) / A(teacher),
C(x) = 1 - params(x) / params(teacher); an invalid candidate gets -1.

C(2 - C) rises steeply for the first halvings of the size and flattens near full compression,
so a candidate is paid for being small only while it keeps the teacher's accuracy. The identity
candidate has C = 0 and f = 0. Pure arithmetic (numpy-broadcasting), no torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

INVALID_REWARD = -1.0


def compression(params: Any, teacher_params: Any) -> Any:
    """C(x) = 1 - params(x) / params(teacher)."""
    return 1.0 - np.asarray(params, dtype=float) / np.asarray(teacher_params, dtype=float)


def reward(accuracy: Any, params: Any, teacher_accuracy: float, teacher_params: int) -> Any:
    """f(x) of eq. 2.2 (accuracies in any one unit, e.g. percent); a float for scalar inputs."""
    c = compression(params, teacher_params)
    value = c * (2.0 - c) * np.asarray(accuracy, dtype=float) / float(teacher_accuracy)
    return float(value) if np.ndim(value) == 0 else value
