"""engine/reference.py, the readable NumPy step, is what the compiled trainer computes, and its
gradient is the derivative of its objective.

1. The trainer's steps equal the reference's, step after step from the same initial weights and
   on the same batches, for every activation, loss, regularisation, optimiser and batch size:
   the batch's loss and objective, every layer's z, a, δ, gradients and updates, and the weights
   after — within 1e-12 relative. The batch is gathered here by plain indexing of the training
   split in the epoch's order, and the trainer's flat gradient, update and θ are compared with
   the reference's laid out as docs/engine.md says (every weight, layer by layer and row by row,
   then every bias): so the kernels, the engine's batch gathering and its layout are each checked
   against something that is not themselves. The two agree to rounding: the kernels sum in
   another order, compute tanh and log-softmax their own way, and the reference carries its own
   weights and optimiser memory through up to 30 steps.
2. The reference's gradient is the derivative of its objective J, by central finite differences.
   Tolerance: |g − n| ≤ 1e-6 + 1e-5·|n| per parameter, n the 2-point difference with h = 1e-6. Its
   error is truncation (h²/6 · J‴, below 1e-8 with inputs up to 64, x1² of the plane's ±8) plus
   round-off (1e-16 · J / h, about 1e-9 here): two orders of magnitude inside the tolerance, while
   a wrong formula is off by the size of the gradient itself. A difference is only a derivative
   where J is smooth across the stencil: a parameter whose nudge moves a relu-like unit's
   pre-activation across its kink at 0, or (with l1) a weight across 0, is skipped, and there is
   always one left to compare (the output biases never move a hidden unit).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from config_strategies import small_configs
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from backprop_lab.engine import reference
from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer

RTOL, ATOL = 1e-12, 1e-15  # the trainer against the reference
H = 1e-6  # the central difference's step
ABSOLUTE, RELATIVE = 1e-6, 1e-5  # |g − n| ≤ ABSOLUTE + RELATIVE·|n|


def choices_of(trainer: Trainer) -> reference.Choices:
    config = trainer.config
    assert config.loss is not None  # the trainer resolved it
    return reference.Choices(config.activation, not trainer.dataset.is_regression, config.loss, config.regularization,
                             config.regularization_rate)


def layers_of(trainer: Trainer) -> list[reference.Layer]:
    """Copies of the trainer's weights and biases, layer by layer."""
    return [(w.copy(), b.copy()) for w, b in zip(trainer.network.weights, trainer.network.biases, strict=True)]


def flat(layers: list[reference.Layer]) -> np.ndarray:
    """(P,) as docs/engine.md lays out θ: every weight, layer by layer and row by row, then every bias."""
    return np.concatenate([w.ravel() for w, _ in layers] + [b for _, b in layers])


def next_batch(trainer: Trainer) -> tuple[np.ndarray, np.ndarray]:
    """The rows the trainer's next step takes: the next batch_size of the epoch's order, or what is left."""
    start, stop = trainer.batch_bounds()
    rows = trainer.order[start:stop]
    train = trainer.dataset.train
    return train.inputs[rows], train.targets[rows]


def assert_close(engine: np.ndarray, mine: np.ndarray, what: str) -> None:
    """Each value within RTOL of itself or of the array's largest, or within ATOL: a sum that
    cancels down to a small value keeps the rounding error of its large terms, and when every
    value of the array is small that way (an output's p − y with p ≈ y: ±3.7e-5 from terms near
    1) the error is ATOL's order, not RTOL of the array."""
    atol = max(RTOL * float(np.abs(mine).max(initial=0.0)), ATOL)
    np.testing.assert_allclose(engine, mine, rtol=RTOL, atol=atol, equal_nan=False, err_msg=what)


def assert_steps_match(config: Config, steps: int) -> None:
    trainer = Trainer(config)
    choices = choices_of(trainer)
    optimizer = reference.Optimizer(config.optimizer, config.learning_rate, config.momentum)
    layers = layers_of(trainer)
    for _ in range(steps):
        x, y = next_batch(trainer)
        expected = reference.training_step(layers, x, y, choices, optimizer)
        trace = trainer.traced_step()
        assert trace.loss == pytest.approx(expected.loss, rel=RTOL, abs=ATOL)
        assert trace.objective == pytest.approx(expected.objective, rel=RTOL, abs=ATOL)
        np.testing.assert_array_equal(trace.inputs, x)
        for number, traced in enumerate(trace.layers):
            pairs = [(traced.pre_activations, expected.z[number]), (traced.activations, expected.a[number + 1]),
                     (traced.deltas, expected.deltas[number]), (traced.weight_gradients, expected.gradients[number][0]),
                     (traced.bias_gradients, expected.gradients[number][1]),
                     (traced.weight_updates, expected.updates[number][0]),
                     (traced.bias_updates, expected.updates[number][1])]
            for engine, mine in pairs:
                assert_close(engine, mine, f"layer {number + 1}")
        assert_close(trainer.last_gradient, flat(expected.gradients), "θ's gradient")
        assert_close(trainer.last_update, flat(expected.updates), "θ's update")
        assert_close(trainer.network.parameters, flat(expected.layers), "θ")
        layers = expected.layers


