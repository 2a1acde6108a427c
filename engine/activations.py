"""Activation functions by the names the UI and the API use, with how the inspector writes them.

The maths itself is compiled (`backprop_lab.engine.kernels.activations`); this registry maps each name to its
kernel code and carries its formula and its derivative's formula, which `/api/v1/options`
serves so the page writes exactly what the engine computes. The derivative is written in terms
of a = f(z) where that is the cheaper form (tanh′ = 1 − a², σ′ = a·(1 − a)). The output layer's
softmax is not here: it lives with the losses, because with cross-entropy its gradient
simplifies to ŷ − y.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop_lab.engine.kernels import activations as kernel
from backprop_lab.engine.kernels.activations import LEAKY_SLOPE

__all__ = ["ACTIVATIONS", "LEAKY_SLOPE", "Activation", "get_activation"]


@dataclass(frozen=True)
class Activation:
    name: str
    code: int  # backprop_lab.engine.kernels.activations.LINEAR … LEAKY_RELU
    formula: str  # f(z), as the inspector writes it
    derivative_formula: str  # f′(z), in z or in a = f(z)


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation("linear", kernel.LINEAR, "z", "1"),
    "sigmoid": Activation("sigmoid", kernel.SIGMOID, "σ(z)", "σ(z)·(1 − σ(z)) = a·(1 − a)"),
    "tanh": Activation("tanh", kernel.TANH, "tanh(z)", "1 − tanh²(z) = 1 − a²"),
    "relu": Activation("relu", kernel.RELU, "max(0, z)", "1 (z > 0), 0 (z ≤ 0)"),
    "leaky_relu": Activation("leaky_relu", kernel.LEAKY_RELU, "max(0.01·z, z)", "1 (z > 0), 0.01 (z ≤ 0)"),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None
