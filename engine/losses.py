"""Losses and regularisations by the names the UI and the API use (docs/engine.md).

"Loss", "cost" and "error" function name the same thing here: a number that says how far the
network's outputs ŷ are from the ground truth y. Per sample:

    mse            ½·Σ_k (ŷ_k − y_k)²            (regression: a linear output layer)
    cross_entropy  −Σ_k y_k·log ŷ_k               (classification: a softmax output layer)

The data loss of a batch is the mean over its samples. The maths is compiled
(`backprop_lab.engine.kernels.losses`, `backprop_lab.engine.kernels.regularization`); this module maps the names to the
kernels' codes and carries the formulas the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from backprop_lab.engine.kernels import losses as loss_kernel
from backprop_lab.engine.kernels import regularization as penalty_kernel


@dataclass(frozen=True)
class Loss:
    name: str
    code: int  # backprop_lab.engine.kernels.losses.CROSS_ENTROPY or MSE
    formula: str  # the per-sample loss
    # The output delta δ_j = ∂loss/∂z_j through each output layer (None: that pairing is
    # refused, as cross-entropy on a linear output is).
    softmax_delta_formula: str | None
    linear_delta_formula: str | None


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", loss_kernel.MSE, "½·Σ_k (ŷ_k − y_k)²", "ŷ_j·((ŷ_j − y_j) − Σ_k (ŷ_k − y_k)·ŷ_k)",
                "ŷ_j − y_j"),
    "cross_entropy": Loss("cross_entropy", loss_kernel.CROSS_ENTROPY, "−Σ_k y_k·log ŷ_k", "ŷ_j − y_j", None),
}

# The output layer's activation ŷ = g(z) (softmax lives here, with the losses, since
# cross-entropy's delta through it simplifies to ŷ − y).
OUTPUT_FORMULAS: dict[str, str] = {
    "softmax": "ŷ_j = e^(z_j) / Σ_k e^(z_k)",
    "linear": "ŷ_j = z_j",
}


@dataclass(frozen=True)
class Regularization:
    name: str
    code: int  # backprop_lab.engine.kernels.regularization.NONE, L1 or L2
    formula: str  # the penalty added to the data loss (weights only, never biases)
    gradient_formula: str


REGULARIZATIONS: dict[str, Regularization] = {
    "none": Regularization("none", penalty_kernel.NONE, "0", "0"),
    "l1": Regularization("l1", penalty_kernel.L1, "λ·Σ |w|", "λ·sign(w)"),
    "l2": Regularization("l2", penalty_kernel.L2, "(λ/2)·Σ w²", "λ·w"),
}


def get_loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


def get_regularization(name: str) -> Regularization:
    try:
        return REGULARIZATIONS[name]
    except KeyError:
        raise ValueError(f"unknown regularization {name!r}; choose one of {list(REGULARIZATIONS)}") from None
