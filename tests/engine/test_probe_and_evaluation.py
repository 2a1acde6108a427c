"""The probe (one sample, no update) and whole-split evaluation."""

import numpy as np
import pytest

from backprop_lab.engine import reference
from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import grid_inputs
from backprop_lab.engine.evaluation import confusion_matrix, evaluate_split, grid_activations, split_metrics
from backprop_lab.engine.gradcheck import Objective
from backprop_lab.engine.probe import probe_sample
from backprop_lab.engine.trainer import Trainer
from backprop_lab.engine.workspace import Workspace


def test_the_probe_is_one_sample_s_forward_and_backward_pass_without_an_update():
    trainer = Trainer(Config(hidden_layers=(3, 2), regularization="l2", regularization_rate=0.5))
    trainer.step(10)
    before = trainer.network.parameters.copy()
    split = trainer.dataset.test
    probe = probe_sample(trainer.network, trainer.loss, split.inputs[4], split.targets[4], "test", 4)
    assert np.array_equal(trainer.network.parameters, before)
    # the same gradient as the data loss of that one sample, regularisation left out
    objective = Objective(trainer.network, trainer.loss, split.inputs[4:5], split.targets[4:5], "none", 0.0)
    loss, _, gradient = objective.gradient()
    assert probe.loss == pytest.approx(loss, rel=1e-14)
    weight_grads, bias_grads = trainer.network.layout.views(gradient)
    for layer, expected_w, expected_b in zip(probe.layers, weight_grads, bias_grads, strict=True):
        np.testing.assert_allclose(layer.weight_gradients, expected_w, rtol=1e-12)
        np.testing.assert_allclose(layer.bias_gradients, expected_b, rtol=1e-12)
    # one neuron's equation with live numbers: z = Σ w·a + b, a = tanh(z)
    w, b = trainer.network.weights[1], trainer.network.biases[1]
    z = probe.layers[0].activations @ w[:, 0] + b[0]
    assert probe.layers[1].pre_activations[0] == pytest.approx(z, rel=1e-14)
    assert probe.layers[1].activations[0] == pytest.approx(np.tanh(z), rel=1e-14)
    # the chain rule term by term: δ_j = f'(z_j) · Σ_k w_jk · δ_k
    delta = (1 - probe.layers[1].activations[0] ** 2) * (trainer.network.weights[2][0] @ probe.layers[2].deltas)
    assert probe.layers[1].deltas[0] == pytest.approx(delta, rel=1e-12)
    assert probe.outputs.sum() == pytest.approx(1.0)


def test_metrics_are_on_whole_splits_and_a_perfect_classifier_scores_one():
    trainer = Trainer(Config(dataset="xor", learning_rate=0.1, hidden_layers=(8,)))
    trainer.step(3000)
    train = trainer.dataset.train
    metrics = split_metrics(trainer.network, trainer.loss, train.inputs, train.targets)
    predictions = trainer.network.predict(train.inputs).argmax(axis=1)
    assert metrics["accuracy"] == pytest.approx(np.mean(predictions == train.labels))
    matrix = confusion_matrix(trainer.network, train.inputs, train.targets)
    assert matrix.sum() == train.inputs.shape[0]
    assert np.trace(matrix) / matrix.sum() == pytest.approx(metrics["accuracy"])


def test_the_confusion_matrix_counts_each_sample_under_its_true_and_predicted_class():
    trainer = Trainer(Config(dataset="five_class", noise=0.5, hidden_layers=(6,)))
    trainer.step(20)  # part-trained, so the off-diagonal cells are not all empty
    test = trainer.dataset.test
    evaluation = evaluate_split(trainer.network, trainer.loss, test.inputs, test.targets)
    expected = np.zeros((5, 5), dtype=np.int64)
    for true, predicted in zip(test.labels, trainer.network.predict(test.inputs).argmax(axis=1), strict=True):
        expected[true, predicted] += 1
    assert evaluation.confusion is not None
    assert np.array_equal(evaluation.confusion, expected)
    assert np.array_equal(confusion_matrix(trainer.network, test.inputs, test.targets), expected)
    assert expected.sum() > np.trace(expected) > 0
    assert evaluation.metrics == split_metrics(trainer.network, trainer.loss, test.inputs, test.targets)


