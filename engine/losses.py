"""Loss functions and the output layer they pair with, plus l1/l2 regularisation (DESIGN §4).

"Loss", "cost" and "error" function name the same thing here: a number that says how far the
network's outputs ŷ are from the ground truth y. Per sample:

    mse            ½·Σ_k (ŷ_k − y_k)²            (regression: a linear output layer)
    cross_entropy  −Σ_k y_k·log ŷ_k               (classification: a softmax output layer)

The data loss of a batch is the mean over its samples. Each loss also gives the output deltas,
∂loss_i/∂z for every sample i, where z are the output layer's pre-activations (logits); the
backward pass starts from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# The ufuncs' own reduce methods: the same arithmetic as ndarray.max/sum without the Python
# wrapper around them, which matters on the training hot path (a step is ~40 NumPy calls).
_row_max = np.maximum.reduce
_row_sum = np.add.reduce
_all = np.logical_and.reduce  # every entry non-zero


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so exp never overflows (logits of ±1000 are fine)."""
    exps = logits - _row_max(logits, axis=1, keepdims=True)  # (n, K), every row's max is 0
    np.exp(exps, out=exps)
    exps /= _row_sum(exps, axis=1, keepdims=True)
    return exps


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log(softmax(z)) computed as z − max − log Σ exp(z − max): finite for any finite logits."""
    shifted = logits - logits.max(axis=1, keepdims=True)  # (n, K)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (n, K)


def output_activation(logits: np.ndarray, classify: bool) -> np.ndarray:
    """The output layer: softmax probabilities when classifying, the logits themselves otherwise."""
    return softmax(logits) if classify else logits


def _mse_per_sample(logits: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    errors = outputs - targets  # (n, K)
    return 0.5 * np.einsum("ij,ij->i", errors, errors)  # (n,)


def _mse_deltas(outputs: np.ndarray, targets: np.ndarray, classify: bool) -> np.ndarray:
    errors = outputs - targets  # (n, K) = ∂loss_i/∂ŷ
    if not classify:
        return errors  # linear output: ∂ŷ/∂z = 1
    # Through softmax: ∂loss/∂z_j = ŷ_j·(g_j − Σ_k g_k·ŷ_k) with g = ∂loss/∂ŷ.
    return outputs * (errors - np.einsum("ij,ij->i", errors, outputs)[:, None])  # (n, K)


def _cross_entropy_per_sample(logits: np.ndarray, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return -np.einsum("ij,ij->i", targets, log_softmax(logits))  # (n,)


def _cross_entropy_deltas(outputs: np.ndarray, targets: np.ndarray, classify: bool) -> np.ndarray:
    if not classify:
        raise ValueError("cross_entropy needs a softmax output (a classification data set); use mse")
    return outputs - targets  # (n, K): softmax and cross-entropy together simplify to ŷ − y


def _mse_mean_and_deltas(
    logits: np.ndarray, outputs: np.ndarray, targets: np.ndarray, classify: bool, labels: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    scale = 1.0 / outputs.shape[0]
    errors = outputs - targets  # (n, K)
    mean_loss = 0.5 * scale * float(np.vdot(errors, errors))
    if classify:
        return mean_loss, _mse_deltas(outputs, targets, True) * scale
    errors *= scale
    return mean_loss, errors  # (n, K) ∂(mean loss)/∂z


def _cross_entropy_mean_and_deltas(
    logits: np.ndarray, outputs: np.ndarray, targets: np.ndarray, classify: bool, labels: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    deltas = _cross_entropy_deltas(outputs, targets, classify)  # (n, K)
    n = outputs.shape[0]
    if labels is None:
        labels = targets.argmax(axis=1)  # (n,)
    # Fast path: −log of the probability the one-hot target picks. It is exact unless that
    # probability underflowed to 0 (a loss above ~700); then take the stable log-softmax.
    picked = outputs[np.arange(n), labels]  # (n,) ŷ of the true class
    if _all(picked):
        mean_loss = -float(_row_sum(np.log(picked))) / n
    else:
        mean_loss = float(_row_sum(_cross_entropy_per_sample(logits, outputs, targets))) / n
    deltas *= 1.0 / n
    return mean_loss, deltas


@dataclass(frozen=True)
class Loss:
    name: str
    formula: str  # how the inspector writes the per-sample loss
    per_sample: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]  # (logits, ŷ, y) -> (n,)
    deltas: Callable[[np.ndarray, np.ndarray, bool], np.ndarray]  # (ŷ, y, classify) -> (n, K) ∂loss_i/∂z
    # (logits, ŷ, y, classify, labels) -> (mean loss over the batch, (n, K) ∂(mean loss)/∂z): the
    # training step's fused form of the two above. `labels` (n,), the class index of each one-hot
    # row of y, spares the step an argmax when the caller already has them (None: computed).
    mean_and_deltas: Callable[..., tuple[float, np.ndarray]]
    # How the inspector writes the output delta δ_j = ∂loss/∂z_j, through each output layer
    # (None: that pairing is refused, as cross-entropy on a linear output is).
    softmax_delta_formula: str | None = None
    linear_delta_formula: str | None = None


LOSSES: dict[str, Loss] = {
    "mse": Loss(
        "mse",
        "½·Σ_k (ŷ_k − y_k)²",
        _mse_per_sample,
        _mse_deltas,
        _mse_mean_and_deltas,
        softmax_delta_formula="ŷ_j·((ŷ_j − y_j) − Σ_k (ŷ_k − y_k)·ŷ_k)",
        linear_delta_formula="ŷ_j − y_j",
    ),
    "cross_entropy": Loss(
        "cross_entropy",
        "−Σ_k y_k·log ŷ_k",
        _cross_entropy_per_sample,
        _cross_entropy_deltas,
        _cross_entropy_mean_and_deltas,
        softmax_delta_formula="ŷ_j − y_j",
    ),
}

# How the inspector writes the output layer's activation ŷ = g(z) (softmax lives here, with
# the losses, since cross-entropy's delta through it simplifies to ŷ − y).
OUTPUT_FORMULAS: dict[str, str] = {
    "softmax": "ŷ_j = e^(z_j) / Σ_k e^(z_k)",
    "linear": "ŷ_j = z_j",
}

REGULARIZATIONS = ("none", "l1", "l2")
# The penalty added to the data loss and its gradient per weight (DESIGN §4: weights only).
REGULARIZATION_FORMULAS: dict[str, dict[str, str]] = {
    "none": {"penalty": "0", "gradient": "0"},
    "l1": {"penalty": "λ·Σ |w|", "gradient": "λ·sign(w)"},
    "l2": {"penalty": "(λ/2)·Σ w²", "gradient": "λ·w"},
}


def get_loss(name: str) -> Loss:
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of {sorted(LOSSES)}") from None


def regularization_penalty(weights: np.ndarray, kind: str, rate: float) -> float:
    """The term added to the data loss: l2 (λ/2)·Σ W², l1 λ·Σ |W|; `weights` holds every weight,
    never a bias."""
    if kind == "none" or rate == 0.0:
        return 0.0
    if kind == "l2":
        return 0.5 * rate * float(np.dot(weights, weights))
    if kind == "l1":
        return rate * float(np.abs(weights).sum())
    raise ValueError(f"unknown regularization {kind!r}; choose one of {list(REGULARIZATIONS)}")


def add_regularization_gradient(weight_gradient: np.ndarray, weights: np.ndarray, kind: str, rate: float) -> None:
    """Adds ∂penalty/∂W in place: λ·W for l2, λ·sign(W) for l1."""
    if kind == "none" or rate == 0.0:
        return
    if kind == "l2":
        weight_gradient += rate * weights
    elif kind == "l1":
        weight_gradient += rate * np.sign(weights)
    else:
        raise ValueError(f"unknown regularization {kind!r}; choose one of {list(REGULARIZATIONS)}")
