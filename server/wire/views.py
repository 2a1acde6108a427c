"""Engine objects as plain JSON-ready dicts: the wire's view of a trainer, shared by REST and
the WebSocket stream.

Arrays stay NumPy arrays (or views into the engine's flat vectors): `backprop_lab.server.wire.protocol.encode`
writes them straight to JSON, and turns any NaN or Infinity into `null`. So building a view is
cheap (no Python lists of floats), and nothing here copies unless it says so. A view must be
encoded before the engine takes its next step, since the arrays are live.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from backprop_lab.engine.datasets import Dataset, Split
from backprop_lab.engine.evaluation import evaluate_split
from backprop_lab.engine.gradcheck import GradientCheck
from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.losses import Loss
from backprop_lab.engine.network import Network
from backprop_lab.engine.trace import LayerTrace, SampleTrace
from backprop_lab.engine.trainer import Diverged, Trainer
from backprop_lab.engine.workspace import Workspace

JSON = dict[str, Any]


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def layers_view(layout: ParameterLayout, flat: np.ndarray) -> list[JSON]:
    """`[{"weights": (n_in, n_out), "biases": (n_out,)}, …]` from a flat vector laid out like the
    parameters (parameters, gradients, updates): views, no copy."""
    weights, biases = layout.views(flat)
    return [{"weights": w, "biases": b} for w, b in zip(weights, biases, strict=True)]


def metrics_view(network: Network, loss: Loss, dataset: Dataset,
                 workspaces: Mapping[str, Workspace] | None = None) -> JSON:
    """Loss (and accuracy, or RMSE and R²) on the whole training and test splits, and for
    classification the test split's confusion matrix (`test_confusion`, K×K counts, row = true
    class, column = predicted). `workspaces` ("train", "test": made for the split's rows) keep
    each split's forward pass (`evaluate_split`)."""
    out: JSON = {}
    for name, split in (("train", dataset.train), ("test", dataset.test)):
        workspace = None if workspaces is None else workspaces[name]
        evaluation = evaluate_split(network, loss, split.inputs, split.targets, workspace)
        for key, value in evaluation.metrics.items():
            out[f"{name}_{key}"] = finite_or_none(value)
        if name == "test" and evaluation.confusion is not None:
            out["test_confusion"] = evaluation.confusion
    return out


def trainer_metrics(trainer: Trainer) -> JSON:
    return metrics_view(trainer.network, trainer.loss, trainer.dataset)


def diverged_view(error: Diverged) -> JSON:
    return {"step": error.step, "cause": error.cause, "learning_rate": error.learning_rate, "message": str(error)}


def network_view(trainer: Trainer) -> JSON:
    network = trainer.network
    return {
        "layer_sizes": list(network.layout.layer_sizes),
        "activation": trainer.config.activation,
        "output": "softmax" if network.classify else "linear",
        "input_names": list(trainer.dataset.input_names),
        "parameters": network.layout.size,
    }


def probe_view(trace: SampleTrace) -> JSON:
    """One sample's forward and backward pass (see `backprop_lab.engine.probe`), at full precision; hidden
    layers also carry `derivatives`, f′(z) per neuron, the factor their deltas took from the
    activation."""

    def layer_view(layer: LayerTrace) -> JSON:
        out = {
            "pre_activations": layer.pre_activations,
            "activations": layer.activations,
            "deltas": layer.deltas,
            "weight_gradients": layer.weight_gradients,
            "bias_gradients": layer.bias_gradients,
        }
        if layer.derivatives is not None:  # hidden layers: f′(z); the output layer has none
            out["derivatives"] = layer.derivatives
        return out

    return {
        "split": trace.split,
        "index": trace.index,
        "inputs": trace.inputs,
        "targets": trace.targets,
        "outputs": trace.outputs,
        "loss": finite_or_none(trace.loss),
        "layers": [layer_view(layer) for layer in trace.layers],
    }


def split_view(split: Split) -> JSON:
    return {
        "points": split.points,
        "inputs": split.inputs,
        "targets": split.targets,
        "labels": split.labels,
    }


def dataset_view(dataset: Dataset) -> JSON:
    """The REST `/dataset` answer: both splits with points, inputs and targets."""
    return {
        "name": dataset.name,
        "regression": dataset.is_regression,
        "features": list(dataset.input_names),
        "classes": dataset.classes,
        "class_names": None if dataset.class_names is None else list(dataset.class_names),
        "planar": dataset.planar,
        "extent": list(dataset.extent),
        "train": split_view(dataset.train),
        "test": split_view(dataset.test),
    }


def _plotted_split(split: Split) -> JSON:
    if split.labels is not None:
        return {"points": split.points, "labels": split.labels}
    return {"points": split.points, "values": split.targets[:, 0]}


def dataset_summary_view(dataset: Dataset) -> JSON:
    """What the page plots: points and their labels (or target values), no network inputs."""
    return {
        "name": dataset.name,
        "regression": dataset.is_regression,
        "classes": dataset.classes,
        "class_names": None if dataset.class_names is None else list(dataset.class_names),
        "input_names": list(dataset.input_names),
        "planar": dataset.planar,
        "extent": list(dataset.extent),
        "train": _plotted_split(dataset.train),
        "test": _plotted_split(dataset.test),
    }


def parameter_ref(layout: ParameterLayout, index: int) -> JSON:
    """Which weight or bias a flat index names: `{"layer", "kind", "i", "j"}`."""
    offset = 0
    for layer, (n_in, n_out) in enumerate(layout.shapes):
        if index < offset + n_in * n_out:
            i, j = divmod(index - offset, n_out)
            return {"layer": layer, "kind": "weight", "i": i, "j": j}
        offset += n_in * n_out
    for layer, (_, n_out) in enumerate(layout.shapes):
        if index < offset + n_out:
            return {"layer": layer, "kind": "bias", "i": index - offset, "j": None}
        offset += n_out
    raise IndexError(f"parameter {index} out of range 0…{layout.size - 1}")


def gradient_check_view(check: GradientCheck, layout: ParameterLayout) -> JSON:
    speedup = check.numerical_seconds / check.backprop_seconds if check.backprop_seconds > 0 else math.inf
    return {
        "max_relative_error": finite_or_none(check.max_relative_error),
        "parameters": check.parameters,
        "numerical_forward_passes": check.numerical_forward_passes,
        "backprop_seconds": check.backprop_seconds,
        "numerical_seconds": check.numerical_seconds,
        "speedup": finite_or_none(speedup),
        "worst": parameter_ref(layout, check.worst_parameter),
    }
