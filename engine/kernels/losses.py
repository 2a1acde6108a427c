"""The output layer and the loss: softmax, per-sample losses and the output deltas.

"Loss", "cost" and "error" function name the same thing: how far the outputs ŷ are from the
ground truth y. Per sample (docs/engine.md):

    cross_entropy   −Σ_k y_k·log ŷ_k        ŷ = softmax(z) (classification)
    mse             ½·Σ_k (ŷ_k − y_k)²      ŷ = z (regression), or softmax(z)

The data loss L of a batch of n rows is the mean of the per-sample losses, and the backward
pass starts from the output deltas δ_sk = ∂L/∂z_sk:

    softmax + cross_entropy   δ_sk = (ŷ_sk − y_sk) / n          (the softmax Jacobian cancels)
    linear + mse              δ_sk = (ŷ_sk − y_sk) / n
    softmax + mse             δ_sk = ŷ_sk·(g_sk − Σ_m g_sm·ŷ_sm) / n   with g = ŷ − y
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

CROSS_ENTROPY, MSE = 0, 1


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def softmax(z: np.ndarray, y_hat: np.ndarray) -> None:
    """ŷ_sk = e^(z_sk − m_s) / Σ_k' e^(z_sk' − m_s), m_s the row's largest logit, so no e^z
    overflows (logits of ±1000 are fine)."""
    rows, classes = z.shape
    for s in range(rows):
        largest = z[s, 0]
        for k in range(1, classes):
            largest = max(largest, z[s, k])
        total = 0.0
        for k in range(classes):
            e = 1.0 if z[s, k] == largest else math.exp(z[s, k] - largest)  # e⁰ = 1 exactly, without a call
            y_hat[s, k] = e
            total += e
        for k in range(classes):
            y_hat[s, k] /= total


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def output_activation(classify: int, z: np.ndarray, y_hat: np.ndarray) -> None:
    """The output layer: softmax probabilities when classifying, the logits themselves otherwise."""
    if classify:
        softmax(z, y_hat)
    else:
        y_hat[:, :] = z


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def sample_losses(loss: int, z: np.ndarray, y_hat: np.ndarray, targets: np.ndarray, losses: np.ndarray) -> None:
    """Each row's own loss into `losses` (rows,), from the logits z and the outputs ŷ.

    Cross-entropy takes log ŷ_k as log-softmax, z_k − m − log Σ_k' e^(z_k' − m) with m the
    largest logit — finite however small ŷ_k is (e^−2000 underflows, −2000 does not). The sum
    is 1 + Σ_{k'≠a} e^(z_k' − m) for the largest logit's class a, and each e^(z_k' − m) is
    ŷ_k'/ŷ_a: so log Σ = log1p(Σ_{k'≠a} ŷ_k'/ŷ_a), accurate even when the network is sure (Σ
    within 1e-10 of 1) and with no exponential left to take."""
    rows, classes = z.shape
    for s in range(rows):
        if loss == CROSS_ENTROPY:
            a = 0
            for k in range(1, classes):
                if z[s, k] > z[s, a]:
                    a = k
            rest = 0.0  # Σ_{k≠a} ŷ_k / ŷ_a
            for k in range(classes):
                if k != a:
                    rest += y_hat[s, k]
            log_total = math.log1p(rest / y_hat[s, a])
            value = 0.0
            for k in range(classes):
                if targets[s, k] != 0.0:
                    value -= targets[s, k] * (z[s, k] - z[s, a] - log_total)
            losses[s] = value
        else:
            value = 0.0
            for k in range(classes):
                error = y_hat[s, k] - targets[s, k]
                value += error * error
            losses[s] = 0.5 * value


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def mean(values: np.ndarray) -> float:
    """Σ_s values_s / n, summed in order."""
    total = 0.0
    for s in range(values.shape[0]):
        total += values[s]
    return total / values.shape[0]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def output_deltas(loss: int, classify: int, y_hat: np.ndarray, targets: np.ndarray, deltas: np.ndarray) -> None:
    """δ_sk = ∂L/∂z_sk of the mean loss L over the rows (see the module docstring)."""
    rows, classes = y_hat.shape
    scale = 1.0 / rows
    for s in range(rows):
        if loss == MSE and classify:
            through = 0.0  # Σ_m g_m·ŷ_m, g = ∂loss/∂ŷ = ŷ − y
            for k in range(classes):
                through += (y_hat[s, k] - targets[s, k]) * y_hat[s, k]
            for k in range(classes):
                deltas[s, k] = y_hat[s, k] * ((y_hat[s, k] - targets[s, k]) - through) * scale
        else:
            for k in range(classes):
                deltas[s, k] = (y_hat[s, k] - targets[s, k]) * scale
