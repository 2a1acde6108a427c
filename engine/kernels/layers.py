"""One dense layer, forward and backward.

    forward      z_sj = Σ_i a_si·w_ij + b_j                 a: the layer below's activations
    gradients    ∂L/∂w_ij = Σ_s a_si·δ_sj,   ∂L/∂b_j = Σ_s δ_sj      δ_sj = ∂L/∂z_sj
    chain rule   δ_below_si = f′(z_below_si) · Σ_j δ_sj·w_ij

Shapes: a (rows, n_in), w (n_in, n_out), b (n_out,), z and δ (rows, n_out).

Small layers run as the loops below; once a product has `BLAS_MIN_WORK` multiply-adds (a
128-wide layer on a batch of 32 has 500,000) it goes to BLAS, which blocks for the cache and
the vector units far better than a loop can. The choice depends only on the shapes, so every
path that computes a layer computes it the same way, to the bit.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.activations import multiply_by_slopes

BLAS_MIN_WORK = 16_384  # rows · n_in · n_out from which a product goes to BLAS


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def dense_forward(a: np.ndarray, w: np.ndarray, b: np.ndarray, z: np.ndarray) -> None:
    """z = a·w + b, row by row: z_sj = b_j + Σ_i a_si·w_ij."""
    rows, n_in = a.shape
    n_out = b.shape[0]
    if rows * n_in * n_out >= BLAS_MIN_WORK:
        np.dot(a, w, z)
        for s in range(rows):
            for j in range(n_out):
                z[s, j] += b[j]
        return
    for s in range(rows):
        for j in range(n_out):
            z[s, j] = b[j]
        for i in range(n_in):
            a_si = a[s, i]
            for j in range(n_out):
                z[s, j] += a_si * w[i, j]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def dense_gradients(a: np.ndarray, deltas: np.ndarray, weight_grads: np.ndarray, bias_grads: np.ndarray) -> None:
    """∂L/∂w_ij = Σ_s a_si·δ_sj (weight_grads (n_in, n_out)) and ∂L/∂b_j = Σ_s δ_sj (bias_grads
    (n_out,)), summed over the rows s in order."""
    rows, n_in = a.shape
    n_out = deltas.shape[1]
    if rows * n_in * n_out >= BLAS_MIN_WORK:
        np.dot(a.T, deltas, weight_grads)
    else:
        for i in range(n_in):
            for j in range(n_out):
                weight_grads[i, j] = 0.0
        for s in range(rows):
            for i in range(n_in):
                a_si = a[s, i]
                for j in range(n_out):
                    weight_grads[i, j] += a_si * deltas[s, j]
    for j in range(n_out):
        bias_grads[j] = 0.0
    for s in range(rows):
        for j in range(n_out):
            bias_grads[j] += deltas[s, j]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def backpropagate(
    deltas: np.ndarray, w: np.ndarray, kind: int, z_below: np.ndarray, a_below: np.ndarray, deltas_below: np.ndarray
) -> None:
    """The chain rule through one layer: δ_below_si = f′(z_below_si)·Σ_j δ_sj·w_ij, where f is
    the layer below's activation `kind`; deltas_below (rows, n_in)."""
    rows, n_out = deltas.shape
    n_in = w.shape[0]
    if rows * n_in * n_out >= BLAS_MIN_WORK:
        np.dot(deltas, w.T, deltas_below)  # ∂L/∂a_below
    else:
        for s in range(rows):
            for i in range(n_in):
                total = 0.0
                for j in range(n_out):
                    total += deltas[s, j] * w[i, j]
                deltas_below[s, i] = total  # ∂L/∂a_below_si
    multiply_by_slopes(kind, z_below, a_below, deltas_below)
