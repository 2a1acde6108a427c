"""The loss surface: a slice of the data loss around the current weights, checked against the
independent NumPy reference with the parameters moved by hand."""

import numpy as np
import pytest

from backprop_lab.engine import reference
from backprop_lab.engine.config import Config
from backprop_lab.engine.evaluation import split_metrics
from backprop_lab.engine.gradcheck import Objective
from backprop_lab.engine.network import Network
from backprop_lab.engine.surface import (
    SurfaceError,
    grid_axis,
    largest_gradient_weights,
    loss_surface,
    pca_plane,
    random_plane,
    weight_index,
    weight_plane,
)
from backprop_lab.engine.trainer import Trainer


def reference_loss(network: Network, parameters: np.ndarray, inputs: np.ndarray, targets: np.ndarray,
                   loss: str) -> float:
    weights, biases = network.layout.views(parameters)
    layers = list(zip(weights, biases, strict=True))
    choices = reference.Choices(network.activation.name, network.classify, loss)
    return reference.loss_and_objective(layers, inputs, targets, choices)[0]


def trained(config: Config, steps: int = 200) -> Trainer:
    trainer = Trainer(config)
    trainer.step(steps)
    return trainer


def test_the_centre_of_every_slice_is_the_session_s_own_loss_to_the_bit():
    trainer = trained(Config(dataset="xor", hidden_layers=(4, 3), learning_rate=0.1))
    train = trainer.dataset.train
    network = trainer.network
    own = split_metrics(network, trainer.loss, train.inputs, train.targets)["loss"]
    gradient = Objective(network, trainer.loss, train.inputs, train.targets, "none", 0.0).gradient()[2]
    planes = [
        weight_plane(network.layout, network.parameters, largest_gradient_weights(network.layout, gradient)),
        random_plane(network.layout, network.parameters, seed=3),
    ]
    for plane in planes:
        surface = loss_surface(network, trainer.loss, train.inputs, train.targets, plane, 1.0, 41, workers=2)
        assert surface.loss.shape == (41, 41)
        assert surface.x[20] == 0.0 and surface.y[20] == 0.0
        assert surface.loss[20, 20] == own  # the same kernels, the same bits
        assert surface.center_loss == own


@pytest.mark.parametrize(
    ("config", "weights"),
    [
        (Config(dataset="xor", hidden_layers=(4, 3)), [(0, 1, 2), (2, 0, 1)]),  # first and last layer
        (Config(dataset="spiral", hidden_layers=(5,), activation="relu"), [(1, 3, 0), (1, 4, 1)]),  # output only
        (Config(dataset="plane", hidden_layers=(3,), features=("x1", "x2", "x1_x2")), [(0, 2, 1), (1, 0, 0)]),
    ],
)
def test_along_two_chosen_weights_every_grid_value_is_the_loss_with_those_weights_set_by_hand(config, weights):
    trainer = trained(config, 100)
    train = trainer.dataset.train
    network = trainer.network
    plane = weight_plane(network.layout, network.parameters, weights)
    surface = loss_surface(network, trainer.loss, train.inputs, train.targets, plane, 0.7, 9, workers=2)
    first, second = (weight_index(network.layout, weight) for weight in weights)
    for i, alpha in enumerate(surface.x):
        for j, beta in enumerate(surface.y):
            moved = network.parameters.copy()
            moved[first] += alpha
            moved[second] += beta
            expected = reference_loss(network, moved, train.inputs, train.targets, trainer.loss.name)
            assert surface.loss[i, j] == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_a_random_slice_equals_the_reference_at_every_point_whatever_the_threads():
    trainer = trained(Config(dataset="circle", hidden_layers=(6, 5, 4), activation="sigmoid"), 50)
    train = trainer.dataset.train
    network = trainer.network
    plane = random_plane(network.layout, network.parameters, seed=11)
    one = loss_surface(network, trainer.loss, train.inputs, train.targets, plane, 0.5, 7, workers=1)
    three = loss_surface(network, trainer.loss, train.inputs, train.targets, plane, 0.5, 7, workers=3)
    assert np.array_equal(one.loss, three.loss)
    for i, alpha in enumerate(one.x):
        for j, beta in enumerate(one.y):
            expected = reference_loss(network, plane.at(alpha, beta), train.inputs, train.targets, "cross_entropy")
            assert one.loss[i, j] == pytest.approx(expected, rel=1e-12)


