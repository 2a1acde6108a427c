"""The probe: one chosen sample's forward and backward pass at the current weights, no update.

This is what the inspector explains neuron by neuron (`z = tanh(w₁·a₁ + … + b)`, with f′(z))
and edge by edge (∂loss/∂w by the chain rule). Its gradients are of this sample's data loss
alone, without regularisation, so they read as the textbook's chain rule. It runs the same
compiled pass as a training step (`kernels.passes.objective_gradient`) on a batch of one.
"""

from __future__ import annotations

import numpy as np

from backprop_lab.engine.choices import hyperparameters, training_codes
from backprop_lab.engine.kernels.passes import hidden_slopes, objective_gradient
from backprop_lab.engine.losses import Loss
from backprop_lab.engine.network import Network, as_rows
from backprop_lab.engine.trace import LayerTrace, SampleTrace
from backprop_lab.engine.workspace import Workspace


def probe_sample(
    network: Network, loss: Loss, inputs: np.ndarray, targets: np.ndarray, split: str, index: int
) -> SampleTrace:
    """Forward and backward for row `index` of `split`; `inputs` (n_inputs,), `targets` (K,)."""
    x = as_rows(inputs.reshape(1, -1))  # (1, n_inputs)
    y = as_rows(targets.reshape(1, -1))  # (1, K)
    layout = network.layout
    codes = training_codes(network.activation, network.classify, loss.name)  # no regularisation
    workspace = Workspace(layout, 1)
    gradient = np.zeros(layout.size)  # (P,)
    slopes = np.zeros(layout.units)  # f′(z) blocks, laid out like z
    with np.errstate(all="ignore"):
        sample_loss, _ = objective_gradient(layout.table, codes, hyperparameters(), network.parameters, x, y, 1,
                                            workspace.z_buffer, workspace.a_buffer, workspace.d_buffer,
                                            workspace.losses, gradient)
        hidden_slopes(layout.table, codes, 1, 1, workspace.z_buffer, workspace.a_buffer, slopes)
    weight_grads, bias_grads = layout.views(gradient)
    output = network.depth - 1
    layers = [
        LayerTrace(workspace.z(layer, 1)[0], workspace.a(layer, 1)[0], workspace.deltas(layer, 1)[0],
                   weight_grads[layer], bias_grads[layer],
                   derivatives=None if layer == output else workspace.block(slopes, layer, 1)[0])
        for layer in range(network.depth)
    ]
    return SampleTrace(split, index, x[0], y[0], layers, float(sample_loss))
