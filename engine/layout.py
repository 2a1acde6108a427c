"""Where each layer's weights and biases sit in the flat parameter vector θ.

All weights, then all biases, sit in one contiguous float64 vector θ (P,): W[1] row by row, W[2],
…, W[L], then b[1], …, b[L]. One vector makes the optimiser one loop whatever the depth, makes
"is every weight finite?" one check, and gives the loss surface and the gradient check a plain
parameter space to move in; gradients, updates and the optimiser's memory use the same layout.
`ParameterLayout.table` is that layout as the compiled kernels read it
(`backprop_lab.engine.kernels.codes`: N_IN … UNITS_AT).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True)
class ParameterLayout:
    """Where each layer's weights and biases sit in the flat vector."""

    layer_sizes: tuple[int, ...]  # (n_inputs, hidden…, n_outputs)

    @cached_property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """(n_in, n_out) of each weighted layer."""
        return tuple(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))

    @cached_property
    def n_weights(self) -> int:
        return sum(n_in * n_out for n_in, n_out in self.shapes)

    @cached_property
    def size(self) -> int:
        return self.n_weights + sum(self.layer_sizes[1:])

    @cached_property
    def units(self) -> int:
        """Neurons in all weighted layers together (the rows of a z, a or δ buffer per sample)."""
        return sum(self.layer_sizes[1:])

    @cached_property
    def table(self) -> np.ndarray:
        """(L, 5) int64, per layer: n_in, n_out, where its weights and its biases start in θ, and
        how many units the layers before it have."""
        rows = []
        weights_at, biases_at, units_at = 0, self.n_weights, 0
        for n_in, n_out in self.shapes:
            rows.append((n_in, n_out, weights_at, biases_at, units_at))
            weights_at += n_in * n_out
            biases_at += n_out
            units_at += n_out
        table = np.array(rows, dtype=np.int64)  # (L, 5)
        table.flags.writeable = False
        return table

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-layer weight (n_in, n_out) and bias (n_out,) views into `flat`."""
        weights, biases = [], []
        for (n_in, n_out, weights_at, biases_at, _) in self.table.tolist():
            weights.append(flat[weights_at : weights_at + n_in * n_out].reshape(n_in, n_out))
            biases.append(flat[biases_at : biases_at + n_out])
        return weights, biases

    def index_of(self, layer: int, kind: str, i: int, j: int = 0) -> int:
        """Flat index of W[layer][i, j] (kind "weight") or b[layer][i] (kind "bias")."""
        shapes = self.shapes
        if not 0 <= layer < len(shapes):
            raise IndexError(f"layer {layer} out of range 0…{len(shapes) - 1}")
        n_in, n_out = shapes[layer]
        if kind == "weight":
            if not (0 <= i < n_in and 0 <= j < n_out):
                raise IndexError(f"weight ({i}, {j}) out of range for a {n_in}×{n_out} layer")
            return sum(a * b for a, b in shapes[:layer]) + i * n_out + j
        if kind == "bias":
            if not 0 <= i < n_out:
                raise IndexError(f"bias {i} out of range for a layer of {n_out} neurons")
            return self.n_weights + sum(self.layer_sizes[1 : layer + 1]) + i
        raise ValueError(f"kind must be 'weight' or 'bias', not {kind!r}")
