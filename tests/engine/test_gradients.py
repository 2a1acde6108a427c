"""Backprop's gradients agree with central finite differences for every activation, loss and
regularisation, at several depths (float64, relative error < 1e-6).

The reference here is a fourth-order central difference with h = 1e-3, whose error (≈1e-13
absolute) is far below the 2-point h = 1e-5 difference's round-off floor (≈1e-11), so even
small gradients can be held to a relative error of 1e-6. Relative error is
|a − n| / max(|a| + |n|, 1e-6): the floor keeps exact zeros (dead relu units) from dividing
round-off by nothing. relu and leaky_relu have a kink at 0 where the derivative is one-sided,
so their problems keep every pre-activation at least 0.01 away from it; so does |w| (l1) for
every weight. The engine's own
check (docs/engine.md's 2-point difference, the one the app shows) is tested separately."""

import itertools

import numpy as np
import pytest

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.gradcheck import Objective, check_gradients, check_parameter
from backprop_lab.engine.losses import get_loss
from backprop_lab.engine.network import Network

DEPTHS = {"no hidden layer": (), "one hidden layer": (5,), "three hidden layers": (4, 3, 5)}
CASES = [
    # (loss, classify): cross-entropy pairs with softmax; mse is used with both output kinds
    ("cross_entropy", True),
    ("mse", True),
    ("mse", False),
]


def fourth_order_gradient(objective, h=1e-3):
    """(−f(θ+2h) + 8f(θ+h) − 8f(θ−h) + f(θ−2h)) / 12h for every parameter."""
    parameters = objective.network.parameters
    gradient = np.empty_like(parameters)
    for p in range(parameters.size):
        original = parameters[p]
        values = []
        for offset in (2 * h, h, -h, -2 * h):
            parameters[p] = original + offset
            values.append(objective.value())
        parameters[p] = original
        gradient[p] = (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)
    return gradient


def random_problem(hidden, classify, seed, activation="tanh"):
    """A network with random weights and biases and a random batch; for relu-like activations
    the first seed from `seed` on whose pre-activations all stay 0.01 away from the kink."""
    for attempt in range(seed, seed + 1000):
        network, inputs, targets = _draw_problem(hidden, classify, attempt, activation)
        hidden_z = network.forward(inputs).pre_activations[:-1]
        if activation not in ("relu", "leaky_relu") or all(np.abs(z).min() >= 0.01 for z in hidden_z):
            return network, inputs, targets
    raise AssertionError("no kink-free problem found")


def _draw_problem(hidden, classify, seed, activation):
    rng = np.random.default_rng(seed)
    n_inputs, n_outputs = 3, (4 if classify else 2)
    network = Network.initialised((n_inputs, *hidden, n_outputs), activation, classify, "he", rng)
    parameters = rng.normal(0.0, 0.8, size=network.parameters.size)  # biases non-zero too
    network.parameters[:] = np.where(parameters < 0, -1.0, 1.0) * np.maximum(np.abs(parameters), 0.01)  # l1's kink
    inputs = rng.normal(size=(9, n_inputs))  # (9, 3)
    if classify:
        targets = np.eye(n_outputs)[rng.integers(0, n_outputs, size=9)]  # (9, K) one-hot
    else:
        targets = rng.normal(size=(9, n_outputs))  # (9, 2)
    return network, inputs, targets


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("regularization", ["none", "l1", "l2"])
@pytest.mark.parametrize("loss_name,classify", CASES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_central_differences(activation, loss_name, classify, regularization, depth):
    seed = sum(map(ord, activation + loss_name + regularization + depth))
    network, inputs, targets = random_problem(DEPTHS[depth], classify, seed, activation)
    objective = Objective(network, get_loss(loss_name), inputs, targets, regularization, 0.05)
    backprop = objective.gradient()[2]
    numerical = fourth_order_gradient(objective)
    errors = np.abs(backprop - numerical) / np.maximum(np.abs(backprop) + np.abs(numerical), 1e-6)
    worst = int(np.argmax(errors))
    assert errors[worst] < 1e-6, f"parameter {worst}: backprop {backprop[worst]} vs numerical {numerical[worst]}"


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_the_engines_two_point_check_reports_agreement_and_counts_2p_passes(activation):
    network, inputs, targets = random_problem((5,), True, 11, activation)
    check = check_gradients(Objective(network, get_loss("cross_entropy"), inputs, targets, "l2", 0.05))
    assert check.parameters == network.layout.size
    assert check.numerical_forward_passes == 2 * network.layout.size
    assert check.max_relative_error < 1e-5
    assert check.backprop_seconds > 0 and check.numerical_seconds > 0


def test_the_gradient_check_leaves_the_weights_untouched():
    network, inputs, targets = random_problem((4,), True, 3)
    before = network.parameters.copy()
    check_gradients(Objective(network, get_loss("cross_entropy"), inputs, targets, "l2", 0.1))
    np.testing.assert_array_equal(network.parameters, before)


def test_one_parameter_check_agrees_with_the_whole_network_check():
    network, inputs, targets = random_problem((4, 3), True, 5)
    objective = Objective(network, get_loss("cross_entropy"), inputs, targets, "none", 0.0)
    whole = check_gradients(objective)
    for layer, kind, i, j in itertools.product([0, 2], ["weight", "bias"], [0, 1], [0]):
        index = network.layout.index_of(layer, kind, i, j)
        one = check_parameter(objective, index)
        assert one.forward_passes == 2
        assert one.backprop == pytest.approx(whole.backprop_gradient[index], rel=1e-12, abs=1e-15)
        assert one.numerical == whole.numerical_gradient[index]
        assert one.relative_error < 1e-6


def test_a_wrong_gradient_is_caught():
    """The check can fail: a backward pass that forgets the bias gradient shows a large error."""
    network, inputs, targets = random_problem((4,), True, 8)
    objective = Objective(network, get_loss("cross_entropy"), inputs, targets, "none", 0.0)
    honest = objective.gradient

    def broken():
        loss, total, gradient = honest()
        gradient[network.n_weights :] = 0.0
        return loss, total, gradient

    objective.gradient = broken
    assert check_gradients(objective).max_relative_error > 0.5
