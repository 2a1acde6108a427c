"""Hidden-layer activation functions a = f(z) and their slopes f′(z).

The slope is written with whichever of z and a = f(z) is cheaper: tanh′ = 1 − a²,
sigmoid′ = a·(1 − a). relu′(0) = 0 and leaky_relu's slope below 0 is 0.01 (docs/engine.md).
The output layer's softmax lives with the losses: with cross-entropy its gradient simplifies.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from backprop_lab.engine.lowlevel.tanh import tanh
from backprop_lab.engine.lowlevel.views import values_of

LINEAR, SIGMOID, TANH, RELU, LEAKY_RELU = 0, 1, 2, 3, 4
LEAKY_SLOPE = 0.01


@njit(cache=True, nogil=True, error_model="numpy")
def activation(kind: int, z: float) -> float:
    """f(z) for one pre-activation. NaN stays NaN, so a diverging network is noticed."""
    if kind == TANH:
        return tanh(z)
    if kind == SIGMOID:
        # σ(z) = 1 / (1 + e^−z); for z < 0 the same value as e^z / (1 + e^z), so exp never overflows
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if kind == RELU:
        return 0.0 if z <= 0.0 else z  # max(0, z)
    if kind == LEAKY_RELU:
        return LEAKY_SLOPE * z if z <= 0.0 else z  # max(0.01·z, z)
    return z  # linear


@njit(cache=True, nogil=True, error_model="numpy")
def slope(kind: int, z: float, a: float) -> float:
    """f′(z), given z and a = f(z)."""
    if kind == TANH:
        return 1.0 - a * a
    if kind == SIGMOID:
        return a * (1.0 - a)
    if kind == RELU:
        return 1.0 if z > 0.0 else 0.0
    if kind == LEAKY_RELU:
        return 1.0 if z > 0.0 else LEAKY_SLOPE
    return 1.0  # linear


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def activate(kind: int, z: np.ndarray, a: np.ndarray) -> None:
    """a_sj = f(z_sj) for every row s and neuron j; z and a (rows, n_out), contiguous, so one loop
    runs over all their values (tanh's side by side in the vector units)."""
    z_values, a_values = values_of(z), values_of(a)
    if kind == TANH:
        for p in range(z_values.shape[0]):
            a_values[p] = tanh(z_values[p])
    else:
        for p in range(z_values.shape[0]):
            a_values[p] = activation(kind, z_values[p])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def slopes(kind: int, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> None:
    """out_sj = f′(z_sj); all (rows, n_out). What the inspector shows as f′(z)."""
    rows, n_out = z.shape
    for s in range(rows):
        for j in range(n_out):
            out[s, j] = slope(kind, z[s, j], a[s, j])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def multiply_by_slopes(kind: int, z: np.ndarray, a: np.ndarray, deltas: np.ndarray) -> None:
    """δ_sj ·= f′(z_sj) for every value of the contiguous (rows, n) blocks, in one loop (for
    tanh, δ·(1 − a²) side by side in the vector units)."""
    z_values, a_values, d_values = values_of(z), values_of(a), values_of(deltas)
    if kind == TANH:
        for p in range(d_values.shape[0]):
            d_values[p] *= 1.0 - a_values[p] * a_values[p]
    else:
        for p in range(d_values.shape[0]):
            d_values[p] *= slope(kind, z_values[p], a_values[p])
