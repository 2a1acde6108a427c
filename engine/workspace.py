"""The buffers a forward and backward pass write into, and per-layer views of them.

Every layer's pre-activations z, activations a and deltas δ = ∂L/∂z live in three flat float64
buffers made for `capacity` rows; layer l's block starts at capacity × (units of the layers
before it) and holds its (rows, n_out) matrix contiguously, for any rows ≤ capacity. The
kernels find the blocks with `backprop_lab.engine.kernels.passes.block`; `Workspace.block` is the same
formula on the Python side, so a trace can hand out views of what a step computed, no copies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from backprop_lab.engine.kernels.codes import N_OUT, UNITS_AT

if TYPE_CHECKING:
    from backprop_lab.engine.layout import ParameterLayout


LayerViews = tuple[np.ndarray, np.ndarray, np.ndarray]  # one layer's z, a, δ (rows, n_out)


class Workspace:
    def __init__(self, layout: ParameterLayout, capacity: int):
        self.capacity = capacity
        self.z_buffer = np.zeros(capacity * layout.units)  # every layer's z blocks
        self.a_buffer = np.zeros(capacity * layout.units)  # every layer's a blocks
        self.d_buffer = np.zeros(capacity * layout.units)  # every layer's δ blocks
        self.losses = np.zeros(capacity)  # (capacity,) each row's loss
        self._starts = [capacity * units for units in layout.table[:, UNITS_AT].tolist()]
        self._widths = layout.table[:, N_OUT].tolist()
        self._views: dict[int, list[LayerViews]] = {}

    def block(self, buffer: np.ndarray, layer: int, rows: int) -> np.ndarray:
        """Layer `layer`'s (rows, n_out) block of `buffer` (as `kernels.passes.block`)."""
        start, n_out = self._starts[layer], self._widths[layer]
        return buffer[start : start + rows * n_out].reshape(rows, n_out)

    def layers(self, rows: int) -> list[LayerViews]:
        """Every layer's (z, a, δ) views for a batch of `rows`, made once per batch size."""
        views = self._views.get(rows)
        if views is None:
            views = [(self.z(layer, rows), self.a(layer, rows), self.deltas(layer, rows))
                     for layer in range(len(self._widths))]
            self._views[rows] = views
        return views

    def z(self, layer: int, rows: int) -> np.ndarray:
        return self.block(self.z_buffer, layer, rows)  # (rows, n_out)

    def a(self, layer: int, rows: int) -> np.ndarray:
        return self.block(self.a_buffer, layer, rows)  # (rows, n_out)

    def deltas(self, layer: int, rows: int) -> np.ndarray:
        return self.block(self.d_buffer, layer, rows)  # (rows, n_out)
