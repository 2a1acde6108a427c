"""A fully connected network whose parameters live in one flat vector.

Layer l has weights W[l] of shape (n_in, n_out) and biases b[l] of shape (n_out,) (DESIGN §4):

    z = a_prev @ W + b          pre-activations
    a = f(z)                    activations (softmax or identity on the output layer)

All weights, then all biases, sit in one contiguous float64 vector `parameters`; `weights[l]`
and `biases[l]` are views into it. One vector makes the optimiser a handful of NumPy calls
whatever the depth, makes "is every weight finite?" one call, and gives the loss surface and
the gradient check a plain parameter space to move in. Gradients use the same layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from engine.activations import Activation, get_activation
from engine.losses import output_activation

INITS = ("xavier", "he", "uniform")

# Matrix products go through np.dot, which calls BLAS directly: on the training step's tiny
# matrices it costs about half of what `@` (the matmul gufunc machinery) does per call. For the
# same reason ∂L/∂b = Σ_rows δ is taken as 1ᵀ·δ rather than a reduction along axis 0.
_dot = np.dot


@lru_cache(maxsize=8)
def _ones(n: int) -> np.ndarray:
    ones = np.ones(n)  # (n,)
    ones.flags.writeable = False
    return ones


@dataclass(frozen=True)
class ParameterLayout:
    """Where each layer's weights and biases sit in the flat vector."""

    layer_sizes: tuple[int, ...]  # (n_inputs, hidden…, n_outputs)

    @cached_property
    def shapes(self) -> list[tuple[int, int]]:
        return list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))

    @cached_property
    def n_weights(self) -> int:
        return sum(n_in * n_out for n_in, n_out in self.shapes)

    @cached_property
    def size(self) -> int:
        return self.n_weights + sum(self.layer_sizes[1:])

    def views(self, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Per-layer weight (n_in, n_out) and bias (n_out,) views into `flat`."""
        weights, biases = [], []
        offset = 0
        for n_in, n_out in self.shapes:
            weights.append(flat[offset : offset + n_in * n_out].reshape(n_in, n_out))
            offset += n_in * n_out
        for _, n_out in self.shapes:
            biases.append(flat[offset : offset + n_out])
            offset += n_out
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


@dataclass(slots=True)
class Forward:
    """What the forward pass keeps for the backward pass and for the visualiser."""

    inputs: np.ndarray  # (n, n_inputs)
    pre_activations: list[np.ndarray]  # per layer (n, n_out)
    activations: list[np.ndarray]  # per layer (n, n_out); the last is ŷ

    @property
    def outputs(self) -> np.ndarray:
        return self.activations[-1]


def initial_parameters(layout: ParameterLayout, init: str, rng: np.random.Generator) -> np.ndarray:
    """Random weights by `init`, drawn layer by layer from `rng`; biases start at 0 (DESIGN §4)."""
    chunks = []
    for n_in, n_out in layout.shapes:
        if init == "xavier":
            limit = np.sqrt(6.0 / (n_in + n_out))
            chunks.append(rng.uniform(-limit, limit, size=n_in * n_out))
        elif init == "he":
            chunks.append(rng.normal(0.0, np.sqrt(2.0 / n_in), size=n_in * n_out))
        elif init == "uniform":
            chunks.append(rng.uniform(-0.5, 0.5, size=n_in * n_out))
        else:
            raise ValueError(f"unknown init {init!r}; choose one of {list(INITS)}")
    chunks.append(np.zeros(sum(layout.layer_sizes[1:])))
    return np.concatenate(chunks)  # (P,)


class Network:
    """Forward and backward passes over a batch; owns the parameters, nothing about training."""

    def __init__(self, layer_sizes: Sequence[int], activation: str, classify: bool, parameters: np.ndarray):
        if len(layer_sizes) < 2 or min(layer_sizes) < 1:
            raise ValueError(f"layer sizes must be at least two positive numbers, not {list(layer_sizes)}")
        self.layout = ParameterLayout(tuple(int(n) for n in layer_sizes))
        if parameters.shape != (self.layout.size,):
            raise ValueError(f"expected {self.layout.size} parameters, got shape {parameters.shape}")
        self.activation: Activation = get_activation(activation)
        self.classify = classify
        self.parameters = np.array(parameters, dtype=np.float64)  # (P,), owned
        self.weights, self.biases = self.layout.views(self.parameters)
        # Looked up once: the training step calls these ~10 times per step and a step of a small
        # network costs about as much in Python attribute lookups as in arithmetic.
        self._output_layer = len(self.weights) - 1
        self._function = self.activation.function
        self._derivative = self.activation.derivative

    @classmethod
    def initialised(
        cls, layer_sizes: Sequence[int], activation: str, classify: bool, init: str, rng: np.random.Generator
    ) -> Network:
        layout = ParameterLayout(tuple(layer_sizes))
        return cls(layer_sizes, activation, classify, initial_parameters(layout, init, rng))

    @property
    def depth(self) -> int:
        """Number of layers with weights (hidden layers + the output layer)."""
        return len(self.weights)

    @property
    def n_weights(self) -> int:
        return self.layout.n_weights

    def layer_forward(self, layer: int, previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One layer: (z, a) from the previous layer's activations."""
        z = _dot(previous, self.weights[layer])  # (n, n_out)
        z += self.biases[layer]
        if layer == self._output_layer:
            return z, output_activation(z, self.classify)
        return z, self._function(z)

    def forward(self, inputs: np.ndarray) -> Forward:
        pre_activations, activations = [], []
        a = inputs
        for layer in range(len(self.weights)):
            z, a = self.layer_forward(layer, a)
            pre_activations.append(z)
            activations.append(a)
        return Forward(inputs, pre_activations, activations)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """ŷ for every row of `inputs`: (n, K) probabilities or (n, 1) values."""
        return self.forward(inputs).outputs

    def layer_backward(
        self, layer: int, forward: Forward, deltas: np.ndarray, weight_gradient: np.ndarray, bias_gradient: np.ndarray
    ) -> np.ndarray | None:
        """Chain rule through one layer. `deltas` are ∂L/∂z of this layer, where L is the batch's
        mean loss (so each row already carries its 1/n). Writes ∂L/∂W = a_prevᵀ·δ and ∂L/∂b = Σ δ
        into the given arrays and returns ∂L/∂z of the layer below (None below layer 0)."""
        previous = forward.inputs if layer == 0 else forward.activations[layer - 1]
        _dot(previous.T, deltas, out=weight_gradient)  # (n_in, n_out)
        _dot(_ones(deltas.shape[0]), deltas, out=bias_gradient)  # (n_out,)
        if layer == 0:
            return None
        below = _dot(deltas, self.weights[layer].T)  # (n, n_in): ∂L/∂a of the layer below
        below *= self._derivative(forward.pre_activations[layer - 1], forward.activations[layer - 1])
        return below  # (n, n_in): ∂L/∂z of the layer below

    def backward(
        self,
        forward: Forward,
        output_deltas: np.ndarray,
        weight_gradients: list[np.ndarray],
        bias_gradients: list[np.ndarray],
        deltas_record: list[np.ndarray] | None = None,
    ) -> None:
        """Backpropagation from the output layer L down to layer 1. `output_deltas` are ∂L/∂z of
        the output layer for the batch's mean loss L (see `Loss.mean_and_deltas`). Writes every
        ∂L/∂W and ∂L/∂b into the given per-layer arrays (views of a flat gradient laid out like
        `parameters`, see `ParameterLayout.views`). When `deltas_record` is a list, it receives
        each layer's ∂L/∂z, layer 1 first."""
        deltas: np.ndarray | None = output_deltas
        for layer in range(len(self.weights) - 1, -1, -1):
            assert deltas is not None
            if deltas_record is not None:
                deltas_record.insert(0, deltas)
            deltas = self.layer_backward(layer, forward, deltas, weight_gradients[layer], bias_gradients[layer])
