"""Heatmaps: bytes per neuron in the engine's grid order, each with its own range; a
resolution that keeps the default network within its byte budget."""

from __future__ import annotations

import numpy as np

from backprop_lab.server.analyses.heatmaps import quantise, resolution_for


def test_each_neuron_is_quantised_to_its_own_range_in_neuron_major_order():
    layer = np.array([[0.0, 10.0], [0.5, 20.0], [1.0, 30.0], [0.25, 10.0]])  # (G·G=4, 2 neurons)
    ranges, data = quantise([layer])
    assert ranges == [{"min": [0.0, 10.0], "max": [1.0, 30.0]}]
    assert list(data) == [0, 128, 255, 64, 0, 128, 255, 0]


def test_constant_and_non_finite_maps_stay_drawable():
    layer = np.array([[2.0, np.nan], [2.0, 1.0], [2.0, np.inf], [2.0, 3.0]])
    ranges, data = quantise([layer])
    assert ranges == [{"min": [2.0, 1.0], "max": [2.0, 3.0]}]
    assert list(data[:4]) == [0, 0, 0, 0] and list(data[4:]) == [0, 0, 0, 255]


def test_the_resolution_fits_the_budget_and_large_networks_get_fewer_heatmaps():
    size, rate = resolution_for(neurons=10, bytes_per_second=60_000, rate=10)
    assert size == 24 and rate == 10 and 10 * size * size * rate <= 60_000
    size, rate = resolution_for(neurons=2 + 6 * 16 + 2, bytes_per_second=60_000, rate=10)
    assert size == 12 and rate < 10 and 100 * size * size * rate <= 60_000 + 1e-6
