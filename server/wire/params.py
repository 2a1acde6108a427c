"""The `{"layers": [{"weights", "biases"}, …]}` shape of the API read back into the engine's
flat parameter vector θ (P,), checked layer by layer (the inverse of `views.layers_view`).
`PUT …/params` and a saved run's import both read weights this way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.server.wire.problems import InvalidInput


class LayerLike(Protocol):
    @property
    def weights(self) -> Sequence[Sequence[float]]: ...

    @property
    def biases(self) -> Sequence[float]: ...


def flat_parameters(
    layout: ParameterLayout, layers: Sequence[LayerLike], location: tuple[str | int, ...]
) -> np.ndarray:
    """θ (P,) from per-layer weights (n_in × n_out) and biases (n_out); raises `InvalidInput` at
    `location` + the layer and part that does not fit the network."""
    shapes = layout.shapes
    field = ".".join(str(part) for part in location[1:])
    prefix = f"{field}." if field else ""
    if len(layers) != len(shapes):
        raise InvalidInput((*location, "layers"), f"{prefix}layers: expected {len(shapes)} layers, got {len(layers)}",
                           code="wrong_shape", params={"expected": len(shapes), "value": len(layers)})
    flat = np.zeros(layout.size)  # (P,)
    weights, biases = layout.views(flat)
    for index, (layer, (n_in, n_out)) in enumerate(zip(layers, shapes, strict=True)):
        rows = [len(row) for row in layer.weights]
        if len(rows) != n_in or any(length != n_out for length in rows):
            raise InvalidInput(
                (*location, "layers", index, "weights"),
                f"{prefix}layers.{index}.weights: expected {n_in} rows of {n_out} (n_in × n_out), "
                f"got {len(rows)} rows of {sorted(set(rows)) or [0]}",
                code="wrong_shape",
                params={"expected": [n_in, n_out]},
            )
        if len(layer.biases) != n_out:
            raise InvalidInput(
                (*location, "layers", index, "biases"),
                f"{prefix}layers.{index}.biases: expected {n_out} values, got {len(layer.biases)}",
                code="wrong_shape",
                params={"expected": n_out, "value": len(layer.biases)},
            )
        weights[index][...] = np.asarray(layer.weights, dtype=np.float64).reshape(n_in, n_out)
        biases[index][...] = layer.biases
    return flat