@settings(max_examples=150)
@given(config=small_configs(), steps=st.integers(1, 30))
def test_the_trainer_takes_the_reference_s_steps_on_random_networks(config, steps):
    """Adam is held to the reference on the fixed networks below, not on random ones: a gradient
    that cancels to near Adam's ε (a bias's ±3.3e-5 deltas summing to 6.6e-10, relative rounding
    5e-12 from two summation orders) moves by g/(|g| + ε), which turns that rounding into 2e-11
    of the update; a random draw finds such a network now and then, no bug of either side."""
    assume(config.optimizer != "adam")
    assert_steps_match(config, steps)


CASES = [("cross_entropy", "spiral"), ("mse", "five_class"), ("mse", "plane")]  # mse through softmax, and linear
COMBINATIONS = list(itertools.product(sorted(ACTIVATIONS), CASES, ["none", "l1", "l2"], ["sgd", "momentum", "adam"]))


@pytest.mark.parametrize(
    "activation,case,regularization,optimizer", COMBINATIONS,
    ids=[f"{a}-{loss}-{d}-{r}-{o}" for a, (loss, d), r, o in COMBINATIONS],
)
def test_every_combination_of_choices_takes_the_reference_s_steps(activation, case, regularization, optimizer):
    loss, dataset = case
    assert_steps_match(Config(dataset=dataset, samples=60, hidden_layers=(5, 3), activation=activation, loss=loss,
                              optimizer=optimizer, learning_rate=0.05, batch_size=7, regularization=regularization,
                              regularization_rate=0.01, init="he", seed=len(activation) + len(regularization)), 4)


def kink_signs(layers: list[reference.Layer], x: np.ndarray, choices: reference.Choices) -> np.ndarray:
    """The signs J's kinks depend on: hidden pre-activations of relu-like units, and weights under
    l1 (empty where J is smooth)."""
    parts = [np.zeros(0)]
    if choices.activation in ("relu", "leaky_relu"):
        z, _ = reference.forward(layers, x, choices)
        parts += [np.sign(values).ravel() for values in z[:-1]]
    if choices.regularization == "l1":
        parts += [np.sign(w).ravel() for w, _ in layers]
    return np.concatenate(parts)


@settings(max_examples=150)
@given(config=small_configs(), steps_before=st.integers(0, 30))
def test_the_reference_gradient_is_the_finite_difference_derivative_of_its_objective(config, steps_before):
    trainer = Trainer(config)
    trainer.step(steps_before)  # weights that training has moved, and the next batch
    choices = choices_of(trainer)
    x, y = next_batch(trainer)
    layers = layers_of(trainer)
    z, a = reference.forward(layers, x, choices)
    gradient = flat(reference.backward(layers, z, a, y, choices)[0])

    signs = kink_signs(layers, x, choices)
    numerical = [(np.zeros_like(w), np.zeros_like(b)) for w, b in layers]  # (J(θ + h·e_p) − J(θ − h·e_p)) / 2h
    smooth = [(np.ones(w.shape, bool), np.ones(b.shape, bool)) for w, b in layers]  # J smooth across the stencil
    for number, part in itertools.product(range(len(layers)), (0, 1)):  # 0: W, 1: b
        for index in np.ndindex(layers[number][part].shape):
            values = []
            for offset in (H, -H):
                nudged = [(w.copy(), b.copy()) for w, b in layers]
                nudged[number][part][index] += offset
                values.append(reference.loss_and_objective(nudged, x, y, choices)[1])
                smooth[number][part][index] &= np.array_equal(kink_signs(nudged, x, choices), signs)
            numerical[number][part][index] = (values[0] - values[1]) / (2 * H)

    expected, compared = flat(numerical), flat(smooth)
    assert compared.any()
    wrong = np.flatnonzero(compared & (np.abs(gradient - expected) > ABSOLUTE + RELATIVE * np.abs(expected)))
    assert wrong.size == 0, f"parameters {wrong}: backprop {gradient[wrong]} vs central differences {expected[wrong]}"
