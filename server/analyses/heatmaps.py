"""Every neuron's output over a G×G grid of the input plane, quantised to bytes.

The page draws one small heatmap per neuron and the decision boundary (or regression surface)
from the output layer. 256 levels are all a colour map needs, so each neuron's map is sent as
G×G unsigned bytes with its own min and max: byte q stands for `min + q/255·(max − min)`.
Layout of the binary message: for each layer entry (the input features first, then each
weighted layer), for each neuron, G rows of G bytes, row 0 at x2 = x2_min, columns from
x1 = x1_min (the engine's `grid_inputs` order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from backprop_lab.engine.datasets import Dataset, grid_inputs
from backprop_lab.engine.evaluation import grid_activations
from backprop_lab.engine.network import Network

MIN_RESOLUTION = 12
MAX_RESOLUTION = 48


def resolution_for(neurons: int, bytes_per_second: float, rate: float) -> tuple[int, float]:
    """(G, heatmaps per second) that keep the heatmap traffic within `bytes_per_second`.

    G is as large as the budget allows at `rate`, within [12, 48]; a network so large that
    even G = 12 would break the budget gets fewer heatmaps a second instead of a blurrier grid.
    """
    per_message = bytes_per_second / rate
    size = int(math.isqrt(max(1, int(per_message // max(neurons, 1)))))
    size = max(MIN_RESOLUTION, min(MAX_RESOLUTION, size))
    rate = min(rate, bytes_per_second / (neurons * size * size))
    return size, rate


@dataclass(frozen=True)
class HeatmapGrid:
    """The grid of one data set and feature choice, built once per (re)initialisation."""

    resolution: int
    extent: tuple[float, float, float, float]
    inputs: np.ndarray  # (G·G, n_inputs)

    @classmethod
    def of(cls, dataset: Dataset, features: tuple[str, ...], resolution: int) -> HeatmapGrid:
        _, inputs = grid_inputs(dataset, features, resolution)  # (G·G, n_inputs)
        return cls(resolution, dataset.extent, inputs)


@dataclass(frozen=True)
class Rendered:
    """One rendering: the grid's size, each layer's ranges and the bytes (the layout above)."""

    resolution: int
    ranges: list[dict[str, list[float]]]
    data: bytes


def quantise(activations: list[np.ndarray]) -> tuple[list[dict[str, list[float]]], bytes]:
    """Per-layer `{"min": [...], "max": [...]}` and the concatenated bytes.

    Each array is (G·G, n) for one layer; each neuron gets its own range. A non-finite value
    (an overflowing network) is drawn as the neuron's minimum and left out of its range.
    """
    ranges: list[dict[str, list[float]]] = []
    chunks: list[bytes] = []
    for values in activations:
        finite = np.isfinite(values)  # (G·G, n)
        if finite.all():
            low = values.min(axis=0)  # (n,)
            high = values.max(axis=0)  # (n,)
            clean = values
        else:
            low = np.where(finite, values, np.inf).min(axis=0)
            high = np.where(finite, values, -np.inf).max(axis=0)
            low = np.where(np.isfinite(low), low, 0.0)
            high = np.where(np.isfinite(high), high, 0.0)
            clean = np.where(finite, values, low)
        span = high - low  # (n,)
        scale = np.divide(255.0, span, out=np.zeros_like(span), where=span > 0)  # (n,)
        levels = np.rint((clean - low) * scale)  # (G·G, n)
        chunks.append(np.ascontiguousarray(levels.T, dtype=np.uint8).tobytes())  # n × (G·G)
        ranges.append({"min": low.tolist(), "max": high.tolist()})
    return ranges, b"".join(chunks)


def render(network: Network, grid: HeatmapGrid) -> tuple[list[dict[str, list[float]]], bytes]:
    """Run the grid through the network once and quantise every neuron's map."""
    return quantise(grid_activations(network, grid.inputs))
