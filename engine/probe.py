"""The probe: one chosen sample's forward and backward pass at the current weights, no update.

This is what the inspector explains neuron by neuron (`z = tanh(w₁·a₁ + … + b)`) and edge by
edge (∂loss/∂w by the chain rule). Its gradients are of this sample's data loss alone, without
regularisation, so they read as the textbook's chain rule.
"""

from __future__ import annotations

import numpy as np

from engine.losses import Loss
from engine.network import Network
from engine.trace import LayerTrace, SampleTrace


def probe_sample(
    network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray, split: str, index: int
) -> SampleTrace:
    """Forward and backward for row `index` of `split`; `inputs` (n_inputs,), `targets` (K,)."""
    x = inputs.reshape(1, -1)  # (1, n_inputs)
    y = targets.reshape(1, -1)  # (1, K)
    forward = network.forward(x)
    sample_loss, output_deltas = loss.mean_and_deltas(forward.pre_activations[-1], forward.outputs, y, network.classify)
    gradient = np.zeros(network.layout.size)  # (P,)
    weight_grads, bias_grads = network.layout.views(gradient)
    deltas: list[np.ndarray] = []
    network.backward(forward, output_deltas, weight_grads, bias_grads, deltas)  # n = 1: mean = the sample
    layers = [
        LayerTrace(z[0], a[0], d[0], gw, gb)
        for z, a, d, gw, gb in zip(
            forward.pre_activations, forward.activations, deltas, weight_grads, bias_grads, strict=True
        )
    ]
    derivative = network.activation.derivative
    for layer in layers[:-1]:  # hidden layers: the f′(z) their deltas were multiplied by
        layer.derivatives = derivative(layer.pre_activations, layer.activations)  # (n_out,)
    return SampleTrace(split, index, x[0], y[0], layers, sample_loss)
