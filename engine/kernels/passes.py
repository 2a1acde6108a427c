"""Whole passes through the network, built from `layers`, `losses` and `regularization`.

    forward     for l = 1 … L:   z_l = a_(l−1)·W_l + b_l,   a_l = f(z_l)   (a_0 = x; softmax or
                identity on the output layer)
    loss        each row's loss, their mean L, and δ_L = ∂L/∂z_L
    backward    for l = L … 1:   ∂L/∂W_l = a_(l−1)ᵀ·δ_l (+ the penalty's gradient),  ∂L/∂b_l = Σ δ_l,
                δ_(l−1) = f′(z_(l−1)) ⊙ (δ_l·W_lᵀ)

Every layer's z, a and δ are blocks of three flat buffers (see `block`), so the visualiser can
read what the step computed without copies. `theta` and `gradient` are flat: all weights,
then all biases (`layout` says where each layer's are).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.activations import activate, slopes
from backprop_lab.engine.kernels.codes import (
    ACTIVATION,
    BIASES_AT,
    CLASSIFY,
    LOSS,
    N_IN,
    N_OUT,
    REGULARIZATION,
    REGULARIZATION_RATE,
    UNITS_AT,
    WEIGHTS_AT,
)
from backprop_lab.engine.kernels.layers import backpropagate, dense_forward, dense_gradients
from backprop_lab.engine.kernels.losses import mean, output_activation, output_deltas, sample_losses
from backprop_lab.engine.kernels.regularization import add_penalty_gradient, penalty
from backprop_lab.engine.lowlevel.views import matrix_at, vector_at


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def block(buffer: np.ndarray, layout: np.ndarray, layer: int, rows: int, capacity: int) -> np.ndarray:
    """Layer `layer`'s (rows, n_out) block of a z, a or δ buffer made for `capacity` rows."""
    return matrix_at(buffer, capacity * layout[layer, UNITS_AT], rows, layout[layer, N_OUT])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def layer_weights(theta: np.ndarray, layout: np.ndarray, layer: int) -> np.ndarray:
    """W_l (n_in, n_out), a view into θ (or into a gradient laid out like θ)."""
    return matrix_at(theta, layout[layer, WEIGHTS_AT], layout[layer, N_IN], layout[layer, N_OUT])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def layer_biases(theta: np.ndarray, layout: np.ndarray, layer: int) -> np.ndarray:
    """b_l (n_out,), a view into θ (or into a gradient laid out like θ)."""
    return vector_at(theta, layout[layer, BIASES_AT], layout[layer, N_OUT])


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def layer_forward(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, layer: int, below: np.ndarray, z: np.ndarray,
    a: np.ndarray,
) -> None:
    """One layer's z = a_below·W + b and a = f(z) (the output layer: softmax or identity)."""
    dense_forward(below, layer_weights(theta, layout, layer), layer_biases(theta, layout, layer), z)
    if layer == layout.shape[0] - 1:
        output_activation(codes[CLASSIFY], z, a)
    else:
        activate(codes[ACTIVATION], z, a)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def forward_pass(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, x: np.ndarray, capacity: int, z_buffer: np.ndarray,
    a_buffer: np.ndarray,
) -> None:
    """Every layer's z and a for the rows of x (rows, n_inputs), into the buffers' blocks."""
    rows = x.shape[0]
    layer_forward(layout, codes, theta, 0, x, block(z_buffer, layout, 0, rows, capacity),
                  block(a_buffer, layout, 0, rows, capacity))
    for layer in range(1, layout.shape[0]):
        layer_forward(layout, codes, theta, layer, block(a_buffer, layout, layer - 1, rows, capacity),
                      block(z_buffer, layout, layer, rows, capacity), block(a_buffer, layout, layer, rows, capacity))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def loss_and_deltas(
    codes: np.ndarray, z: np.ndarray, y_hat: np.ndarray, targets: np.ndarray, losses: np.ndarray, deltas: np.ndarray
) -> float:
    """Each row's loss into `losses` (rows,), δ = ∂L/∂z of the output layer into `deltas`;
    returns the mean loss L."""
    sample_losses(codes[LOSS], z, y_hat, targets, losses)
    output_deltas(codes[LOSS], codes[CLASSIFY], y_hat, targets, deltas)
    return mean(losses)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def layer_gradients(
    layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray, theta: np.ndarray, layer: int, below: np.ndarray,
    deltas: np.ndarray, gradient: np.ndarray,
) -> None:
    """∂objective/∂W_l and ∂objective/∂b_l into `gradient`'s blocks: the data part a_belowᵀ·δ and
    Σδ, plus the penalty's gradient on this layer's weights."""
    weight_grads = layer_weights(gradient, layout, layer)
    dense_gradients(below, deltas, weight_grads, layer_biases(gradient, layout, layer))
    start = layout[layer, WEIGHTS_AT]
    size = layout[layer, N_IN] * layout[layer, N_OUT]
    add_penalty_gradient(codes[REGULARIZATION], hyper[REGULARIZATION_RATE], vector_at(theta, start, size),
                         vector_at(gradient, start, size))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def layer_chain(
    layout: np.ndarray, codes: np.ndarray, theta: np.ndarray, layer: int, deltas: np.ndarray, z_below: np.ndarray,
    a_below: np.ndarray, deltas_below: np.ndarray,
) -> None:
    """δ of the layer below (layer ≥ 1) from this layer's δ, by the chain rule."""
    backpropagate(deltas, layer_weights(theta, layout, layer), codes[ACTIVATION], z_below, a_below, deltas_below)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def backward_pass(
    layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray, theta: np.ndarray, x: np.ndarray, capacity: int,
    z_buffer: np.ndarray, a_buffer: np.ndarray, d_buffer: np.ndarray, gradient: np.ndarray,
) -> None:
    """From the output layer's δ (already in its block) down to layer 1: every δ and the
    gradient of the objective."""
    rows = x.shape[0]
    for layer in range(layout.shape[0] - 1, 0, -1):
        deltas = block(d_buffer, layout, layer, rows, capacity)
        a_below = block(a_buffer, layout, layer - 1, rows, capacity)
        layer_gradients(layout, codes, hyper, theta, layer, a_below, deltas, gradient)
        layer_chain(layout, codes, theta, layer, deltas, block(z_buffer, layout, layer - 1, rows, capacity), a_below,
                    block(d_buffer, layout, layer - 1, rows, capacity))
    layer_gradients(layout, codes, hyper, theta, 0, x, block(d_buffer, layout, 0, rows, capacity), gradient)


