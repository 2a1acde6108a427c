"""Regularisation: a penalty on the weights (never the biases) added to the data loss.

    l2   (λ/2)·Σ w²      its gradient λ·w
    l1   λ·Σ |w|         its gradient λ·sign(w)

`weights` is the weight part of θ: every layer's weights, back to back.
"""

from __future__ import annotations

import numpy as np
from numba import njit

NONE, L1, L2 = 0, 1, 2


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def penalty(kind: int, rate: float, weights: np.ndarray) -> float:
    if kind == NONE or rate == 0.0:
        return 0.0
    total = 0.0
    if kind == L2:
        for p in range(weights.shape[0]):
            total += weights[p] * weights[p]
        return 0.5 * rate * total
    for p in range(weights.shape[0]):
        total += abs(weights[p])
    return rate * total


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def add_penalty_gradient(kind: int, rate: float, weights: np.ndarray, weight_grads: np.ndarray) -> None:
    """weight_grads += ∂penalty/∂w, element by element (so a layer's slice can be done alone)."""
    if kind == NONE or rate == 0.0:
        return
    if kind == L2:
        for p in range(weights.shape[0]):
            weight_grads[p] += rate * weights[p]
        return
    for p in range(weights.shape[0]):
        weight_grads[p] += rate * np.sign(weights[p])
