"""Training steps: many mini-batch updates inside one compiled call.

A step takes the next `batch_size` rows of the epoch's order (the last batch of an epoch takes
what is left), computes the gradient of the objective on them (`passes.objective_gradient`) and
applies the optimiser's update (`optimizers.apply_update`), which refuses a non-finite result.
`train` repeats that up to `max_steps` times and returns at the end of an epoch, where the
caller draws the next epoch's order from its random generator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.kernels.codes import EPOCH, POSITION, STEP
from engine.kernels.optimizers import ACCEPTED, apply_update
from engine.kernels.passes import objective_gradient

BUDGET_SPENT, EPOCH_ENDED = 10, 11  # how `train` returned, besides optimizers.LOSS_/WEIGHTS_DIVERGED


@njit(cache=True, nogil=True)
def gather_batch(
    inputs: np.ndarray, targets: np.ndarray, order: np.ndarray, start: int, stop: int, x_batch: np.ndarray,
    y_batch: np.ndarray,
) -> None:
    """Rows order[start:stop] of the split into the first stop − start rows of the batch buffers."""
    for s in range(stop - start):
        row = order[start + s]
        for i in range(inputs.shape[1]):
            x_batch[s, i] = inputs[row, i]
        for k in range(targets.shape[1]):
            y_batch[s, k] = targets[row, k]


@njit(cache=True, nogil=True)
def finish_step(counters: np.ndarray, stop: int, n_train: int) -> bool:
    """Counts the step and moves through the epoch; True when the epoch just ended."""
    counters[STEP] += 1
    if stop >= n_train:
        counters[EPOCH] += 1
        counters[POSITION] = 0
        return True
    counters[POSITION] = stop
    return False


@njit(cache=True, nogil=True)
def train(
    max_steps: int, order: np.ndarray, batch_size: int, layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray,
    theta: np.ndarray, moments: np.ndarray, pending: np.ndarray, counters: np.ndarray, inputs: np.ndarray,
    targets: np.ndarray, x_batch: np.ndarray, y_batch: np.ndarray, z_buffer: np.ndarray,
    a_buffer: np.ndarray, d_buffer: np.ndarray, losses: np.ndarray, gradient: np.ndarray, update: np.ndarray,
    last_gradient: np.ndarray, last_update: np.ndarray, last_losses: np.ndarray,
) -> int:
    """Up to `max_steps` steps; stops early at the end of the epoch (EPOCH_ENDED) or at a step
    that would diverge (its weights and optimiser state untouched). After each accepted step
    `last_gradient`, `last_update` and `last_losses` (data loss, objective) hold its numbers."""
    n_train = order.shape[0]
    capacity = x_batch.shape[0]
    for _ in range(max_steps):
        start = counters[POSITION]
        stop = min(start + batch_size, n_train)
        rows = stop - start
        gather_batch(inputs, targets, order, start, stop, x_batch, y_batch)
        data_loss, objective = objective_gradient(layout, codes, hyper, theta, x_batch[:rows], y_batch[:rows],
                                                  capacity, z_buffer, a_buffer, d_buffer, losses, gradient)
        status = apply_update(codes, hyper, data_loss, gradient, theta, moments, pending, update, counters)
        if status != ACCEPTED:
            return status
        last_gradient[:] = gradient
        last_update[:] = update
        last_losses[0] = data_loss
        last_losses[1] = objective
        if finish_step(counters, stop, n_train):
            return EPOCH_ENDED
    return BUDGET_SPENT
