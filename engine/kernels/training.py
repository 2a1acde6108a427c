"""Training steps: many mini-batch updates inside one compiled call.

A step takes the next `batch_size` rows of the epoch's order (the last batch of an epoch takes
what is left), computes the gradient of the objective on them (`passes.objective_gradient`) and
applies the optimiser's update (`optimizers.apply_update`), which refuses a non-finite result.
`train` repeats that up to `max_steps` times, through as many epochs as the caller has drawn
orders for (`orders`, one row per epoch, drawn ahead from its random generator in the order the
epochs will use them); it returns when they are used up, and the caller draws the next ones. A
caller that trains for a while rather than for a number of steps sets a deadline
(`codes.DEADLINE`), and `train` reads the clock after every step (`clock`): few returns matter,
because each one takes the GIL back, which other threads may be holding. `train_keeping_gil` is
the same loop for calls too short to be worth giving the GIL away (see its docstring).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from backprop_lab.engine.kernels.codes import DEADLINE, EPOCH, LAST, ORDER, POSITION, SNAPSHOT_EVERY, SNAPSHOTS, STEP
from backprop_lab.engine.kernels.optimizers import ACCEPTED, apply_update
from backprop_lab.engine.kernels.passes import objective_gradient
from backprop_lab.engine.lowlevel.clock import monotonic_ns
from backprop_lab.engine.lowlevel.views import first_rows, row_of

BUDGET_SPENT, ORDERS_USED, SNAPSHOTS_FULL, TIME_UP = 10, 11, 12, 13  # how `train` returned, besides divergence


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
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


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def finish_step(counters: np.ndarray, stop: int, orders: np.ndarray) -> bool:
    """Counts the step and moves through the epoch (at its end, to the next order); True when
    every order drawn ahead is used up."""
    counters[STEP] += 1
    if stop < orders.shape[1]:
        counters[POSITION] = stop
        return False
    counters[EPOCH] += 1
    counters[POSITION] = 0
    counters[ORDER] += 1
    return counters[ORDER] == orders.shape[0]


@njit(cache=True, nogil=True, error_model="numpy")
def train(
    max_steps: int, orders: np.ndarray, batch_size: int, layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray,
    theta: np.ndarray, moments: np.ndarray, pending: np.ndarray, counters: np.ndarray, inputs: np.ndarray,
    targets: np.ndarray, x_batch: np.ndarray, y_batch: np.ndarray, z_buffer: np.ndarray,
    a_buffer: np.ndarray, d_buffer: np.ndarray, losses: np.ndarray, gradients: np.ndarray, updates: np.ndarray,
    last_losses: np.ndarray, snapshots: np.ndarray, snapshot_steps: np.ndarray,
) -> int:
    """Up to `max_steps` steps; stops early when the epoch orders are used up (ORDERS_USED),
    when the snapshot buffer is full (SNAPSHOTS_FULL), after the step that ends past
    counters[DEADLINE] (TIME_UP; so at least one step) or at a step that would diverge (its
    weights and optimiser state untouched). A step computes its gradient and update into the
    row of `gradients` and `updates` (2, P) that does not hold the last accepted step's; once
    accepted, counters[LAST] points at it (no copy) and `last_losses` holds its data loss and
    objective. After every step that is a multiple of counters[SNAPSHOT_EVERY] a row of
    `snapshots` (R, P) holds θ (the trajectory a loss surface draws), its step in
    `snapshot_steps` (R,)."""
    n_train = orders.shape[1]
    capacity = x_batch.shape[0]
    for _ in range(max_steps):
        order = row_of(orders, counters[ORDER])
        start = counters[POSITION]
        stop = min(start + batch_size, n_train)
        rows = stop - start
        gather_batch(inputs, targets, order, start, stop, x_batch, y_batch)
        scratch = 1 - counters[LAST]
        gradient, update = row_of(gradients, scratch), row_of(updates, scratch)
        x, y = first_rows(x_batch, rows), first_rows(y_batch, rows)
        data_loss, objective = objective_gradient(layout, codes, hyper, theta, x, y, capacity, z_buffer, a_buffer,
                                                  d_buffer, losses, gradient)
        status = apply_update(codes, hyper, objective, gradient, theta, moments, pending, update, counters)
        if status != ACCEPTED:
            return status
        counters[LAST] = scratch
        last_losses[0] = data_loss
        last_losses[1] = objective
        orders_used = finish_step(counters, stop, orders)
        if counters[SNAPSHOT_EVERY] > 0 and counters[STEP] % counters[SNAPSHOT_EVERY] == 0:
            kept = counters[SNAPSHOTS]
            snapshots[kept, :] = theta
            snapshot_steps[kept] = counters[STEP]
            counters[SNAPSHOTS] = kept + 1
        if orders_used:
            return ORDERS_USED
        if counters[SNAPSHOTS] == snapshots.shape[0]:
            return SNAPSHOTS_FULL
        if counters[DEADLINE] and monotonic_ns() >= counters[DEADLINE]:
            return TIME_UP
    return BUDGET_SPENT


@njit(cache=True, error_model="numpy")
def train_keeping_gil(
    max_steps: int, orders: np.ndarray, batch_size: int, layout: np.ndarray, codes: np.ndarray, hyper: np.ndarray,
    theta: np.ndarray, moments: np.ndarray, pending: np.ndarray, counters: np.ndarray, inputs: np.ndarray,
    targets: np.ndarray, x_batch: np.ndarray, y_batch: np.ndarray, z_buffer: np.ndarray,
    a_buffer: np.ndarray, d_buffer: np.ndarray, losses: np.ndarray, gradients: np.ndarray, updates: np.ndarray,
    last_losses: np.ndarray, snapshots: np.ndarray, snapshot_steps: np.ndarray,
) -> int:
    """`train`, holding the GIL while it runs. A call into `train` gives the GIL away and must get
    it back when it returns: with other threads running Python (frames, the event loop) the
    caller then waits for it, and every hand-over costs two thread switches. For a few steps
    (a session at a watchable pace trains ~5 steps, ~20 µs, a turn) that costs several times
    the steps themselves; holding the GIL for them delays the other threads no longer than any
    Python code does before the interpreter asks it to let go."""
    return train(max_steps, orders, batch_size, layout, codes, hyper, theta, moments, pending, counters, inputs,
                 targets, x_batch, y_batch, z_buffer, a_buffer, d_buffer, losses, gradients, updates, last_losses,
                 snapshots, snapshot_steps)
