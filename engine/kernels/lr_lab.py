"""The learning-rate lab's compiled part: the loss along one direction, many rates in one call.

    line[r] = L_data(θ − η_r·g)          for every rate η_r

Each moved θ is built exactly as an sgd update builds it (θ_p + (−η·g_p), `optimizers`), so the
loss at the current rate is, to the bit, the loss one full-batch sgd step would land on.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.codes import LOSS
from backprop_lab.engine.kernels.losses import mean, sample_losses
from backprop_lab.engine.kernels.passes import block, forward_pass


@njit(cache=True, nogil=True, error_model="numpy")
def line_losses(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, direction: np.ndarray, rates: np.ndarray,
    inputs: np.ndarray, targets: np.ndarray, moved: np.ndarray, z_buffer: np.ndarray, a_buffer: np.ndarray,
    losses: np.ndarray, out: np.ndarray,
) -> None:
    """out[r] = the mean data loss over the rows of `inputs` at θ − rates[r]·direction; `moved`
    (P,) is scratch, buffers are for all the rows. θ is not changed."""
    rows = inputs.shape[0]
    output = layout.shape[0] - 1
    size = theta.shape[0]
    for r in range(rates.shape[0]):
        rate = rates[r]
        for p in range(size):
            moved[p] = theta[p] + (-rate * direction[p])
        forward_pass(layout, codes, moved, inputs, rows, z_buffer, a_buffer)
        sample_losses(codes[LOSS], block(z_buffer, layout, output, rows, rows),
                      block(a_buffer, layout, output, rows, rows), targets, losses)
        out[r] = mean(losses)