def test_random_directions_are_filter_normalised_with_zero_biases_and_come_from_the_seed():
    trainer = trained(Config(hidden_layers=(5, 3)), 30)
    layout = trainer.network.layout
    plane = random_plane(layout, trainer.network.parameters, seed=4)
    for direction in plane.directions:
        weights, biases = layout.views(direction)
        for block, own in zip(weights, trainer.network.weights, strict=True):
            # each neuron's incoming weights (a column) has the norm of that neuron's own
            np.testing.assert_allclose(np.linalg.norm(block, axis=0), np.linalg.norm(own, axis=0), rtol=1e-12)
        for bias in biases:
            assert not bias.any()
    assert not np.allclose(plane.directions[0], plane.directions[1])
    again = random_plane(layout, trainer.network.parameters, seed=4)
    assert np.array_equal(again.directions, plane.directions)
    assert not np.array_equal(random_plane(layout, trainer.network.parameters, seed=5).directions, plane.directions)


def test_pca_directions_are_orthonormal_explain_the_walk_and_the_walk_ends_at_the_centre():
    trainer = Trainer(Config(dataset="xor", hidden_layers=(4,), learning_rate=0.1))
    path = [trainer.network.parameters.copy()]
    for _ in range(20):
        trainer.step(10)
        path.append(trainer.network.parameters.copy())
    centre = trainer.network.parameters.copy()
    trajectory = np.array(path[:-1])
    plane = pca_plane(centre, trajectory)
    np.testing.assert_allclose(plane.directions @ plane.directions.T, np.eye(2), atol=1e-12)
    assert plane.explained_variance is not None
    first, second = plane.explained_variance
    assert 1.0 >= first >= second > 0.0 and first + second <= 1.0 + 1e-12
    # the shares are the variance of the offsets along each axis over their whole variance
    offsets = trajectory - centre
    total = np.sum(offsets**2)
    assert first == pytest.approx(np.sum((offsets @ plane.directions[0]) ** 2) / total, rel=1e-9)
    train = trainer.dataset.train
    surface = loss_surface(trainer.network, trainer.loss, train.inputs, train.targets, plane, 1.0, 5, trajectory)
    assert surface.trajectory.shape == (21, 2)
    assert np.array_equal(surface.trajectory[-1], [0.0, 0.0])
    assert surface.trajectory[0, 0] <= 0.0 and surface.trajectory[0, 1] <= 0.0  # it arrives from the left, below
    # on an orthonormal plane the projection is the least-squares one
    solved, *_ = np.linalg.lstsq(plane.directions.T, offsets.T, rcond=None)
    np.testing.assert_allclose(surface.trajectory[:-1], solved.T, atol=1e-10)


def test_the_trajectory_on_a_random_plane_is_its_least_squares_projection():
    trainer = trained(Config(hidden_layers=(3,)), 10)
    layout, centre = trainer.network.layout, trainer.network.parameters
    plane = random_plane(layout, centre, seed=1)
    walk = np.stack([plane.at(0.3, -0.2), plane.at(-1.0, 0.5) + 1e-3, centre])
    coordinates = plane.coordinates(walk)
    np.testing.assert_allclose(coordinates[0], [0.3, -0.2], atol=1e-12)
    solved, *_ = np.linalg.lstsq(plane.directions.T, (walk[1] - centre), rcond=None)
    np.testing.assert_allclose(coordinates[1], solved, atol=1e-12)
    assert np.array_equal(coordinates[2], [0.0, 0.0])


def test_the_default_weights_are_the_two_with_the_largest_gradient():
    trainer = trained(Config(hidden_layers=(4, 2)), 5)
    train = trainer.dataset.train
    gradient = Objective(trainer.network, trainer.loss, train.inputs, train.targets, "none", 0.0).gradient()[2]
    layout = trainer.network.layout
    first, second = largest_gradient_weights(layout, gradient)
    magnitudes = np.sort(np.abs(gradient[: layout.n_weights]))[::-1]
    assert abs(gradient[weight_index(layout, first)]) == magnitudes[0]
    assert abs(gradient[weight_index(layout, second)]) == magnitudes[1]


def test_planes_that_cannot_be_made_name_the_field():
    trainer = Trainer(Config(hidden_layers=(4, 2)))
    layout, centre = trainer.network.layout, trainer.network.parameters
    with pytest.raises(SurfaceError, match="weights.1") as error:
        weight_plane(layout, centre, [(0, 0, 0), (5, 0, 0)])
    assert error.value.field == "weights"
    with pytest.raises(SurfaceError, match="differ"):
        weight_plane(layout, centre, [(1, 2, 1), (1, 2, 1)])
    with pytest.raises(SurfaceError, match="train") as error:
        pca_plane(centre, centre[None, :])
    assert error.value.field == "directions"


def test_the_grid_is_symmetric_and_hits_zero_exactly():
    axis = grid_axis(0.3, 101)
    assert axis[0] == -0.3 and axis[-1] == 0.3 and axis[50] == 0.0
    np.testing.assert_array_equal(axis, -axis[::-1])
