"""What a step leaves behind for the visualiser: plain arrays, never drawing.

A `StepTrace` is one training step on one mini-batch; a `SampleTrace` is one chosen sample's
forward and backward pass at the current weights with no update (the "probe" that teaching
mode and the inspector show). Deltas are ∂L/∂z of the loss L being differentiated: the batch's
mean loss for a step (so sample i's own ∂loss_i/∂z is n times its row), the sample's own loss
for a probe.

The arrays are views of the buffers the step computed into, not copies, and the records are
plain slotted classes: recording a trace costs a few object creations, so a traced step stays
within a few microseconds of an untraced one. A step's views hold its numbers until the trainer's
next step writes the same buffers; copy what must outlive that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class LayerTrace:
    pre_activations: np.ndarray  # (n, n_out) z = a_prev @ W + b
    activations: np.ndarray  # (n, n_out) a = f(z)
    deltas: np.ndarray  # (n, n_out) ∂L/∂z (see the module docstring)
    weight_gradients: np.ndarray  # (n_in, n_out) ∂objective/∂W (a probe: ∂loss/∂W, no regularisation)
    bias_gradients: np.ndarray  # (n_out,)
    weight_updates: np.ndarray | None = None  # (n_in, n_out) ΔW applied by the optimiser (steps only)
    bias_updates: np.ndarray | None = None  # (n_out,) Δb
    derivatives: np.ndarray | None = None  # (n_out,) f′(z) of a probe's hidden layer (None: output layer, steps)


@dataclass(slots=True)
class StepTrace:
    step: int  # the step count after this update
    epoch: int  # completed epochs after this update
    batch_indices: np.ndarray  # (n,) rows of the training split in this batch (read-only view)
    inputs: np.ndarray  # (n, n_inputs)
    targets: np.ndarray  # (n, K)
    labels: np.ndarray | None  # (n,) class of each row (None: regression)
    layers: list[LayerTrace]
    loss: float  # the batch's mean data loss before the update
    objective: float  # loss + regularisation penalty before the update

    @property
    def outputs(self) -> np.ndarray:
        return self.layers[-1].activations  # (n, K) ŷ before the update

    @property
    def accuracy(self) -> float | None:
        """Share of the batch classified right before the update (None: regression). Counted
        when asked, from the trace's own arrays, so a step that is never asked pays nothing."""
        if self.labels is None:
            return None
        return np.count_nonzero(self.outputs.argmax(axis=1) == self.labels) / self.labels.shape[0]


@dataclass(slots=True)
class SampleTrace:
    split: str  # "train" or "test"
    index: int  # row in that split
    inputs: np.ndarray  # (n_inputs,)
    targets: np.ndarray  # (K,)
    layers: list[LayerTrace]  # arrays of a single sample: (n_out,) vectors, (n_in, n_out) gradients
    loss: float  # this sample's data loss

    @property
    def outputs(self) -> np.ndarray:
        return self.layers[-1].activations  # (K,)
