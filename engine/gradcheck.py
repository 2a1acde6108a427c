"""Why backprop: the gradient by central finite differences against the one backprop gives.

Finite differences nudge one parameter at a time, θ_p ± h, and run a forward pass each time:
2P forward passes for P parameters. Backprop gives all P partial derivatives from one forward
and one backward pass. Both are timed here on the live network so the ratio can be shown, and
both run the compiled kernels a training step uses (`kernels.gradcheck`, `kernels.passes`).
Error per parameter: |a − n| / max(|a| + |n|, 1e-8); the check reports the maximum.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from backprop_lab.engine.choices import hyperparameters, training_codes
from backprop_lab.engine.kernels.gradcheck import central_differences, objective_value
from backprop_lab.engine.kernels.passes import objective_gradient
from backprop_lab.engine.losses import Loss
from backprop_lab.engine.network import Network, as_rows
from backprop_lab.engine.workspace import Workspace

STEP = 1e-5  # h of the central difference (docs/engine.md)


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
        self.inputs, self.targets = as_rows(inputs), as_rows(targets)
        self.codes = training_codes(network.activation, network.classify, loss.name, regularization)
        self.hyper = hyperparameters(regularization_rate=rate)
        self._workspace = Workspace(network.layout, self.inputs.shape[0])

    def value(self) -> float:
        """Data loss + penalty at the current θ (one forward pass)."""
        workspace = self._workspace
        return float(objective_value(self.network.layout.table, self.codes, self.hyper, self.network.parameters,
                                     self.inputs, self.targets, workspace.z_buffer, workspace.a_buffer,
                                     workspace.losses))

    def gradient(self) -> tuple[float, float, np.ndarray]:
        """(data loss, objective, ∂objective/∂θ (P,)) by backprop, without changing θ."""
        workspace = self._workspace
        gradient = np.zeros(self.network.layout.size)  # (P,)
        data_loss, value = objective_gradient(
            self.network.layout.table, self.codes, self.hyper, self.network.parameters, self.inputs, self.targets,
            self.inputs.shape[0], workspace.z_buffer, workspace.a_buffer, workspace.d_buffer, workspace.losses,
            gradient,
        )
        return float(data_loss), float(value), gradient

    def central_differences(self, indices: np.ndarray) -> np.ndarray:
        """(f(θ + h·e_p) − f(θ − h·e_p)) / 2h for each index p, θ restored exactly afterwards."""
        indices = np.ascontiguousarray(indices, dtype=np.int64)
        out = np.zeros(indices.shape[0])  # (len(indices),)
        workspace = self._workspace
        central_differences(self.network.layout.table, self.codes, self.hyper, self.network.parameters, self.inputs,
                            self.targets, workspace.z_buffer, workspace.a_buffer, workspace.losses, indices, STEP, out)
        return out

    def central_difference(self, index: int) -> float:
        return float(self.central_differences(np.array([index]))[0])


BACKPROP_TIMINGS = 3  # backprop's time is the fastest of this many passes


def check_gradients(objective: Objective) -> GradientCheck:
    """Every parameter: backprop against central differences (2P forward passes). Backprop's
    time is the fastest of `BACKPROP_TIMINGS` passes: a single pass of a small network takes a
    few microseconds, and a first call's setup or a moment without the GIL or a core made it
    look slower than the 2P forward passes in a few checks in a hundred (300 checks of a small
    network: the lowest ratio 0.04 with one pass timed, 8.1 with the fastest of three)."""
    backprop_seconds = float("inf")
    for _ in range(BACKPROP_TIMINGS):
        started = time.perf_counter()
        analytic = objective.gradient()[2]  # (P,)
        backprop_seconds = min(backprop_seconds, time.perf_counter() - started)
    size = objective.network.layout.size
    started = time.perf_counter()
    numerical = objective.central_differences(np.arange(size))  # (P,)
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
