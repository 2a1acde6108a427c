"""The engine's own tanh (engine/lowlevel/tanh.py) against the correctly rounded value, computed
with 60 decimal digits: within 2 units in the last place everywhere, exact where tanh is ±1, NaN
stays NaN, odd to the bit, and a value never depends on where in a batch it sits."""

from decimal import Decimal, localcontext

import numpy as np
import pytest

from backprop_lab.engine.kernels.activations import TANH, activate
from backprop_lab.engine.lowlevel.tanh import NEAR_ZERO, SATURATED, tanh


def correctly_rounded(x: float) -> float:
    with localcontext() as context:
        context.prec = 60
        d = Decimal(x)
        if abs(d) < Decimal("1e-5"):
            return float(d - d**3 / 3 + 2 * d**5 / 15)
        e = (2 * d).exp()
        return float((e - 1) / (e + 1))


def sample_points() -> np.ndarray:
    rng = np.random.default_rng(7)
    edges = [NEAR_ZERO, SATURATED, 1e-8, 1e-300, 5e-324, 0.5, 1.0, 19.06, 22.0]
    near_edges = [np.nextafter(e, direction) for e in edges for direction in (0.0, np.inf)]
    spread = np.concatenate([rng.normal(scale=scale, size=400) for scale in (1e-6, 0.1, 0.6, 2.0, 8.0, 30.0)])
    points = np.concatenate([spread, edges, near_edges, np.linspace(-21.0, 21.0, 801)])
    return np.concatenate([points, -points])


def test_within_two_units_in_the_last_place_of_the_correctly_rounded_value():
    points = sample_points()
    ours = np.array([tanh(x) for x in points])
    truth = np.array([correctly_rounded(x) for x in points])
    nonzero = truth != 0.0
    ulps = np.abs(ours[nonzero] - truth[nonzero]) / np.spacing(np.abs(truth[nonzero]))
    assert ulps.max() <= 2.0, f"{ulps.max()} ulp at z = {points[nonzero][ulps.argmax()]!r}"
    assert np.array_equal(ours[~nonzero], truth[~nonzero])


def test_saturates_to_exactly_one_and_keeps_nan_infinities_and_signed_zero():
    assert tanh(SATURATED) == pytest.approx(1.0, abs=1e-16) and tanh(25.0) == 1.0 and tanh(-1e300) == -1.0
    assert tanh(np.inf) == 1.0 and tanh(-np.inf) == -1.0
    assert np.isnan(tanh(np.nan))
    assert tanh(0.0) == 0.0 and np.signbit(tanh(-0.0))


def test_odd_to_the_bit_and_never_decreasing():
    points = np.sort(sample_points())
    values = np.array([tanh(x) for x in points])
    assert np.array_equal(np.array([tanh(-x) for x in points]), -values)
    assert np.all(np.diff(values) >= 0.0)
    assert np.all(np.abs(values) <= 1.0)


@pytest.mark.parametrize("rows,columns", [(1, 1), (1, 3), (2, 2), (3, 5), (10, 4), (7, 16)])
def test_a_value_is_the_same_wherever_it_sits_in_the_batch(rows, columns):
    """The activation loop runs values side by side in the vector units and the last few one by
    one: both must give the same bits, or a sample's activations would depend on the batch."""
    rng = np.random.default_rng(rows * 31 + columns)
    z = rng.normal(scale=3.0, size=(rows, columns))
    a = np.empty_like(z)
    activate(TANH, z, a)
    assert np.array_equal(a, np.array([[tanh(v) for v in row] for row in z]))
