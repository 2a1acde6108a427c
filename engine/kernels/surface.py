"""A 2-D slice of the data loss through parameter space, batched over the grid's points.

Every point (α, β) of the grid is the network at θ(α, β) = θ₀ + α·d₁ + β·d₂ (θ₀ the centre, d₁
and d₂ two directions laid out like θ); its value is the mean data loss over the rows. The
maths is the other kernels' (`passes.layer_forward`, `losses.sample_losses`, `losses.mean`),
so the centre gives the very bits of an evaluation at θ₀. Two facts make a point cheaper than
a whole forward pass:

- **The prefix is fixed.** Layers below the first one a direction moves (`first`) compute the
  same activations at every point: they are computed once (`slice_prefix`).
- **The first moving layer is linear in (α, β).** With a fixed input `below`,

      z(α, β) = below·(W + α·D₁ + β·D₂) + (b + α·e₁ + β·e₂) = z₀ + α·u + β·v

  where z₀ = below·W + b, u = below·D₁ + e₁ and v = below·D₂ + e₂ are computed once; each point
  then costs two multiply-adds per value of that layer instead of n_in.

The layers above it are computed point by point with their moved weights. `slice_losses` does
the points `start … stop − 1` of the flattened grid, so threads can share one slice (the
kernels release the GIL); each thread brings its own buffers.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.activations import activate
from backprop_lab.engine.kernels.codes import ACTIVATION, BIASES_AT, CLASSIFY, LOSS, N_IN, N_OUT, WEIGHTS_AT
from backprop_lab.engine.kernels.layers import dense_forward
from backprop_lab.engine.kernels.losses import mean, output_activation, sample_losses
from backprop_lab.engine.kernels.passes import block, forward_pass, layer_biases, layer_forward, layer_weights


@njit(cache=True, nogil=True, error_model="numpy")
def first_moving_layer(layout: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> int:
    """The lowest layer whose weights or biases either direction moves (the output layer if
    neither moves anything: a flat slice)."""
    for layer in range(layout.shape[0]):
        w_start = layout[layer, WEIGHTS_AT]
        w_stop = w_start + layout[layer, N_IN] * layout[layer, N_OUT]
        b_start = layout[layer, BIASES_AT]
        b_stop = b_start + layout[layer, N_OUT]
        for p in range(w_start, w_stop):
            if d1[p] != 0.0 or d2[p] != 0.0:
                return layer
        for p in range(b_start, b_stop):
            if d1[p] != 0.0 or d2[p] != 0.0:
                return layer
    return layout.shape[0] - 1


@njit(cache=True, nogil=True, error_model="numpy")
def slice_prefix(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, d1: np.ndarray, d2: np.ndarray, inputs: np.ndarray,
    first: int, z_buffer: np.ndarray, a_buffer: np.ndarray, z0: np.ndarray, u: np.ndarray, v: np.ndarray,
) -> None:
    """What every grid point shares: a forward pass at θ₀ (the layers below `first` stay in the
    buffers' blocks), and the first moving layer's z₀ = below·W + b, u = below·D₁ + e₁,
    v = below·D₂ + e₂, each (rows, n_out of `first`)."""
    rows = inputs.shape[0]
    forward_pass(layout, codes, theta, inputs, rows, z_buffer, a_buffer)
    below = inputs if first == 0 else block(a_buffer, layout, first - 1, rows, rows)
    dense_forward(below, layer_weights(theta, layout, first), layer_biases(theta, layout, first), z0)
    dense_forward(below, layer_weights(d1, layout, first), layer_biases(d1, layout, first), u)
    dense_forward(below, layer_weights(d2, layout, first), layer_biases(d2, layout, first), v)


@njit(cache=True, nogil=True, error_model="numpy")
def slice_losses(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, d1: np.ndarray, d2: np.ndarray, targets: np.ndarray,
    first: int, z0: np.ndarray, u: np.ndarray, v: np.ndarray, alphas: np.ndarray, betas: np.ndarray, start: int,
    stop: int, z_buffer: np.ndarray, a_buffer: np.ndarray, losses: np.ndarray, moved: np.ndarray, out: np.ndarray,
) -> None:
    """out[p] = the mean data loss at θ₀ + alphas[p]·d₁ + betas[p]·d₂ for p in start … stop − 1.

    z₀, u and v come from `slice_prefix` and are only read, so threads share them; `z_buffer`,
    `a_buffer` (for rows = targets.shape[0]), `losses` (rows,) and `moved` (P, scratch for the
    moved parameters of the layers above `first`) are each caller's own."""
    rows = targets.shape[0]
    output = layout.shape[0] - 1
    z_first = block(z_buffer, layout, first, rows, rows)
    a_first = block(a_buffer, layout, first, rows, rows)
    n_first = layout[first, N_OUT]
    for p in range(start, stop):
        alpha = alphas[p]
        beta = betas[p]
        for s in range(rows):
            for j in range(n_first):
                z_first[s, j] = z0[s, j] + alpha * u[s, j] + beta * v[s, j]
        if first == output:
            output_activation(codes[CLASSIFY], z_first, a_first)
        else:
            activate(codes[ACTIVATION], z_first, a_first)
            for layer in range(first + 1, output + 1):
                w_start = layout[layer, WEIGHTS_AT]
                for q in range(w_start, w_start + layout[layer, N_IN] * layout[layer, N_OUT]):
                    moved[q] = theta[q] + alpha * d1[q] + beta * d2[q]
                b_start = layout[layer, BIASES_AT]
                for q in range(b_start, b_start + layout[layer, N_OUT]):
                    moved[q] = theta[q] + alpha * d1[q] + beta * d2[q]
                layer_forward(layout, codes, moved, layer, block(a_buffer, layout, layer - 1, rows, rows),
                              block(z_buffer, layout, layer, rows, rows), block(a_buffer, layout, layer, rows, rows))
        sample_losses(codes[LOSS], block(z_buffer, layout, output, rows, rows),
                      block(a_buffer, layout, output, rows, rows), targets, losses)
        out[p] = mean(losses)
