"""Losses follow DESIGN §4 exactly and stay finite at extreme logits."""

import numpy as np
import pytest

from engine.losses import get_loss, log_softmax, regularization_penalty, softmax


def test_softmax_rows_are_probabilities_summing_to_one():
    logits = np.array([[1.0, 2.0, 3.0, 4.0, 5.0], [-3.0, 0.0, 0.0, 2.0, 9.0]])
    probabilities = softmax(logits)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-15)
    assert (probabilities > 0).all()
    assert probabilities[0].argmax() == 4


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_softmax_and_cross_entropy_stay_finite_with_logits_of_a_thousand(scale):
    logits = np.array([[scale, -scale, 0.0], [scale, scale, -scale]])
    targets = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    outputs = softmax(logits)
    losses = get_loss("cross_entropy").per_sample(logits, outputs, targets)
    assert np.isfinite(outputs).all() and np.isfinite(losses).all()
    assert np.isfinite(log_softmax(logits)).all()
    assert np.isfinite(get_loss("cross_entropy").deltas(outputs, targets, True)).all()
    if scale > 0:
        assert losses[0] == pytest.approx(2000.0)  # the true class sits 2000 below the winner
        assert losses[1] == pytest.approx(np.log(2.0))


def test_mse_is_half_the_squared_error_summed_over_outputs():
    outputs = np.array([[1.0, 2.0], [0.0, 0.0]])
    targets = np.array([[0.0, 0.0], [3.0, 4.0]])
    losses = get_loss("mse").per_sample(outputs, outputs, targets)
    np.testing.assert_allclose(losses, [0.5 * 5.0, 0.5 * 25.0])


def test_cross_entropy_is_minus_log_of_the_true_class_probability():
    logits = np.array([[0.0, np.log(3.0)]])  # probabilities 1/4 and 3/4
    targets = np.array([[0.0, 1.0]])
    loss = get_loss("cross_entropy").per_sample(logits, softmax(logits), targets)[0]
    assert loss == pytest.approx(-np.log(0.75), rel=1e-14)


def test_cross_entropy_refuses_a_linear_output():
    with pytest.raises(ValueError, match="mse"):
        get_loss("cross_entropy").deltas(np.zeros((1, 1)), np.zeros((1, 1)), False)


def test_regularisation_penalties_follow_the_design():
    weights = np.array([1.0, -2.0, 3.0])
    assert regularization_penalty(weights, "l2", 0.1) == pytest.approx(0.05 * 14.0)
    assert regularization_penalty(weights, "l1", 0.1) == pytest.approx(0.6)
    assert regularization_penalty(weights, "none", 0.1) == 0.0
    with pytest.raises(ValueError, match="l3"):
        regularization_penalty(weights, "l3", 0.1)


def test_unknown_loss_names_the_choices():
    with pytest.raises(ValueError, match="cross_entropy"):
        get_loss("hinge")
