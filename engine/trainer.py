"""The trainer: mini-batch gradient descent over a data set, one step at a time.

A step takes the next mini-batch of the shuffled training split, runs the forward pass, the
loss, the backward pass (gradients of the objective) and one optimiser update. An epoch is
one pass over the shuffled split; its last batch takes what is left. Everything random comes
from one `numpy.random.Generator` seeded by `config.seed`, drawn in a fixed order (data,
initial weights, then one permutation per epoch), so the same config and seed give
bit-identical weights after the same number of steps however the steps are split into calls.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

import numpy as np

from engine.config import Config
from engine.datasets import Dataset, make_dataset
from engine.losses import add_regularization_gradient, get_loss, regularization_penalty
from engine.network import Forward, Network
from engine.optimizers import Optimizer, make_optimizer
from engine.tabular import Table
from engine.trace import LayerTrace, StepTrace
from engine.validation import resolve_loss, validate_config

if TYPE_CHECKING:
    from engine.phases import PhaseWalk


_all = np.logical_and.reduce  # ndarray.all() without its Python wrapper (the step's hot path)


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
    """Owns a data set, a network, an optimiser and the position in the epoch."""

    def __init__(self, config: Config, table: Table | None = None):
        self._table = table
        config = resolve_loss(config, table)
        validate_config(config, table)
        self.generation = 0  # counts re-initialisations, so a stale phase walk can tell
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
        assert config.loss is not None  # resolve_loss named it
        self.loss = get_loss(config.loss)
        self.optimizer: Optimizer = make_optimizer(
            config.optimizer, config.learning_rate, config.momentum, self.network.layout.size
        )
        self.step_count = 0
        self.epoch = 0
        self._position = 0
        self._shuffle()
        size = self.network.layout.size
        # Gradient and update buffers come in pairs swapped when a step is accepted: the step
        # writes into the scratch ones, so a refused (diverging) step never touches the last.
        layout = self.network.layout
        self.last_gradient = np.zeros(size)  # (P,) gradient of the objective at the last step
        self._last_views = layout.views(self.last_gradient)
        self._scratch_gradient = np.zeros(size)  # (P,) written by the backward pass
        self._scratch_views = layout.views(self._scratch_gradient)
        self.last_update = np.zeros(size)  # (P,) Δθ the last step applied
        self._last_update_views = layout.views(self.last_update)
        self._scratch_update = np.zeros(size)  # (P,)
        self._scratch_update_views = layout.views(self._scratch_update)
        self._candidate = np.zeros(size)  # (P,) θ + Δθ before it is accepted

    def _shuffle(self) -> None:
        """Draws the next epoch's order and lays the split out in it, so batches are slices."""
        train = self.dataset.train
        self._order = self._rng.permutation(train.inputs.shape[0])  # (n_train,)
        self._epoch_inputs = train.inputs[self._order]  # (n_train, n_inputs)
        self._epoch_targets = train.targets[self._order]  # (n_train, K)
        self._epoch_labels = None if train.labels is None else train.labels[self._order]  # (n_train,) classes

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
            self.optimizer = make_optimizer(
                config.optimizer, config.learning_rate, config.momentum, self.network.layout.size
            )
        self.optimizer.learning_rate = config.learning_rate
        if hasattr(self.optimizer, "momentum"):
            self.optimizer.momentum = config.momentum
        assert config.loss is not None  # resolve_loss named it
        self.loss = get_loss(config.loss)
        self.config = config
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

    # --- training ------------------------------------------------------------------------
    @property
    def batch_size(self) -> int:
        """The effective batch size: above the split's size it is the whole split."""
        return min(self.config.batch_size, self.dataset.train.inputs.shape[0])

    def _batch_bounds(self) -> tuple[int, int]:
        start = self._position
        return start, min(start + self.config.batch_size, self._order.shape[0])

    def _objective_gradient(
        self, forward: Forward, output_deltas: np.ndarray, deltas_record: list[np.ndarray] | None = None
    ) -> None:
        """Backward pass into the scratch gradient, plus the regularisation term."""
        weight_grads, bias_grads = self._scratch_views
        self.network.backward(forward, output_deltas, weight_grads, bias_grads, deltas_record)
        config = self.config
        if config.regularization != "none":
            n_weights = self.network.n_weights
            add_regularization_gradient(
                self._scratch_gradient[:n_weights],
                self.network.parameters[:n_weights],
                config.regularization,
                config.regularization_rate,
            )

    def _apply_update(self, batch_loss: float, stop: int) -> None:
        """Proposes the optimiser's update from the scratch gradient and keeps it only when the
        loss and every new weight are finite; then moves through the epoch."""
        update = self.optimizer.propose(self._scratch_gradient, out=self._scratch_update)  # (P,)
        candidate = self._candidate
        np.add(self.network.parameters, update, out=candidate)
        if not math.isfinite(batch_loss):
            raise Diverged(self.step_count + 1, "loss", self.config.learning_rate)
        if not _all(np.isfinite(candidate)):
            raise Diverged(self.step_count + 1, "weights", self.config.learning_rate)
        self.optimizer.commit()
        self.network.parameters[:] = candidate
        self.last_update, self._scratch_update = update, self.last_update
        self._last_update_views, self._scratch_update_views = self._scratch_update_views, self._last_update_views
        self.last_gradient, self._scratch_gradient = self._scratch_gradient, self.last_gradient
        self._last_views, self._scratch_views = self._scratch_views, self._last_views
        self.step_count += 1
        self._position = stop
        if stop >= self._order.shape[0]:
            self.epoch += 1
            self._position = 0
            self._shuffle()

    def _one_step(
        self, deltas_record: list[np.ndarray] | None = None
    ) -> tuple[Forward, np.ndarray, np.ndarray | None, float, int, int]:
        """One step; returns (forward pass, batch targets, batch labels, batch loss, batch start, stop)."""
        start, stop = self._batch_bounds()
        inputs = self._epoch_inputs[start:stop]  # (n, n_inputs), a view
        targets = self._epoch_targets[start:stop]  # (n, K)
        labels = None if self._epoch_labels is None else self._epoch_labels[start:stop]  # (n,)
        network = self.network
        forward = network.forward(inputs)
        batch_loss, output_deltas = self.loss.mean_and_deltas(
            forward.pre_activations[-1], forward.activations[-1], targets, network.classify, labels
        )
        self._objective_gradient(forward, output_deltas, deltas_record)
        self._apply_update(batch_loss, stop)
        return forward, targets, labels, batch_loss, start, stop

    def step(self, steps: int = 1) -> None:
        """Trains `steps` steps. Raises `Diverged` at the step whose loss or weights would be
        non-finite, after the steps before it."""
        with np.errstate(all="ignore"):  # overflow is how divergence starts; it is caught, not warned
            for _ in range(steps):
                self._one_step()

    def train_for(self, max_steps: int, deadline: float) -> int:
        """Trains until `max_steps` steps or until `time.perf_counter()` passes `deadline`;
        returns the steps taken (at least one when max_steps ≥ 1). Raises `Diverged`."""
        done = 0
        with np.errstate(all="ignore"):
            while done < max_steps:
                self._one_step()
                done += 1
                if time.perf_counter() >= deadline:
                    break
        return done

    def traced_step(self) -> StepTrace:
        """One step that also returns everything it computed (see `StepTrace`)."""
        order = self._order  # replaced, never mutated, at the next shuffle: views stay valid
        penalty = self.penalty()
        deltas: list[np.ndarray] = []
        with np.errstate(all="ignore"):
            forward, targets, labels, batch_loss, start, stop = self._one_step(deltas)
        # per layer: z, a, δ, ∂W, ∂b (the accepted gradient), ΔW, Δb (the applied update)
        layers = list(
            map(LayerTrace, forward.pre_activations, forward.activations, deltas, *self._last_views,
                *self._last_update_views)
        )
        return StepTrace(
            self.step_count, self.epoch, order[start:stop], forward.inputs, targets, labels, layers, batch_loss,
            batch_loss + penalty,
        )

    def begin_phases(self) -> PhaseWalk:
        """A step taken phase by phase (see `engine.phases`)."""
        from engine.phases import PhaseWalk

        return PhaseWalk(self)

    # --- reading the current state -------------------------------------------------------
    def penalty(self) -> float:
        """The regularisation term of the objective at the current weights."""
        if self.config.regularization == "none":
            return 0.0
        weights = self.network.parameters[: self.network.n_weights]
        return regularization_penalty(weights, self.config.regularization, self.config.regularization_rate)

