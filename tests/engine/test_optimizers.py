"""Optimisers follow PyTorch's update rules (DESIGN §4), step by step, by hand."""

import numpy as np
import pytest

from engine.optimizers import make_optimizer

GRADIENTS = [np.array([0.5, -1.0, 2.0]), np.array([0.1, 0.3, -0.2]), np.array([-1.0, 0.0, 4.0])]


def apply(optimizer, gradients):
    updates = []
    for gradient in gradients:
        updates.append(optimizer.propose(gradient))
        optimizer.commit()
    return updates


def test_sgd_steps_against_the_gradient_scaled_by_the_learning_rate():
    updates = apply(make_optimizer("sgd", 0.1, 0.9, 3), GRADIENTS)
    for update, gradient in zip(updates, GRADIENTS, strict=True):
        np.testing.assert_array_equal(update, -0.1 * gradient)


def test_momentum_starts_with_the_gradient_then_accumulates():
    updates = apply(make_optimizer("momentum", 0.1, 0.9, 3), GRADIENTS)
    buffer = GRADIENTS[0]
    np.testing.assert_allclose(updates[0], -0.1 * buffer, rtol=1e-15)
    for update, gradient in zip(updates[1:], GRADIENTS[1:], strict=True):
        buffer = 0.9 * buffer + gradient
        np.testing.assert_allclose(update, -0.1 * buffer, rtol=1e-15)


def test_adam_uses_bias_corrected_moments():
    updates = apply(make_optimizer("adam", 0.01, 0.9, 3), GRADIENTS)
    m = v = np.zeros(3)
    for t, (update, g) in enumerate(zip(updates, GRADIENTS, strict=True), start=1):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected = -0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        np.testing.assert_allclose(update, expected, rtol=1e-12)
    # Adam's first step moves every parameter by about lr, whatever the gradient's size
    first = make_optimizer("adam", 0.01, 0.9, 3).propose(GRADIENTS[0])
    np.testing.assert_allclose(np.abs(first), 0.01, rtol=1e-5)


def test_a_proposal_that_is_not_committed_leaves_the_state_alone():
    optimizer = make_optimizer("momentum", 0.1, 0.9, 3)
    apply(optimizer, GRADIENTS[:1])
    optimizer.propose(np.full(3, np.inf))  # refused by the trainer: never committed
    np.testing.assert_allclose(optimizer.propose(GRADIENTS[1]), -0.1 * (0.9 * GRADIENTS[0] + GRADIENTS[1]))


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_bad_hyperparameters_are_named(name):
    with pytest.raises(ValueError, match="learning_rate"):
        make_optimizer(name, -1.0, 0.9, 3)


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="rmsprop"):
        make_optimizer("rmsprop", 0.1, 0.9, 3)
