"""JSON numbers as NumPy arrays, and back: what every resource of the client shares.

The server writes float64 numbers in their shortest exact form and Python's JSON parser reads
them back to the same float64, so an array here holds exactly the numbers of the JSON answer.
A number the server sends as `null` (a value that overflowed: JSON has no NaN or Infinity)
becomes NaN in a float array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np


class Layer(NamedTuple):
    """One weighted layer, in the engine's layout (docs/engine.md): `z = a_prev @ weights + biases`.

    `weights` has shape (n_in, n_out), inputs × outputs: row i holds the weights leaving input
    (or neuron) i of the layer before. PyTorch's `nn.Linear.weight` is outputs × inputs, so it
    takes `weights.T`. `biases` has shape (n_out,)."""

    weights: np.ndarray  # (n_in, n_out)
    biases: np.ndarray  # (n_out,)


def floats(values: Any) -> np.ndarray:
    """A float64 array of JSON numbers (nested lists of any depth); `null` becomes NaN."""
    return np.array(values, dtype=np.float64)


def ints(values: Any) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def layers_of(document: dict[str, Any]) -> list[Layer]:
    """`{"layers": [{"weights", "biases"}, …]}` (params, gradients, a surface's directions) as
    one `Layer` per weighted layer, the hidden layers first, the output layer last."""
    return [Layer(floats(layer["weights"]), floats(layer["biases"])) for layer in document["layers"]]


def layers_json(layers: Sequence[Layer] | Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, Any]:
    """The JSON body of `PUT …/params` from (weights (n_in, n_out), biases (n_out,)) pairs."""
    return {"layers": [{"weights": np.asarray(weights, dtype=np.float64).tolist(),
                        "biases": np.asarray(biases, dtype=np.float64).tolist()} for weights, biases in layers]}


def flat(layers: Sequence[Layer]) -> np.ndarray:
    """Every weight, then every bias, layer by layer: the engine's flat vector θ
    (`backprop_lab.engine.layout.ParameterLayout`), so `np.array_equal(flat(params),
    trainer.network.parameters)` compares a session with a notebook's trainer."""
    parts = [layer.weights.ravel() for layer in layers] + [layer.biases for layer in layers]
    return np.concatenate(parts) if parts else np.zeros(0)
