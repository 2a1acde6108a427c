"""The trainer: mini-batch gradient descent over a data set.

A step takes the next mini-batch of the shuffled training split, runs the forward pass, the
loss, the backward pass (gradients of the objective) and one optimiser update. An epoch is
one pass over the shuffled split; its last batch takes what is left. The steps run inside the
compiled kernels (`backprop_lab.engine.kernels.training.train`): one call trains through as many epochs as
the trainer has drawn orders for ahead (`epochs_ahead`), then it draws the next ones.
Everything random comes from one `numpy.random.Generator` seeded by `config.seed`, drawn in a
fixed order (data, initial weights, then one permutation per epoch, drawn ahead in that same
sequence), so the same config and seed give bit-identical
weights after the same number of steps however the steps are split into calls — untraced,
traced (`traced_step`) or phase by phase (`backprop_lab.engine.phases.PhaseWalk`), which all run the same
kernels in the same order.
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Callable
from typing import cast

import numpy as np

from backprop_lab.engine.choices import hyperparameters, training_codes
from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import Dataset, make_dataset
from backprop_lab.engine.kernels import codes as slot
from backprop_lab.engine.kernels.optimizers import ACCEPTED, LOSS_DIVERGED, apply_update
from backprop_lab.engine.kernels.passes import objective_gradient, objective_penalty
from backprop_lab.engine.kernels.training import (
    BUDGET_SPENT,
    ORDERS_USED,
    SNAPSHOTS_FULL,
    TIME_UP,
    finish_step,
    gather_batch,
    train,
    train_keeping_gil,
)
from backprop_lab.engine.losses import Loss, get_loss
from backprop_lab.engine.network import Network
from backprop_lab.engine.optimizers import OptimizerState
from backprop_lab.engine.tabular import Table
from backprop_lab.engine.trace import LayerTrace, StepTrace
from backprop_lab.engine.trainer_state import TrainerState, check_state
from backprop_lab.engine.validation import resolve_loss, validate_config
from backprop_lab.engine.workspace import Workspace

# called with their arguments bound once (`_bind_kernel`)
_train_kernel = cast(Callable[..., int], train)
_train_kernel_keeping_gil = cast(Callable[..., int], train_keeping_gil)
ORDER_ROWS_AHEAD = 16_384  # epoch orders are drawn ahead in batches of about this many rows in all
SNAPSHOT_FLOATS = 262_144  # the snapshot buffer holds about this many numbers (at most 64 copies of θ)


def epochs_ahead(n_train: int) -> int:
    """How many epochs' orders to draw at once: 64 for a split of 250 rows, 1 for big splits."""
    return max(1, min(64, ORDER_ROWS_AHEAD // n_train))


def _smoothed(smoothed: float, measured: float) -> float:
    """A running estimate moved 30 % of the way to a new measurement (0: none yet)."""
    return measured if smoothed == 0.0 else smoothed + 0.3 * (measured - smoothed)


class Diverged(Exception):
    """Training produced a non-finite loss or weight. The weights and the optimiser are left as
    they were before the step that failed."""

    def __init__(self, step: int, cause: str, learning_rate: float):
        self.step = step  # the step that would have produced the non-finite value
        self.cause = cause  # "loss" or "weights"
        self.learning_rate = learning_rate
        what = "the loss" if cause == "loss" else "a weight"
        super().__init__(
            f"{what} became infinite or NaN at step {step}: the learning rate {learning_rate:g} is "
            "probably too high for this network; the weights from before that step are kept"
        )


class Trainer:
    """Owns a data set, a network, an optimiser's state and the position in the epoch."""

    def __init__(self, config: Config, table: Table | None = None):
        self._table = table
        config = resolve_loss(config, table)
        validate_config(config, table)
        self.generation = 0  # counts re-initialisations, so a stale phase walk can tell
        self._seconds_per_step = 0.0  # measured by `train_for`, smoothed; 0 = not yet known
        # the same in this thread's CPU time, which waits for the GIL do not inflate (`_brief`)
        self._cpu_seconds_per_step = 0.0
        self._build(config)

    # --- building and live changes -------------------------------------------------------
    def _build(self, config: Config) -> None:
        self.config = config
        self._rng = np.random.default_rng(config.seed)
        self.dataset: Dataset = make_dataset(config, self._rng, self._table)
        sizes = (self.dataset.n_inputs, *config.hidden_layers, self.dataset.n_outputs)
        classify = not self.dataset.is_regression
        self.network = Network.initialised(sizes, config.activation, classify, config.init, self._rng)
        self.initial_parameters = self.network.parameters.copy()  # (P,)
        layout = self.network.layout
        size = layout.size
        self.counters = np.zeros(slot.N_COUNTERS, dtype=np.int64)  # step, epoch, position, optimiser steps
        self.optimizer = OptimizerState(config.optimizer, size)
        self._apply_choices(config)
        self._draw_orders()
        # A step writes its gradient and update into the row that does not hold the last accepted
        # step's and, once accepted, counters[LAST] points at it: a refused (diverging) step
        # never touches the last one's numbers, and nothing is copied.
        self._gradients = np.zeros((2, size))  # (2, P) ∂objective/∂θ
        self._updates = np.zeros((2, size))  # (2, P) Δθ
        self.last_losses = np.zeros(2)  # data loss and objective of the last step's batch, before its update
        self._gradient_views = [layout.views(row) for row in self._gradients]
        self._update_views = [layout.views(row) for row in self._updates]
        rows = max(1, min(64, SNAPSHOT_FLOATS // size))
        self._snapshots = np.zeros((rows, size))  # (R, P) θ after the steps asked for by `snapshot_every`
        self._snapshot_steps = np.zeros(rows, dtype=np.int64)  # (R,)
        self._taken: list[tuple[int, np.ndarray]] = []
        self._allocate_batch()

    def _apply_choices(self, config: Config) -> None:
        """The kernels' codes and rates for `config` (already checked by `validate_config`)."""
        assert config.loss is not None  # resolve_loss named it
        self.loss: Loss = get_loss(config.loss)
        self.codes = training_codes(self.network.activation, self.network.classify, config.loss,
                                    config.regularization, config.optimizer)  # (N_CODES,)
        self.hyper = hyperparameters(config.learning_rate, config.momentum,
                                     config.regularization_rate)  # (N_HYPER,)

    def _allocate_batch(self) -> None:
        """Buffers for one batch: its rows, targets, and every layer's z, a and δ."""
        capacity = self.batch_size
        self.workspace = Workspace(self.network.layout, capacity)
        self._x_batch = np.zeros((capacity, self.dataset.n_inputs))  # (batch, n_inputs)
        self._y_batch = np.zeros((capacity, self.dataset.n_outputs))  # (batch, K)
        self._bind_kernel()

    def _bind_kernel(self) -> None:
        """The arguments of the training kernel after (max_steps, orders), gathered once: a small
        network's step costs about as much as a few dozen Python attribute look-ups."""
        train_split, workspace = self.dataset.train, self.workspace
        self._kernel_arguments = (
            self.config.batch_size, self.network.layout.table, self.codes, self.hyper, self.network.parameters,
            self.optimizer.moments, self.optimizer.pending, self.counters, train_split.inputs, train_split.targets,
            self._x_batch, self._y_batch, workspace.z_buffer, workspace.a_buffer, workspace.d_buffer,
            workspace.losses, self._gradients, self._updates, self.last_losses, self._snapshots, self._snapshot_steps,
        )

    def _draw_orders(self) -> None:
        """Draws the orders of the next epochs of the training split, one permutation per epoch,
        in the sequence the epochs will use them (so the draws do not depend on how far ahead)."""
        n_train = self.dataset.train.size
        # Row by row, the same draws as one `permutation(n_train)` per epoch, in half the time.
        rows = np.tile(np.arange(n_train), (epochs_ahead(n_train), 1))
        self._orders = self._rng.permuted(rows, axis=1)  # (E, n)
        self.counters[slot.ORDER] = 0

    @property
    def order(self) -> np.ndarray:
        """(n_train,) the current epoch's order: rows of the training split. Replaced, never
        mutated, when new orders are drawn, so views of it stay valid."""
        return self._orders[self.counters[slot.ORDER]]

    def reconfigure(self, config: Config) -> bool:
        """Applies a changed config. Data, architecture, init or seed changes rebuild everything
        from the seed (returns True); hyperparameter changes keep the weights (returns False)."""
        config = resolve_loss(config, self._table)
        validate_config(config, self._table)
        if self.config.needs_reinitialise(config):
            self.generation += 1
            self._build(config)
            return True
        if config.optimizer != self.config.optimizer:
            self.optimizer = OptimizerState(config.optimizer, self.network.layout.size)
            self.counters[slot.OPTIMIZER_STEPS] = 0
        self._apply_choices(config)
        resized = min(config.batch_size, self.dataset.train.size) > self.workspace.capacity
        self.config = config
        if resized:
            self._allocate_batch()
        else:
            self._bind_kernel()
        return False

    def reset(self) -> None:
        """Back to step 0 with the initial weights of this config and seed."""
        self.generation += 1
        self._build(self.config)

    def set_parameters(self, parameters: np.ndarray) -> None:
        """Replaces every weight and bias (flat layout); refuses non-finite values."""
        parameters = np.asarray(parameters, dtype=np.float64)
        if parameters.shape != self.network.parameters.shape:
            raise ValueError(f"expected {self.network.parameters.size} parameters, got {parameters.shape}")
        if not np.isfinite(parameters).all():
            raise ValueError("parameters must be finite numbers")
        self.network.parameters[:] = parameters

    # --- saving and resuming ---------------------------------------------------------------
    def export_state(self) -> TrainerState:
        """Copies of everything training has changed (see `backprop_lab.engine.trainer_state`): with the
        config, enough to resume bit for bit (`from_state`)."""
        counters = self.counters
        return TrainerState(
            self.config, self.network.parameters.copy(), self.optimizer.moments.copy(), int(counters[slot.STEP]),
            int(counters[slot.EPOCH]), int(counters[slot.POSITION]), int(counters[slot.OPTIMIZER_STEPS]),
            int(counters[slot.ORDER]), self._orders.copy(), dict(self._rng.bit_generator.state),
        )

    @classmethod
    def from_state(cls, state: TrainerState, table: Table | None = None) -> Trainer:
        """A trainer that carries on where `state` stood: its data and initial weights rebuilt
        from the config's seed, then the weights, optimiser memory, counters, epoch orders and
        random generator of `state`. Raises `ValueError` (a `StateError` naming the field) when
        the state does not fit the config."""
        trainer = cls(state.config, table)
        checked = check_state(state, trainer.network.layout.size, trainer.dataset.train.size)
        trainer.network.parameters[:] = checked.parameters
        trainer.optimizer.moments[:] = checked.moments
        counters = trainer.counters
        counters[slot.STEP] = checked.step
        counters[slot.EPOCH] = checked.epoch
        counters[slot.POSITION] = checked.position
        counters[slot.OPTIMIZER_STEPS] = checked.optimizer_steps
        counters[slot.ORDER] = checked.order_index
        trainer._orders = checked.orders
        trainer._rng.bit_generator.state = checked.rng_state
        return trainer

    def copy(self) -> Trainer:
        """An independent trainer in exactly this state: the same weights, optimiser memory,
        step, epoch, position in the epoch, drawn epoch orders and generator state, so both
        train on to bit-identical weights. The data set is shared (it is never written)."""
        twin = Trainer.__new__(Trainer)
        twin._table = self._table
        twin.generation = self.generation
        twin._seconds_per_step = self._seconds_per_step
        twin._cpu_seconds_per_step = self._cpu_seconds_per_step
        twin.config = self.config
        twin._rng = copy.deepcopy(self._rng)
        twin.dataset = self.dataset
        twin.network = self.network.copy()
        twin.initial_parameters = self.initial_parameters.copy()  # (P,)
        twin.counters = self.counters.copy()
        twin.optimizer = OptimizerState(self.optimizer.name, self.network.layout.size)
        twin.optimizer.moments[...] = self.optimizer.moments  # (2, P)
        twin.optimizer.pending[...] = self.optimizer.pending  # (2, P)
        twin._apply_choices(self.config)
        twin._orders = self._orders.copy()  # (E, n)
        twin._gradients = self._gradients.copy()  # (2, P)
        twin._updates = self._updates.copy()  # (2, P)
        twin.last_losses = self.last_losses.copy()
        layout = twin.network.layout
        twin._gradient_views = [layout.views(row) for row in twin._gradients]
        twin._update_views = [layout.views(row) for row in twin._updates]
        twin._snapshots = np.zeros_like(self._snapshots)  # (R, P)
        twin._snapshot_steps = np.zeros_like(self._snapshot_steps)  # (R,)
        twin._taken = [(step, parameters.copy()) for step, parameters in self._taken]
        twin._allocate_batch()
        return twin

    # --- where training stands -----------------------------------------------------------
    @property
    def step_count(self) -> int:
        return int(self.counters[slot.STEP])

    @property
    def epoch(self) -> int:
        """Completed epochs."""
        return int(self.counters[slot.EPOCH])

    @property
    def last_gradient(self) -> np.ndarray:
        """(P,) ∂objective/∂θ of the last accepted step (zeros before the first)."""
        return self._gradients[self.counters[slot.LAST]]

    @property
    def last_update(self) -> np.ndarray:
        """(P,) Δθ the last accepted step applied."""
        return self._updates[self.counters[slot.LAST]]

    @property
    def batch_size(self) -> int:
        """The effective batch size: above the split's size it is the whole split."""
        return min(self.config.batch_size, self.dataset.train.size)

    def batch_bounds(self) -> tuple[int, int]:
        """Where the next batch starts and stops in the epoch's `order`."""
        start = int(self.counters[slot.POSITION])
        return start, min(start + self.config.batch_size, self.order.shape[0])

    def batch(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the inputs (n, n_inputs) and targets (n, K) of order[start:stop], gathered
        by the same kernel the steps use."""
        train = self.dataset.train
        inputs = np.zeros((stop - start, self.dataset.n_inputs))  # (n, n_inputs)
        targets = np.zeros((stop - start, self.dataset.n_outputs))  # (n, K)
        gather_batch(train.inputs, train.targets, self.order, start, stop, inputs, targets)
        return inputs, targets

    def step_seconds(self, repeats: int = 3) -> float:
        """About how long one step takes here: measured by `train_for` while training (smoothed),
        else the fastest of a few forward and backward passes over the next batch — what a step
        computes but its update — which change nothing a caller can see."""
        if self._seconds_per_step > 0.0:
            return self._seconds_per_step
        start, stop = self.batch_bounds()
        inputs, targets = self.batch(start, stop)
        workspace = Workspace(self.network.layout, stop - start)
        gradient = np.zeros(self.network.layout.size)  # (P,) thrown away
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            objective_gradient(self.network.layout.table, self.codes, self.hyper, self.network.parameters, inputs,
                               targets, stop - start, workspace.z_buffer, workspace.a_buffer, workspace.d_buffer,
                               workspace.losses, gradient)
            best = min(best, time.perf_counter() - started)
        return best

    def penalty(self) -> float:
        """The regularisation term of the objective at the current weights."""
        return float(objective_penalty(self.network.layout.table, self.codes, self.hyper, self.network.parameters))

    # --- training ------------------------------------------------------------------------
    def _diverged(self, status: int) -> Diverged:
        return Diverged(self.step_count + 1, "loss" if status == LOSS_DIVERGED else "weights",
                        self.config.learning_rate)

    def _train(self, steps: int) -> None:
        """`steps` steps (fewer when counters[DEADLINE] passes) in as few compiled calls as the
        epochs allow. Raises `Diverged`."""
        counters, arguments = self.counters, self._kernel_arguments
        target = int(counters[slot.STEP]) + steps
        while counters[slot.STEP] < target:
            kernel = _train_kernel_keeping_gil if self._brief(target - int(counters[slot.STEP])) else _train_kernel
            status = kernel(target - int(counters[slot.STEP]), self._orders, *arguments)
            if counters[slot.SNAPSHOTS]:
                self._keep_snapshots()
            if status == ORDERS_USED:
                self._draw_orders()
            elif status == TIME_UP:
                return
            elif status not in (BUDGET_SPENT, SNAPSHOTS_FULL):
                raise self._diverged(status)

    def _brief(self, steps: int) -> bool:
        """Whether `steps` steps (or the time to counters[DEADLINE], if sooner) are expected to
        take no longer than the interpreter's switch interval: then the call keeps the GIL
        (`train_keeping_gil`), since no other thread would wait for it longer than it waits
        for Python code anyway, and this one saves giving it away and waiting to get it back.
        The steps' time is measured in CPU time: the wall time of a call that gave the GIL away
        holds the wait for it, and an estimate from it would keep every call long. Unknown step
        times (nothing measured yet) give it away."""
        if self._cpu_seconds_per_step == 0.0:
            return False
        seconds = steps * self._cpu_seconds_per_step
        deadline = int(self.counters[slot.DEADLINE])
        if deadline:
            seconds = min(seconds, (deadline - time.monotonic_ns()) / 1e9)
        return seconds <= sys.getswitchinterval()

    def _keep_snapshots(self) -> None:
        kept = int(self.counters[slot.SNAPSHOTS])
        self._taken.extend(zip(self._snapshot_steps[:kept].tolist(), self._snapshots[:kept].copy(), strict=True))
        self.counters[slot.SNAPSHOTS] = 0

    def snapshot_every(self, steps: int) -> None:
        """From now on, keep a copy of θ after every step whose count is a multiple of `steps`
        (0: none), taken inside the compiled loop so training need not stop for it; hand them
        over with `take_snapshots`. A session's trajectory (the path on the loss surface) uses it."""
        if steps < 0:
            raise ValueError(f"steps must be 0 or more, not {steps}")
        self.counters[slot.SNAPSHOT_EVERY] = steps

    def take_snapshots(self) -> list[tuple[int, np.ndarray]]:
        """(step, θ (P,)) of every snapshot kept since the last call, oldest first."""
        taken, self._taken = self._taken, []
        return taken

    def step(self, steps: int = 1) -> None:
        """Trains `steps` steps. Raises `Diverged` at the step whose loss or weights would be
        non-finite, after the steps before it."""
        if steps > 0:
            self._train(steps)

    def train_for(self, max_steps: int, deadline: float) -> int:
        """Trains until `max_steps` steps or until `time.perf_counter()` passes `deadline`;
        returns the steps taken (at least one when max_steps ≥ 1). Raises `Diverged`.

        The compiled loop reads the clock itself and stops after the step that ends past the
        deadline, so one call trains the whole time (and takes the GIL back once)."""
        if max_steps < 1:
            return 0
        start, started, cpu_started = self.step_count, time.perf_counter(), time.thread_time()
        # The kernel's clock (`lowlevel.clock`) is Python's monotonic clock, read here without a
        # compiled call (each one gives the GIL away and waits to get it back).
        self.counters[slot.DEADLINE] = time.monotonic_ns() + max(0, int((deadline - started) * 1e9))
        try:
            self._train(max_steps)
        finally:
            self.counters[slot.DEADLINE] = 0
            taken = self.step_count - start
            if taken:
                self._seconds_per_step = _smoothed(self._seconds_per_step, (time.perf_counter() - started) / taken)
                self._cpu_seconds_per_step = _smoothed(self._cpu_seconds_per_step,
                                                       (time.thread_time() - cpu_started) / taken)
        return self.step_count - start

    def traced_step(self) -> StepTrace:
        """One step that also returns everything it computed (see `StepTrace`)."""
        start, stop = self.batch_bounds()
        order = self.order  # replaced, never mutated, when orders are drawn: the view stays valid
        rows = stop - start
        self._train(1)
        last = self.counters[slot.LAST]
        layers = list(map(LayerTrace, *zip(*self.workspace.layers(rows), strict=True), *self._gradient_views[last],
                          *self._update_views[last]))
        labels = self.dataset.train.labels
        batch_indices = order[start:stop]
        return StepTrace(
            self.step_count, self.epoch, batch_indices, self._x_batch[:rows], self._y_batch[:rows],
            None if labels is None else labels[batch_indices], layers, float(self.last_losses[0]),
            float(self.last_losses[1]),
        )

    def apply_gradient(self, gradient: np.ndarray, batch_loss: float, objective: float, stop: int) -> None:
        """The update of a step whose gradient was computed elsewhere (a phase walk): the same
        kernels as the compiled step, in the same order. Raises `Diverged`."""
        scratch = 1 - int(self.counters[slot.LAST])
        status = apply_update(self.codes, self.hyper, objective, gradient, self.network.parameters,
                              self.optimizer.moments, self.optimizer.pending, self._updates[scratch], self.counters)
        if status != ACCEPTED:
            raise self._diverged(status)
        self._gradients[scratch] = gradient
        self.counters[slot.LAST] = scratch
        self.last_losses[:] = (batch_loss, objective)
        if finish_step(self.counters, stop, self._orders):
            self._draw_orders()
