"""Properties of training steps on random small networks and data (engine/trainer.py): at a
stable learning rate every step's losses and weights are finite, and the gradient a step
descends is the derivative of the objective of its mini-batch, checked against central finite
differences; at any learning rate up to the API's 1000, a step is finite or refused as
`Diverged` with the weights, the optimiser's memory and the counters as they were.

The differences are taken of an independent objective: `reference_net` (NumPy, written from
docs/engine.md) evaluated on weights this file cuts out of θ by the documented layout (every
weight, layer by layer and row by row, then every bias), on the batch's rows gathered here by
plain indexing. So the engine's kernels, its layout and its batch gathering are all checked,
none of them against themselves.

Tolerance: |g − n| ≤ 1e-6 + 1e-5·|n| per parameter, n the 2-point difference with h = 1e-6. Its
error is truncation (h²/6 · J‴, below 1e-8 with inputs up to 36, x1² of the plane's ±6) plus
round-off (1e-16 · J / h, about 1e-9 here): two orders of magnitude inside the tolerance, while a
wrong formula is off by the size of the gradient itself. A difference is only a derivative where
the objective is smooth across the stencil: a parameter whose nudge moves a relu-like unit's
pre-activation across its kink at 0, or (with l1) a weight across 0, is skipped, and there is
always a parameter left to compare (the output biases never move a hidden unit).
"""

from __future__ import annotations

import numpy as np
import reference_net
from config_strategies import small_configs
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from backprop_lab.engine.config import Config
from backprop_lab.engine.kernels.codes import LAST
from backprop_lab.engine.trainer import Diverged, Trainer

H = 1e-6  # the central difference's step
ABSOLUTE, RELATIVE = 1e-6, 1e-5  # |g − n| ≤ ABSOLUTE + RELATIVE·|n|
KINKED = ("relu", "leaky_relu")


def layers_of(theta: np.ndarray, sizes: tuple[int, ...]) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(W (n_in, n_out), b (n_out,)), …] from θ as docs/engine.md lays it out."""
    shapes = list(zip(sizes[:-1], sizes[1:], strict=True))
    n_weights = sum(n_in * n_out for n_in, n_out in shapes)
    layers, weights_at, biases_at = [], 0, n_weights
    for n_in, n_out in shapes:
        weights = theta[weights_at : weights_at + n_in * n_out].reshape(n_in, n_out)
        layers.append((weights, theta[biases_at : biases_at + n_out]))
        weights_at, biases_at = weights_at + n_in * n_out, biases_at + n_out
    return layers


class BatchObjective:
    """J(θ) = mean data loss of one batch + penalty, and where J has kinks, from reference_net."""

    def __init__(self, config: Config, sizes: tuple[int, ...], classify: bool, inputs: np.ndarray,
                 targets: np.ndarray):
        self.config, self.sizes, self.classify = config, sizes, classify
        self.inputs, self.targets = inputs, targets

    def losses(self, theta: np.ndarray) -> tuple[float, float]:
        """(data loss, objective)."""
        config, layers = self.config, layers_of(theta, self.sizes)
        _, activations = reference_net.forward(layers, self.inputs, config.activation, self.classify)
        data = reference_net.data_loss(activations[-1], self.targets, config.loss)
        return data, data + reference_net.penalty(layers, config.regularization, config.regularization_rate)

    def signs(self, theta: np.ndarray) -> np.ndarray:
        """The signs the objective's kinks depend on: hidden pre-activations of relu-like units,
        and weights under l1 (empty where J is smooth)."""
        config, layers = self.config, layers_of(theta, self.sizes)
        parts = [np.zeros(0)]
        if config.activation in KINKED:
            zs, _ = reference_net.forward(layers, self.inputs, config.activation, self.classify)
            parts += [np.sign(z).ravel() for z in zs[:-1]]
        if config.regularization == "l1":
            parts += [np.sign(weights).ravel() for weights, _ in layers]
        return np.concatenate(parts)

    def central_differences(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(n (P,), smooth (P,) bool): (J(θ + h·e_p) − J(θ − h·e_p)) / 2h, and whether J is
        smooth across that stencil."""
        signs = self.signs(theta)
        numerical, smooth = np.zeros(theta.size), np.ones(theta.size, dtype=bool)
        for p in range(theta.size):
            values = []
            for offset in (H, -H):
                nudged = theta.copy()
                nudged[p] += offset
                values.append(self.losses(nudged)[1])
                smooth[p] &= bool(np.array_equal(self.signs(nudged), signs))
            numerical[p] = (values[0] - values[1]) / (2 * H)
        return numerical, smooth


@settings(max_examples=150)
@given(config=small_configs(), steps_before=st.integers(0, 30))
def test_every_step_is_finite_and_descends_the_finite_difference_gradient_of_its_batch(config, steps_before):
    trainer = Trainer(config)
    for _ in range(steps_before):
        trainer.step()
        assert np.isfinite(trainer.last_losses).all() and np.isfinite(trainer.network.parameters).all()
    dataset = trainer.dataset
    start, stop = trainer.batch_bounds()
    rows = trainer.order[start:stop].copy()
    objective = BatchObjective(trainer.config, trainer.network.layout.layer_sizes, not dataset.is_regression,
                               dataset.train.inputs[rows], dataset.train.targets[rows])
    theta = trainer.network.parameters.copy()  # (P,) the weights the next step starts from

    trainer.step()

    assert np.isfinite(trainer.last_losses).all() and np.isfinite(trainer.network.parameters).all()
    np.testing.assert_allclose(trainer.last_losses, objective.losses(theta), rtol=1e-10, atol=1e-12)
    numerical, smooth = objective.central_differences(theta)
    assert smooth.any()
    gradient = trainer.last_gradient
    wrong = np.flatnonzero(smooth & (np.abs(gradient - numerical) > ABSOLUTE + RELATIVE * np.abs(numerical)))
    assert wrong.size == 0, f"parameters {wrong}: backprop {gradient[wrong]} vs central differences {numerical[wrong]}"


@settings(max_examples=150)
@given(config=small_configs(), learning_rate=st.floats(-2.0, 3.0).map(lambda power: 10.0**power),
       steps=st.integers(1, 200))
# Found by this test: l2's penalty overflowed (weights past 1e154) while the data loss and every
# weight stayed finite, and the step was taken with an infinite objective.
@example(config=Config(dataset="circle", samples=2, features=("sin_x1",), hidden_layers=(), activation="leaky_relu",
                       loss="cross_entropy", batch_size=1, regularization="l2", regularization_rate=0.0625),
         learning_rate=1000.0, steps=87)
def test_at_any_learning_rate_a_step_is_finite_or_refused_leaving_everything_as_it_was(config, learning_rate, steps):
    trainer = Trainer(config.replace(learning_rate=learning_rate))
    for _ in range(steps):
        before = (trainer.network.parameters.copy(), trainer.optimizer.moments.copy(), trainer.counters[:LAST].copy())
        try:
            trainer.step()
        except Diverged as refused:
            assert refused.step == trainer.step_count + 1 and refused.learning_rate == learning_rate
            after = (trainer.network.parameters, trainer.optimizer.moments, trainer.counters[:LAST])
            assert all(np.array_equal(now, then) for now, then in zip(after, before, strict=True))
            assert np.isfinite(trainer.network.parameters).all() and np.isfinite(trainer.optimizer.moments).all()
            event("diverged (--hypothesis-show-statistics counts these)")
            return
        assert np.isfinite(trainer.last_losses).all() and np.isfinite(trainer.network.parameters).all()
