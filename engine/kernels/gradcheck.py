"""The gradient by central differences, to check backprop against (docs/engine.md):

    ∂objective/∂θ_p ≈ (objective(θ + h·e_p) − objective(θ − h·e_p)) / 2h

two forward passes per parameter, against backprop's one forward and one backward pass for all.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.codes import LOSS
from backprop_lab.engine.kernels.losses import mean, sample_losses
from backprop_lab.engine.kernels.passes import block, forward_pass, objective_penalty


@njit(cache=True, nogil=True, error_model="numpy")
def objective_value(
    layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray, theta: np.ndarray, inputs: np.ndarray,
    targets: np.ndarray, z_buffer: np.ndarray, a_buffer: np.ndarray, losses: np.ndarray,
) -> float:
    """Mean data loss over the rows + penalty, at θ (one forward pass)."""
    rows = inputs.shape[0]
    output = layout.shape[0] - 1
    forward_pass(layout, codes, theta, inputs, rows, z_buffer, a_buffer)
    sample_losses(codes[LOSS], block(z_buffer, layout, output, rows, rows), block(a_buffer, layout, output, rows, rows),
                  targets, losses)
    return mean(losses) + objective_penalty(layout, codes, hyper, theta)


@njit(cache=True, nogil=True, error_model="numpy")
def central_differences(
    layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray, theta: np.ndarray, inputs: np.ndarray,
    targets: np.ndarray, z_buffer: np.ndarray, a_buffer: np.ndarray, losses: np.ndarray, indices: np.ndarray,
    step: float, out: np.ndarray,
) -> None:
    """out[k] = the central difference for parameter indices[k]; θ is restored exactly."""
    for k in range(indices.shape[0]):
        p = indices[k]
        original = theta[p]
        theta[p] = original + step
        plus = objective_value(layout, codes, hyper, theta, inputs, targets, z_buffer, a_buffer, losses)
        theta[p] = original - step
        minus = objective_value(layout, codes, hyper, theta, inputs, targets, z_buffer, a_buffer, losses)
        theta[p] = original
        out[k] = (plus - minus) / (2.0 * step)
