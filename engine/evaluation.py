"""Metrics on whole splits at the current weights, and activations over a grid of the plane.

Metrics are evaluated on the whole split every time they are asked for (not a running average
of batches), so the train and test curves compare like with like; one compiled call does the
forward pass and every metric (`backprop_lab.engine.kernels.metrics.evaluate`). Weights can be finite yet
huge just before training diverges: a loss can come back infinite, and callers that publish it
must say so rather than send it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_lab.engine.choices import training_codes
from backprop_lab.engine.kernels.metrics import evaluate
from backprop_lab.engine.losses import Loss, get_loss
from backprop_lab.engine.network import Network, as_rows
from backprop_lab.engine.workspace import Workspace


@dataclass(frozen=True, slots=True)
class SplitEvaluation:
    metrics: dict[str, float]  # "loss", then "accuracy" or "rmse" and "r2"
    confusion: np.ndarray | None  # (K, K) counts, row = true class, column = predicted; None: regression


def evaluate_split(network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray,
                   workspace: Workspace | None = None) -> SplitEvaluation:
    """Data loss, and accuracy and the confusion matrix (classification) or RMSE and R²
    (regression), over one split, all from one forward pass. A `workspace` made for this
    network and exactly the split's rows keeps that pass (every layer's z and a) for the caller;
    one is made here when None."""
    x = as_rows(inputs)
    rows = x.shape[0]
    classes = targets.shape[1] if network.classify else 1
    confusion = np.zeros((classes, classes), dtype=np.int64)  # (K, K)
    if workspace is None:
        workspace = Workspace(network.layout, rows)
    elif workspace.capacity != rows:
        raise ValueError(f"workspace: made for {workspace.capacity} rows, the split has {rows}")
    codes = training_codes(network.activation, network.classify, loss.name)
    value, second, third = evaluate(network.layout.table, codes, network.parameters, x, as_rows(targets),
                                    workspace.z_buffer, workspace.a_buffer, workspace.losses, confusion)
    if network.classify:
        return SplitEvaluation({"loss": float(value), "accuracy": float(second)}, confusion)
    return SplitEvaluation({"loss": float(value), "rmse": float(second), "r2": float(third)}, None)


def split_metrics(network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """The metrics of `evaluate_split`."""
    return evaluate_split(network, loss, inputs, targets).metrics


def confusion_matrix(network: Network, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class."""
    confusion = evaluate_split(network, get_loss("cross_entropy"), inputs, targets).confusion
    assert confusion is not None, "a confusion matrix needs a classifier"
    return confusion


def grid_activations(network: Network, grid_inputs: np.ndarray) -> list[np.ndarray]:
    """Every neuron's output over a G×G grid in one batched forward pass: the inputs themselves,
    then each layer's activations, each (G·G, n_neurons). Neuron heatmaps and the decision
    boundary are drawn from these."""
    forward = network.forward(grid_inputs)
    return [grid_inputs, *forward.activations]
