"""Activation functions: each value travels with its derivative, registered under the name the
UI and the API use.

The derivative is written in terms of both the pre-activation `z` and the activation `a = f(z)`
because for some functions the cheaper form uses `a` (tanh' = 1 − a², sigmoid' = a·(1 − a)).
The output layer's softmax is not here: it lives with the losses, because the gradient of
cross-entropy through softmax simplifies to (ŷ − y) and we use that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01  # leaky_relu's slope for z ≤ 0 (DESIGN §4)


@dataclass(frozen=True)
class Activation:
    name: str
    formula: str  # how the inspector writes it, e.g. "tanh(z)"
    function: Callable[[np.ndarray], np.ndarray]  # z -> a, same shape
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (z, a) -> da/dz, same shape
    derivative_formula: str = ""  # how the inspector writes f′(z), e.g. "1 − a²" (a = f(z))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # Split by sign so exp never overflows: for z < 0 use e^z / (1 + e^z).
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def _relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (z > 0).astype(np.float64)  # relu'(0) = 0 (DESIGN §4)


def _leaky_relu(z: np.ndarray) -> np.ndarray:
    return np.where(z > 0, z, LEAKY_SLOPE * z)


def _leaky_relu_derivative(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return np.where(z > 0, 1.0, LEAKY_SLOPE)


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", "z", lambda z: z, lambda z, a: np.ones_like(z), derivative_formula="1"),
    "sigmoid": Activation(
        "sigmoid", "σ(z)", _sigmoid, lambda z, a: a * (1.0 - a), derivative_formula="σ(z)·(1 − σ(z)) = a·(1 − a)"
    ),
    "tanh": Activation(
        "tanh", "tanh(z)", np.tanh, lambda z, a: 1.0 - a * a, derivative_formula="1 − tanh²(z) = 1 − a²"
    ),
    "relu": Activation("relu", "max(0, z)", _relu, _relu_derivative, derivative_formula="1 (z > 0), 0 (z ≤ 0)"),
    "leaky_relu": Activation(
        "leaky_relu",
        "max(0.01·z, z)",
        _leaky_relu,
        _leaky_relu_derivative,
        derivative_formula="1 (z > 0), 0.01 (z ≤ 0)",
    ),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
