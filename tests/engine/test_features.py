"""Input features compute Playground's seven formulas, in the order the user chose them."""

import math

import numpy as np
import pytest

from backprop_lab.engine.features import FEATURES, FORMULAS, transform

POINT = np.array([[2.0, -3.0]])  # x1 = 2, x2 = -3

EXPECTED_AT_POINT = {
    "x1": 2.0,
    "x2": -3.0,
    "x1_squared": 4.0,
    "x2_squared": 9.0,
    "x1_x2": -6.0,
    "sin_x1": math.sin(2.0),
    "sin_x2": math.sin(-3.0),
}


def test_the_registry_holds_exactly_the_seven_api_names_with_a_formula_each():
    assert list(FEATURES) == ["x1", "x2", "x1_squared", "x2_squared", "x1_x2", "sin_x1", "sin_x2"]
    assert set(FORMULAS) == set(FEATURES)


@pytest.mark.parametrize("name", list(EXPECTED_AT_POINT))
def test_each_feature_matches_its_formula_worked_by_hand(name):
    column = FEATURES[name](POINT)
    assert column.shape == (1,)
    assert column[0] == pytest.approx(EXPECTED_AT_POINT[name], rel=0, abs=1e-15)


def test_transform_stacks_columns_in_the_order_given():
    points = np.array([[2.0, -3.0], [0.5, 1.0], [0.0, 0.0]])
    inputs = transform(points, ["x2_squared", "x1", "x1_x2"])
    assert inputs.shape == (3, 3)
    assert inputs.dtype == np.float64
    np.testing.assert_array_equal(inputs[:, 0], points[:, 1] ** 2)
    np.testing.assert_array_equal(inputs[:, 1], points[:, 0])
    np.testing.assert_array_equal(inputs[:, 2], points[:, 0] * points[:, 1])


def test_transform_accepts_integer_points_and_returns_float64():
    inputs = transform(np.array([[1, 2]]), ("x1", "x2"))
    assert inputs.dtype == np.float64
    np.testing.assert_array_equal(inputs, [[1.0, 2.0]])


def test_changing_the_inputs_does_not_change_the_points():
    points = np.array([[1.0, 2.0]])
    inputs = transform(points, ["x1"])
    inputs[0, 0] = 99.0
    assert points[0, 0] == 1.0


def test_an_unknown_feature_is_refused_by_name():
    with pytest.raises(ValueError, match="'x3'"):
        transform(POINT, ["x1", "x3"])


def test_an_empty_feature_list_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        transform(POINT, [])


def test_points_that_are_not_two_dimensional_are_refused():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        transform(np.zeros((4, 3)), ["x1"])
