"""Metrics on whole splits at the current weights, and activations over a grid of the plane.

Metrics are evaluated on the whole split every time they are asked for (not a running average
of batches), so the train and test curves compare like with like. Weights can be finite yet
huge just before training diverges, so evaluation runs with floating-point warnings off: a
loss can come back infinite, and callers that publish it must say so rather than send it.
"""

from __future__ import annotations

import numpy as np

from engine.losses import Loss
from engine.network import Network


def split_metrics(network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """Data loss, and accuracy (classification) or RMSE and R² (regression), over one split."""
    with np.errstate(all="ignore"):
        forward = network.forward(inputs)
        outputs = forward.outputs  # (n, K)
        metrics = {"loss": float(loss.per_sample(forward.pre_activations[-1], outputs, targets).mean())}
        if network.classify:
            metrics["accuracy"] = float(np.mean(outputs.argmax(axis=1) == targets.argmax(axis=1)))
            return metrics
        residual = outputs - targets  # (n, 1)
        metrics["rmse"] = float(np.sqrt(np.mean(residual * residual)))
        spread = targets - targets.mean(axis=0)  # (n, 1)
        total = float(np.sum(spread * spread))
        metrics["r2"] = 1.0 - float(np.sum(residual * residual)) / total if total > 0 else 0.0
    return metrics


def confusion_matrix(network: Network, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class."""
    classes = targets.shape[1]
    with np.errstate(all="ignore"):
        predicted = network.predict(inputs).argmax(axis=1)  # (n,)
    actual = targets.argmax(axis=1)  # (n,)
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (actual, predicted), 1)
    return matrix


def grid_activations(network: Network, grid_inputs: np.ndarray) -> list[np.ndarray]:
    """Every neuron's output over a G×G grid in one batched forward pass: the inputs themselves,
    then each layer's activations, each (G·G, n_neurons). Neuron heatmaps and the decision
    boundary are drawn from these."""
    with np.errstate(all="ignore"):
        forward = network.forward(grid_inputs)
    return [grid_inputs, *forward.activations]
