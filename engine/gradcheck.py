"""Why backprop: the gradient by central finite differences against the one backprop gives.

Finite differences nudge one parameter at a time, θ_p ± h, and run a forward pass each time:
2P forward passes for P parameters. Backprop gives all P partial derivatives from one forward
and one backward pass. Both are timed here on the live network so the ratio can be shown.
Error per parameter: |a − n| / max(|a| + |n|, 1e-8); the check reports the maximum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from engine.losses import Loss, add_regularization_gradient, regularization_penalty
from engine.network import Network

STEP = 1e-5  # h of the central difference (DESIGN §4)


@dataclass(frozen=True)
class GradientCheck:
    max_relative_error: float
    parameters: int  # P
    numerical_forward_passes: int  # 2P
    backprop_seconds: float  # one forward + one backward pass
    numerical_seconds: float  # 2P forward passes
    worst_parameter: int  # flat index of the largest error
    backprop_gradient: np.ndarray  # (P,)
    numerical_gradient: np.ndarray  # (P,)


@dataclass(frozen=True)
class ParameterCheck:
    index: int  # flat index
    backprop: float
    numerical: float
    relative_error: float
    forward_passes: int  # 2


def relative_error(analytic: np.ndarray | float, numerical: np.ndarray | float) -> np.ndarray:
    a, n = np.asarray(analytic), np.asarray(numerical)
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)


class Objective:
    """The objective (mean data loss + penalty) of a fixed data split, as a function of θ."""

    def __init__(self, network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray,
                 regularization: str, rate: float):
        self.network, self.loss = network, loss
        self.inputs, self.targets = inputs, targets
        self.regularization, self.rate = regularization, rate

    def value(self) -> float:
        forward = self.network.forward(self.inputs)
        data_loss = float(self.loss.per_sample(forward.pre_activations[-1], forward.outputs, self.targets).mean())
        weights = self.network.parameters[: self.network.n_weights]
        return data_loss + regularization_penalty(weights, self.regularization, self.rate)

    def gradient(self) -> tuple[float, float, np.ndarray]:
        """(data loss, objective, ∂objective/∂θ (P,)) by backprop, without changing θ."""
        network = self.network
        forward = network.forward(self.inputs)
        data_loss, output_deltas = self.loss.mean_and_deltas(
            forward.pre_activations[-1], forward.outputs, self.targets, network.classify
        )
        gradient = np.zeros(network.layout.size)  # (P,)
        network.backward(forward, output_deltas, *network.layout.views(gradient))
        weights = network.parameters[: network.n_weights]
        add_regularization_gradient(gradient[: network.n_weights], weights, self.regularization, self.rate)
        return data_loss, data_loss + regularization_penalty(weights, self.regularization, self.rate), gradient

    def central_difference(self, index: int) -> float:
        """(f(θ + h·e_p) − f(θ − h·e_p)) / 2h, restoring θ_p exactly afterwards."""
        parameters = self.network.parameters
        original = parameters[index]
        try:
            parameters[index] = original + STEP
            plus = self.value()
            parameters[index] = original - STEP
            minus = self.value()
        finally:
            parameters[index] = original
        return (plus - minus) / (2 * STEP)


def check_gradients(objective: Objective) -> GradientCheck:
    """Every parameter: backprop against central differences (2P forward passes)."""
    started = time.perf_counter()
    analytic = objective.gradient()[2]  # (P,)
    backprop_seconds = time.perf_counter() - started
    size = objective.network.layout.size
    started = time.perf_counter()
    numerical = np.array([objective.central_difference(p) for p in range(size)])  # (P,)
    numerical_seconds = time.perf_counter() - started
    errors = relative_error(analytic, numerical)
    worst = int(np.argmax(errors))
    return GradientCheck(
        max_relative_error=float(errors[worst]),
        parameters=size,
        numerical_forward_passes=2 * size,
        backprop_seconds=backprop_seconds,
        numerical_seconds=numerical_seconds,
        worst_parameter=worst,
        backprop_gradient=analytic,
        numerical_gradient=numerical,
    )


def check_parameter(objective: Objective, index: int) -> ParameterCheck:
    """One parameter (flat index): its backprop derivative against its central difference."""
    if not 0 <= index < objective.network.layout.size:
        raise IndexError(f"parameter {index} out of range 0…{objective.network.layout.size - 1}")
    analytic = float(objective.gradient()[2][index])
    numerical = objective.central_difference(index)
    return ParameterCheck(index, analytic, numerical, float(relative_error(analytic, numerical)), 2)
