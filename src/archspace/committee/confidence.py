"""Confidence of a prediction, in [0, 1], from its class probabilities.

A cascade exits early when the running prediction is confident enough. The three measures the
thesis compares are all mapped onto [0, 1] so that one threshold scale fits all of them, and so
that a threshold of 0 always exits and a threshold of 1 never does:

- ``max_prob``: the largest softmax probability;
- ``margin``: the top-1 minus the top-2 probability;
- ``entropy``: negative entropy, normalized as ``1 - H(p) / log(C)``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from archspace.errors import UsageError


def max_prob(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Largest class probability."""
    return probs.max(axis=axis)


def margin(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """Top-1 minus top-2 class probability."""
    top2 = np.partition(probs, probs.shape[axis] - 2, axis=axis)
    top2 = np.take(top2, [probs.shape[axis] - 2, probs.shape[axis] - 1], axis=axis)
    return np.take(top2, 1, axis=axis) - np.take(top2, 0, axis=axis)


def negative_entropy(probs: np.ndarray, axis: int = -1) -> np.ndarray:
    """``1 - H(p) / log(C)``: 1 for a one-hot prediction, 0 for the uniform one."""
    safe = np.where(probs > 0, probs, 1.0)
    entropy = -(probs * np.log(safe)).sum(axis=axis)
    return np.clip(1.0 - entropy / np.log(probs.shape[axis]), 0.0, 1.0)


CONFIDENCES: dict[str, Callable[..., np.ndarray]] = {
    "max_prob": max_prob,
    "margin": margin,
    "entropy": negative_entropy,
}


def confidence_of_sum(total: np.ndarray, count: int, combine: str, name: str, axis: int = -1,
                      scratch: np.ndarray | None = None) -> np.ndarray:
    """Confidence of the average of ``count`` members' terms, given their float32 sum ``total``.

    ``combine`` says whether the terms are logits (softmax of the average) or probabilities.
    Cascade evaluation and cascade search both call this, so they agree to the last bit.
    ``scratch`` (same shape and dtype as ``total``) avoids allocating a temporary.
    """
    function = get_confidence(name)
    average = np.divide(total, count, out=scratch)
    if combine != "logits":
        return function(average, axis=axis)
    average -= average.max(axis=axis, keepdims=True)
    np.exp(average, out=average)
    if name == "max_prob":  # the largest shifted exponential is exactly 1
        return 1.0 / average.sum(axis=axis)
    average /= average.sum(axis=axis, keepdims=True)
    return function(average, axis=axis)


def get_confidence(name: str) -> Callable[..., np.ndarray]:
    """The confidence function called ``name`` (max_prob, margin or entropy)."""
    try:
        return CONFIDENCES[name]
    except KeyError:
        raise UsageError(f"unknown confidence {name!r}; choose one of {', '.join(CONFIDENCES)}") from None
