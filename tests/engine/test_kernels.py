"""The compiled kernels' parts on their own: softmax and the losses at extreme logits, the
penalties, and the activations and their slopes against engine/reference.py, kinks included.
Whole steps against the reference: test_reference.py."""

import numpy as np
import pytest

from backprop_lab.engine import reference
from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_logits_of_a_thousand_give_finite_probabilities_losses_and_gradients(scale):
    trainer = Trainer(Config(dataset="five_class", hidden_layers=(), samples=50))
    trainer.network.parameters[:] = scale  # every logit ±1000·(x1 + x2 + 1): huge, of both signs
    trace = trainer.traced_step()
    assert np.isfinite(trace.outputs).all() and np.isfinite(trace.loss)
    np.testing.assert_allclose(trace.outputs.sum(axis=1), 1.0)
    assert np.isfinite(trainer.last_gradient).all()


def test_cross_entropy_is_minus_log_of_the_true_class_probability_even_far_below_underflow():
    from backprop_lab.engine.kernels.losses import CROSS_ENTROPY, sample_losses, softmax

    z = np.array([[0.0, np.log(3.0)], [0.0, -2000.0]])  # probabilities 1/4, 3/4; then 1 and e^-2000
    targets = np.array([[0.0, 1.0], [0.0, 1.0]])
    y_hat, losses = np.zeros_like(z), np.zeros(2)
    softmax(z, y_hat)
    sample_losses(CROSS_ENTROPY, z, y_hat, targets, losses)
    assert losses[0] == pytest.approx(-np.log(0.75), rel=1e-14)
    assert losses[1] == pytest.approx(2000.0, rel=1e-14), "log-softmax, not log of an underflowed 0"


def test_mse_is_half_the_squared_error_summed_over_outputs():
    from backprop_lab.engine.kernels.losses import MSE, sample_losses

    outputs = np.array([[1.0, 2.0], [0.0, 0.0]])
    targets = np.array([[0.0, 0.0], [3.0, 4.0]])
    losses = np.zeros(2)
    sample_losses(MSE, outputs, outputs, targets, losses)
    np.testing.assert_allclose(losses, [0.5 * 5.0, 0.5 * 25.0], rtol=1e-15)


def test_the_penalties_follow_the_conventions():
    from backprop_lab.engine.kernels.regularization import L1, L2, NONE, add_penalty_gradient, penalty

    weights = np.array([1.0, -2.0, 3.0, 0.0])
    assert penalty(L2, 0.1, weights) == pytest.approx(0.05 * 14.0, rel=1e-15)
    assert penalty(L1, 0.1, weights) == pytest.approx(0.6, rel=1e-15)
    assert penalty(NONE, 0.1, weights) == 0.0
    gradient = np.zeros(4)
    add_penalty_gradient(L1, 0.1, weights, gradient)
    np.testing.assert_array_equal(gradient, [0.1, -0.1, 0.1, 0.0])  # sign(0) = 0
    add_penalty_gradient(L2, 0.1, weights, gradient)
    np.testing.assert_allclose(gradient, [0.2, -0.3, 0.4, 0.0], rtol=1e-15)


def test_activations_and_their_slopes_match_the_reference_including_the_kinks():
    from backprop_lab.engine.kernels.activations import activate, slopes

    z = np.array([[-700.0, -3.0, -1e-300, 0.0, 1e-300, 0.5, 3.0, 700.0]])
    for name, activation in ACTIVATIONS.items():
        a, slope = np.zeros_like(z), np.zeros_like(z)
        activate(activation.code, z, a)
        slopes(activation.code, z, a, slope)
        np.testing.assert_allclose(a, reference.activate(z, name), rtol=1e-15, atol=1e-300, err_msg=name)
        np.testing.assert_allclose(slope, reference.activation_derivative(z, name), rtol=1e-12, atol=1e-300,
                                   err_msg=name)
    relu = np.zeros_like(z)
    activate(ACTIVATIONS["relu"].code, np.array([[np.nan]]), relu[:, :1])
    assert np.isnan(relu[0, 0]), "NaN passes through, so divergence is noticed"
