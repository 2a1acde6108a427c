"""Metrics on whole splits at the current weights, and activations over a grid of the plane.

Metrics are evaluated on the whole split every time they are asked for (not a running average
of batches), so the train and test curves compare like with like. Weights can be finite yet
huge just before training diverges, so evaluation runs with floating-point warnings off: a
loss can come back infinite, and callers that publish it must say so rather than send it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.losses import Loss
from engine.network import Network


@dataclass(frozen=True, slots=True)
class SplitEvaluation:
    metrics: dict[str, float]  # "loss", then "accuracy" or "rmse" and "r2"
    confusion: np.ndarray | None  # (K, K) counts, row = true class, column = predicted; None: regression


def evaluate_split(network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray) -> SplitEvaluation:
    """Data loss, and accuracy and the confusion matrix (classification) or RMSE and R²
    (regression), over one split, all from one forward pass."""
    with np.errstate(all="ignore"):
        forward = network.forward(inputs)
        outputs = forward.outputs  # (n, K)
        metrics = {"loss": float(loss.per_sample(forward.pre_activations[-1], outputs, targets).mean())}
        if network.classify:
            actual = targets.argmax(axis=1)  # (n,)
            predicted = outputs.argmax(axis=1)  # (n,)
            metrics["accuracy"] = float(np.mean(predicted == actual))
            return SplitEvaluation(metrics, _confusion(actual, predicted, targets.shape[1]))
        residual = outputs - targets  # (n, 1)
        metrics["rmse"] = float(np.sqrt(np.mean(residual * residual)))
        spread = targets - targets.mean(axis=0)  # (n, 1)
        total = float(np.sum(spread * spread))
        metrics["r2"] = 1.0 - float(np.sum(residual * residual)) / total if total > 0 else 0.0
    return SplitEvaluation(metrics, None)


def split_metrics(network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    """The metrics of `evaluate_split`."""
    return evaluate_split(network, loss, inputs, targets).metrics


def confusion_matrix(network: Network, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """(K, K) counts: row = true class, column = predicted class."""
    with np.errstate(all="ignore"):
        predicted = network.predict(inputs).argmax(axis=1)  # (n,)
    return _confusion(targets.argmax(axis=1), predicted, targets.shape[1])


def _confusion(actual: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    cells = np.bincount(actual * classes + predicted, minlength=classes * classes)  # (K·K,)
    return cells.reshape(classes, classes)


def grid_activations(network: Network, grid_inputs: np.ndarray) -> list[np.ndarray]:
    """Every neuron's output over a G×G grid in one batched forward pass: the inputs themselves,
    then each layer's activations, each (G·G, n_neurons). Neuron heatmaps and the decision
    boundary are drawn from these."""
    with np.errstate(all="ignore"):
        forward = network.forward(grid_inputs)
    return [grid_inputs, *forward.activations]
