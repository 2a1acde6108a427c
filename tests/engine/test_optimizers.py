"""Optimisers follow PyTorch's update rules (docs/engine.md), step by step, by hand, and an update
that would diverge leaves the weights and the optimiser's state as they were."""

import numpy as np
import pytest

from backprop_lab.engine.choices import hyperparameters
from backprop_lab.engine.kernels import codes as slot
from backprop_lab.engine.kernels.optimizers import ACCEPTED, LOSS_DIVERGED, WEIGHTS_DIVERGED, apply_update
from backprop_lab.engine.optimizers import OPTIMIZER_KINDS, OptimizerState

GRADIENTS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.0, 0.0, 4.0])]


class Updates:
    """θ, the optimiser's state and counters of a 3-parameter model, updated by the kernel."""

    def __init__(self, name: str, learning_rate: float):
        self.state = OptimizerState(name, 3)
        self.codes = np.zeros(slot.N_CODES, dtype=np.int64)
        self.codes[slot.OPTIMIZER] = OPTIMIZER_KINDS[name].code
        self.hyper = hyperparameters(learning_rate, 0.9)
        self.theta = np.zeros(3)
        self.counters = np.zeros(slot.N_COUNTERS, dtype=np.int64)
        self.update = np.zeros(3)

    def apply(self, gradient: np.ndarray, loss: float = 1.0) -> int:
        return apply_update(self.codes, self.hyper, loss, gradient, self.theta, self.state.moments,
                            self.state.pending, self.update, self.counters)

    def run(self, gradients: list[np.ndarray]) -> list[np.ndarray]:
        updates = []
        for gradient in gradients:
            assert self.apply(gradient) == ACCEPTED
            updates.append(self.update.copy())
        return updates


def test_sgd_steps_against_the_gradient_scaled_by_the_learning_rate():
    for update, gradient in zip(Updates("sgd", 0.1).run(GRADIENTS), GRADIENTS, strict=True):
        np.testing.assert_array_equal(update, -0.1 * gradient)


def test_momentum_starts_with_the_gradient_then_accumulates():
    updates = Updates("momentum", 0.1).run(GRADIENTS)
    buffer = GRADIENTS[0]
    np.testing.assert_allclose(updates[0], -0.1 * buffer, rtol=1e-15)
    for update, gradient in zip(updates[1:], GRADIENTS[1:], strict=True):
        buffer = 0.9 * buffer + gradient
        np.testing.assert_allclose(update, -0.1 * buffer, rtol=1e-15)


def test_adam_uses_bias_corrected_moments():
    updates = Updates("adam", 0.01).run(GRADIENTS)
    m = v = np.zeros(3)
    for t, (update, g) in enumerate(zip(updates, GRADIENTS, strict=True), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected = -0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(update, expected, rtol=1e-12)
    # Adam's first step moves every parameter by about lr, whatever the gradient's size
    np.testing.assert_allclose(np.abs(Updates("adam", 0.01).run(GRADIENTS[:1])[0]), 0.01, rtol=1e-5)


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_an_update_that_would_diverge_leaves_weights_and_state_alone(name):
    updates = Updates(name, 0.1)
    updates.run(GRADIENTS[:1])
    theta, moments, counters = updates.theta.copy(), updates.state.moments.copy(), updates.counters.copy()
    assert updates.apply(np.full(3, np.inf)) == WEIGHTS_DIVERGED
    assert updates.apply(GRADIENTS[1], loss=np.nan) == LOSS_DIVERGED
    np.testing.assert_array_equal(updates.theta, theta)
    np.testing.assert_array_equal(updates.state.moments, moments)
    np.testing.assert_array_equal(updates.counters, counters)
    assert updates.apply(GRADIENTS[1]) == ACCEPTED  # and training goes on from there


def test_the_state_round_trips_for_saving_a_run():
    updates = Updates("adam", 0.01)
    updates.run(GRADIENTS)
    saved = updates.state.state(int(updates.counters[slot.OPTIMIZER_STEPS]))
    restored = OptimizerState("adam", 3)
    assert restored.load_state(saved) == 3
    np.testing.assert_array_equal(restored.moments, updates.state.moments)


def test_unknown_optimizers_are_named():
    with pytest.raises(ValueError, match="rmsprop"):
        OptimizerState("rmsprop", 3)
