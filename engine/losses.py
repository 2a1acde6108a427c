"""Losses and regularisations by the names the UI and the API use (docs/engine.md).

"Loss", "cost" and "error" function name the same thing here: a number that says how far the
network's outputs ŷ are from the ground truth y. Per sample:

    mse            ½·Σ_k (ŷ_k − y_k)²            (regression: a linear output layer)
    cross_entropy  −Σ_k y_k·log ŷ_k               (classification: a softmax output layer)

The data loss of a batch is the mean over its samples. The maths is compiled
(`engine.kernels.losses`, `engine.kernels.regularization`); this module maps the names to the
kernels' codes and carries the formulas the page shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.kernels import losses as loss_kernel
from engine.kernels import regularization as penalty_kernel


@dataclass(frozen=True)
class Loss:
    name: str
    code: int  # engine.kernels.losses.CROSS_ENTROPY or MSE
    formula: str  # the per-sample loss
    delta_formula: str  # ∂loss/∂z of the output layer, per sample


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", loss_kernel.MSE, "½·Σ_k (ŷ_k − y_k)²", "ŷ − y (linear output)"),
    "cross_entropy": Loss("cross_entropy", loss_kernel.CROSS_ENTROPY, "−Σ_k y_k·log ŷ_k", "ŷ − y (softmax output)"),
}


@dataclass(frozen=True)
class Regularization:
    name: str
    code: int  # engine.kernels.regularization.NONE, L1 or L2
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