@njit(cache=True, nogil=True, error_model="numpy")
def objective_penalty(layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray, theta: np.ndarray) -> float:
    """The regularisation term of the objective at θ (weights only: θ up to the first bias)."""
    return penalty(codes[REGULARIZATION], hyper[REGULARIZATION_RATE], vector_at(theta, 0, layout[0, BIASES_AT]))


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def objective_gradient(
    layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray, theta: np.ndarray, x: np.ndarray, targets: np.ndarray,
    capacity: int, z_buffer: np.ndarray, a_buffer: np.ndarray, d_buffer: np.ndarray, losses: np.ndarray,
    gradient: np.ndarray,
) -> tuple[float, float]:
    """Forward, loss and backward for the rows of x: (data loss L, objective L + penalty), with
    ∂objective/∂θ in `gradient` and every z, a, δ in the buffers. Nothing is updated."""
    rows = x.shape[0]
    forward_pass(layout, codes, theta, x, capacity, z_buffer, a_buffer)
    output = layout.shape[0] - 1
    data_loss = loss_and_deltas(codes, block(z_buffer, layout, output, rows, capacity),
                                block(a_buffer, layout, output, rows, capacity), targets, vector_at(losses, 0, rows),
                                block(d_buffer, layout, output, rows, capacity))
    backward_pass(layout, codes, hyper, theta, x, capacity, z_buffer, a_buffer, d_buffer, gradient)
    return data_loss, data_loss + objective_penalty(layout, codes, hyper, theta)


@njit(cache=True, nogil=True, error_model="numpy")
def hidden_slopes(
    layout: np.ndarray, codes: np.ndarray, rows: int, capacity: int, z_buffer: np.ndarray, a_buffer: np.ndarray,
    s_buffer: np.ndarray,
) -> None:
    """f′(z) of every hidden layer into the blocks of `s_buffer` (laid out like z); the output
    layer's block is left alone (softmax's slope is a Jacobian, not one number per neuron)."""
    for layer in range(layout.shape[0] - 1):
        slopes(codes[ACTIVATION], block(z_buffer, layout, layer, rows, capacity),
               block(a_buffer, layout, layer, rows, capacity), block(s_buffer, layout, layer, rows, capacity))
