"""A fully connected network whose parameters live in one flat vector.

Layer l has weights W[l] of shape (n_in, n_out) and biases b[l] of shape (n_out,) (docs/engine.md):

    z = a_prev·W + b            pre-activations
    a = f(z)                    activations (softmax or identity on the output layer)

All weights, then all biases, sit in one contiguous float64 vector `parameters` (θ), laid out by
`backprop_lab.engine.layout.ParameterLayout`; `weights[l]` and `biases[l]` are views into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backprop_lab.engine.activations import Activation, get_activation
from backprop_lab.engine.choices import network_codes
from backprop_lab.engine.kernels.passes import forward_pass
from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.workspace import Workspace

INITS = ("xavier", "he", "uniform")


@dataclass(slots=True)
class Forward:
    """What a forward pass computed, per layer, for the visualiser."""

    inputs: np.ndarray  # (n, n_inputs)
    pre_activations: list[np.ndarray]  # per layer (n, n_out)
    activations: list[np.ndarray]  # per layer (n, n_out); the last is ŷ

    @property
    def outputs(self) -> np.ndarray:
        return self.activations[-1]


def initial_parameters(layout: ParameterLayout, init: str, rng: np.random.Generator) -> np.ndarray:
    """Random weights by `init`, drawn layer by layer from `rng`; biases start at 0 (docs/engine.md)."""
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


def as_rows(inputs: np.ndarray) -> np.ndarray:
    """`inputs` as the C-ordered float64 (n, n_inputs) matrix the kernels take (no copy if it is one)."""
    return np.ascontiguousarray(inputs, dtype=np.float64)


class Network:
    """The layout, the activation and the parameters; forward passes over any rows."""

    def __init__(self, layer_sizes: Sequence[int], activation: str, classify: bool, parameters: np.ndarray):
        if len(layer_sizes) < 2 or min(layer_sizes) < 1:
            raise ValueError(f"layer sizes must be at least two positive numbers, not {list(layer_sizes)}")
        self.layout = ParameterLayout(tuple(int(n) for n in layer_sizes))
        if parameters.shape != (self.layout.size,):
            raise ValueError(f"expected {self.layout.size} parameters, got shape {parameters.shape}")
        self.activation: Activation = get_activation(activation)
        self.classify = classify
        self.codes = network_codes(self.activation, classify)  # (N_CODES,) for forward passes
        self.parameters = np.array(parameters, dtype=np.float64)  # (P,), owned
        self.weights, self.biases = self.layout.views(self.parameters)

    @classmethod
    def initialised(
        cls, layer_sizes: Sequence[int], activation: str, classify: bool, init: str, rng: np.random.Generator
    ) -> Network:
        layout = ParameterLayout(tuple(layer_sizes))
        return cls(layer_sizes, activation, classify, initial_parameters(layout, init, rng))

    def copy(self) -> Network:
        """The same network with its own copy of the parameters."""
        return Network(self.layout.layer_sizes, self.activation.name, self.classify, self.parameters)

    @property
    def depth(self) -> int:
        """Number of layers with weights (hidden layers + the output layer)."""
        return len(self.weights)

    @property
    def n_weights(self) -> int:
        return self.layout.n_weights

    def forward(self, inputs: np.ndarray) -> Forward:
        """Every layer's z and a for the rows of `inputs` (n, n_inputs), in one compiled call."""
        x = as_rows(inputs)
        rows = x.shape[0]
        workspace = Workspace(self.layout, rows)
        with np.errstate(all="ignore"):
            forward_pass(self.layout.table, self.codes, self.parameters, x, rows, workspace.z_buffer,
                         workspace.a_buffer)
        layers = range(self.depth)
        pre_activations = [workspace.z(layer, rows) for layer in layers]  # per layer (rows, n_out)
        return Forward(x, pre_activations, [workspace.a(layer, rows) for layer in layers])

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """ŷ for every row of `inputs`: (n, K) probabilities or (n, 1) values."""
        return self.forward(inputs).outputs
