"""The `codes` and `hyper` arrays the compiled kernels take, made from the names a config uses.

One place turns names into kernel codes (`backprop_lab.engine.kernels.codes` says where each sits), so the
trainer, the probe, the evaluation and the gradient check all hand the kernels the same choices.
"""

from __future__ import annotations

import numpy as np

from backprop_lab.engine.activations import Activation
from backprop_lab.engine.kernels import codes as slot
from backprop_lab.engine.losses import get_loss, get_regularization
from backprop_lab.engine.optimizers import OPTIMIZER_KINDS


def network_codes(activation: Activation, classify: bool) -> np.ndarray:
    """Codes for a forward pass: the hidden activation and the output layer (the rest unused)."""
    codes = np.zeros(slot.N_CODES, dtype=np.int64)  # (N_CODES,)
    codes[slot.ACTIVATION] = activation.code
    codes[slot.CLASSIFY] = int(classify)
    return codes


def training_codes(
    activation: Activation, classify: bool, loss: str, regularization: str = "none", optimizer: str = "sgd"
) -> np.ndarray:
    """Codes for the loss, the backward pass and the update too."""
    codes = network_codes(activation, classify)
    codes[slot.LOSS] = get_loss(loss).code
    codes[slot.REGULARIZATION] = get_regularization(regularization).code
    codes[slot.OPTIMIZER] = OPTIMIZER_KINDS[optimizer].code
    return codes


def hyperparameters(learning_rate: float = 0.0, momentum: float = 0.0, regularization_rate: float = 0.0) -> np.ndarray:
    hyper = np.zeros(slot.N_HYPER)  # (N_HYPER,)
    hyper[slot.LEARNING_RATE] = learning_rate
    hyper[slot.MOMENTUM] = momentum
    hyper[slot.REGULARIZATION_RATE] = regularization_rate
    return hyper
