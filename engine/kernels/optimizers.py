"""Optimisers (PyTorch's definitions, docs/engine.md) and the divergence check of an update.

    sgd       Δθ = −η·g
    momentum  buf = μ·buf + g   (the first step: buf = g);       Δθ = −η·buf
    adam      m = β1·m + (1−β1)·g;   v = β2·v + (1−β2)·g²;   m̂ = m / (1−β1ᵗ);   v̂ = v / (1−β2ᵗ)
              Δθ = −η·m̂ / (√v̂ + ε)

g is the gradient of the objective. The state is `moments` (2, P): buf (or m) and v. An update
is first *proposed* into `pending` and Δθ; `apply_update` keeps it only when the objective (the
loss and the penalty) and every new weight are finite, so a diverging step leaves θ and the
state as they were. The objective, not the data loss alone: l2's λ/2·Σw² overflows once a weight
passes about 1e154, long before the weight itself does.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.codes import LEARNING_RATE, MOMENTUM, OPTIMIZER, OPTIMIZER_STEPS

SGD, MOMENTUM_SGD, ADAM = 0, 1, 2
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8

ACCEPTED, LOSS_DIVERGED, WEIGHTS_DIVERGED = 0, 1, 2  # what `apply_update` did


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def propose_update(
    kind: int, rate: float, momentum: float, steps_done: int, gradient: np.ndarray, moments: np.ndarray,
    pending: np.ndarray, update: np.ndarray,
) -> None:
    """Δθ into `update` (P,), the optimiser's next state into `pending` (2, P)."""
    size = gradient.shape[0]
    if kind == SGD:
        for p in range(size):
            update[p] = -rate * gradient[p]
    elif kind == MOMENTUM_SGD:
        for p in range(size):
            buffer = gradient[p] if steps_done == 0 else momentum * moments[0, p] + gradient[p]
            pending[0, p] = buffer
            update[p] = -rate * buffer
    else:
        t = steps_done + 1
        first_correction = 1.0 - BETA1**t
        second_correction = 1.0 - BETA2**t
        for p in range(size):
            g = gradient[p]
            m = BETA1 * moments[0, p] + (1.0 - BETA1) * g
            v = BETA2 * moments[1, p] + (1.0 - BETA2) * (g * g)
            pending[0, p] = m
            pending[1, p] = v
            update[p] = -rate * ((m / first_correction) / (math.sqrt(v / second_correction) + EPSILON))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def apply_update(
    codes: np.ndarray, hyper: np.ndarray, objective: float, gradient: np.ndarray, theta: np.ndarray,
    moments: np.ndarray, pending: np.ndarray, update: np.ndarray, counters: np.ndarray,
) -> int:
    """θ += Δθ and the optimiser's state moves on, unless the batch's objective (loss + penalty)
    or a new weight would be non-finite: then nothing changes and the reason comes back
    (LOSS_ or WEIGHTS_DIVERGED)."""
    if not math.isfinite(objective):
        return LOSS_DIVERGED
    kind = codes[OPTIMIZER]
    propose_update(kind, hyper[LEARNING_RATE], hyper[MOMENTUM], counters[OPTIMIZER_STEPS], gradient, moments,
                   pending, update)
    size = theta.shape[0]
    for p in range(size):
        if not math.isfinite(theta[p] + update[p]):
            return WEIGHTS_DIVERGED
    for p in range(size):
        theta[p] += update[p]
    if kind == MOMENTUM_SGD:
        moments[0, :] = pending[0, :]
    elif kind == ADAM:
        moments[:, :] = pending
    counters[OPTIMIZER_STEPS] += 1
    return ACCEPTED