def test_regression_metrics_include_rmse_and_r2():
    trainer = Trainer(Config(dataset="plane", optimizer="adam", learning_rate=0.03))
    trainer.step(1500)
    test = trainer.dataset.test
    metrics = split_metrics(trainer.network, trainer.loss, test.inputs, test.targets)
    assert set(metrics) == {"loss", "rmse", "r2"}
    assert metrics["rmse"] == pytest.approx(np.sqrt(2 * metrics["loss"]))  # mse = ½·error² with one output
    assert metrics["r2"] > 0.9


def test_grid_activations_give_every_neuron_s_output_over_the_plane_in_one_pass():
    trainer = Trainer(Config(features=("x1", "x2", "x1_squared"), hidden_layers=(4, 2)))
    _, inputs = grid_inputs(trainer.dataset, trainer.config.features, 16)
    layers = grid_activations(trainer.network, inputs)
    assert [layer.shape for layer in layers] == [(256, 3), (256, 4), (256, 2), (256, 2)]
    np.testing.assert_allclose(layers[-1].sum(axis=1), 1.0)
    np.testing.assert_allclose(layers[-1], trainer.network.predict(inputs))


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "tanh", "relu", "leaky_relu"])
def test_the_probe_carries_f_prime_at_each_hidden_layer_s_z(activation):
    trainer = Trainer(Config(dataset="spiral", hidden_layers=(5, 3), activation=activation, seed=3))
    trainer.step(25)
    split = trainer.dataset.train
    probe = probe_sample(trainer.network, trainer.loss, split.inputs[11], split.targets[11], "train", 11)
    a = split.inputs[11]  # (n_inputs,) the reference's own forward pass
    for layer, (weights, biases) in enumerate(zip(trainer.network.weights, trainer.network.biases, strict=True)):
        z = a @ weights + biases  # (n_out,)
        traced = probe.layers[layer]
        np.testing.assert_allclose(traced.pre_activations, z, rtol=1e-12, atol=1e-15)
        if layer == len(probe.layers) - 1:
            # softmax's derivative is a Jacobian, not one number per neuron: the output has none
            assert traced.derivatives is None
            break
        assert traced.derivatives is not None and traced.derivatives.shape == z.shape
        np.testing.assert_allclose(traced.derivatives, reference.activation_derivative(z, activation), rtol=1e-12,
                                   atol=1e-15)
        # and it is the factor the backward pass used: δ = f′(z)·(W_next·δ_next)
        below = trainer.network.weights[layer + 1] @ probe.layers[layer + 1].deltas  # (n_out,)
        np.testing.assert_allclose(traced.deltas, traced.derivatives * below, rtol=1e-12, atol=1e-15)
        a = traced.activations


def test_a_workspace_given_to_the_evaluation_keeps_its_forward_pass_for_the_caller():
    trainer = Trainer(Config(hidden_layers=[5, 3], seed=2))
    trainer.step(40)
    train = trainer.dataset.train
    workspace = Workspace(trainer.network.layout, train.size)
    kept = evaluate_split(trainer.network, trainer.loss, train.inputs, train.targets, workspace)
    assert kept.metrics == evaluate_split(trainer.network, trainer.loss, train.inputs, train.targets).metrics
    forward = trainer.network.forward(train.inputs)
    for layer, activations in enumerate(forward.activations):
        np.testing.assert_array_equal(workspace.a(layer, train.size), activations)
    with pytest.raises(ValueError, match="rows"):
        evaluate_split(trainer.network, trainer.loss, train.inputs, train.targets, Workspace(trainer.network.layout, 7))
