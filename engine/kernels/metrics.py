"""Whole-split evaluation: one forward pass over every row, then the metrics.

    classification   the mean loss, accuracy (the share whose largest ŷ_k is the true class)
                     and the confusion matrix (row: true class, column: predicted class)
    regression       the mean loss, RMSE = √(mean (ŷ − y)²) and R² = 1 − Σ(ŷ − y)² / Σ(y − ȳ)²
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.codes import CLASSIFY, LOSS, N_OUT
from backprop_lab.engine.kernels.losses import mean, sample_losses
from backprop_lab.engine.kernels.passes import block, forward_pass


@njit(cache=True, nogil=True, error_model="numpy")
def largest_index(row: np.ndarray) -> int:
    """The k of the largest row[k] (the first of equals, like argmax)."""
    best = 0
    for k in range(1, row.shape[0]):
        if row[k] > row[best]:
            best = k
    return best


@njit(cache=True, nogil=True, error_model="numpy")
def evaluate(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, inputs: np.ndarray, targets: np.ndarray,
    z_buffer: np.ndarray, a_buffer: np.ndarray, losses: np.ndarray, confusion: np.ndarray,
) -> tuple[float, float, float]:
    """(loss, accuracy, nan) when classifying, with `confusion` (K, K) filled; (loss, rmse, r²)
    for regression. `inputs` (rows, n_inputs), `targets` (rows, K), buffers for `rows` rows."""
    rows = inputs.shape[0]
    output = layout.shape[0] - 1
    forward_pass(layout, codes, theta, inputs, rows, z_buffer, a_buffer)
    z = block(z_buffer, layout, output, rows, rows)
    y_hat = block(a_buffer, layout, output, rows, rows)
    sample_losses(codes[LOSS], z, y_hat, targets, losses)
    loss = mean(losses)
    if codes[CLASSIFY]:
        confusion[:, :] = 0
        correct = 0
        for s in range(rows):
            actual = largest_index(targets[s])
            predicted = largest_index(y_hat[s])
            confusion[actual, predicted] += 1
            if actual == predicted:
                correct += 1
        return loss, correct / rows, math.nan
    outputs = layout[output, N_OUT]
    squared_error = 0.0
    spread = 0.0
    for k in range(outputs):
        target_mean = 0.0
        for s in range(rows):
            target_mean += targets[s, k]
        target_mean /= rows
        for s in range(rows):
            residual = y_hat[s, k] - targets[s, k]
            squared_error += residual * residual
            deviation = targets[s, k] - target_mean
            spread += deviation * deviation
    rmse = math.sqrt(squared_error / (rows * outputs))
    r2 = 1.0 - squared_error / spread if spread > 0.0 else 0.0
    return loss, rmse, r2
