"""One training step in plain NumPy: the maths of Backprop Lab, to read first.

A step takes one batch of samples and does four things, each a function below, in the notation
of docs/engine.md (whose section numbers stand beside each part):

    forward    z = a_prev·W + b and a = f(z), layer by layer from the inputs to ŷ     (§1, §2)
    loss       L_data, the batch's mean loss, and the objective J = L_data + penalty  (§3, §4)
    backward   the chain rule from the output layer down: ∂J/∂W and ∂J/∂b of each layer  (§5)
    update     the optimiser moves every parameter against its gradient             (§9)

The engine trains with compiled kernels (`engine/kernels/`) that compute exactly this, as loops
numba compiles, over one flat parameter vector and buffers reused from step to step; the tests
hold them to this module (tests/engine/test_reference.py: the same numbers within 1e-12, and this
gradient equal to finite differences). The app never calls it: it is the statement the fast code
is checked against. It imports only NumPy.

Notation: layers l = 1 … L, L the output layer; layer l has weights W[l] (n_in, n_out) and biases
b[l] (n_out,). A batch is n samples, one per row: inputs x (n, n_0) and targets y (n, K), one-hot
when classifying. Python counts from 0, so below

    layers[l − 1] = (W[l], b[l])      z[l − 1] = z of layer l      a[l] = a of layer l, a[0] = x
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Layer = tuple[np.ndarray, np.ndarray]  # (W (n_in, n_out), b (n_out,)), or their gradients or updates

LEAKY_SLOPE = 0.01  # leaky_relu's slope below 0
BETA1, BETA2, EPSILON = 0.9, 0.999, 1e-8  # Adam's constants, PyTorch's defaults


@dataclass(frozen=True)
class Choices:
    """What fixes the objective J besides the weights and the data (a `Config` names the same)."""

    activation: str  # f of the hidden layers: linear, sigmoid, tanh, relu or leaky_relu
    classify: bool  # the output layer: softmax (classification) or the identity (regression)
    loss: str  # mse or cross_entropy
    regularization: str = "none"  # none, l1 or l2
    rate: float = 0.0  # λ, the regularisation rate


# --- §2 Activation functions ----------------------------------------------------------------
def activate(z: np.ndarray, name: str) -> np.ndarray:
    """a = f(z), value by value."""
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    raise ValueError(f"unknown activation {name!r}")


def activation_derivative(z: np.ndarray, name: str) -> np.ndarray:
    """f′(z), value by value. relu has no derivative at its kink, z = 0: it takes the left one, 0."""
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return np.where(z > 0, 1.0, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE)
    raise ValueError(f"unknown activation {name!r}")


def softmax(z: np.ndarray) -> np.ndarray:
    """ŷ_k = e^(z_k) / Σ_j e^(z_j), row by row: K probabilities that sum to 1. Subtracting the
    row's largest logit first changes nothing (it cancels) but keeps every e^z at most 1, so no
    logit overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log ŷ_k = z_k − log Σ_j e^(z_j), row by row, with the same shift: finite even where ŷ_k
    itself underflows to 0 (a logit 2000 below the largest)."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# --- §1 The forward pass --------------------------------------------------------------------
def forward(layers: list[Layer], x: np.ndarray, choices: Choices) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """z and a of every layer for the rows of x: z = a_prev·W + b, then a = f(z) on a hidden
    layer, softmax(z) or z itself on the output layer. Returns (z, a), each (n, n_l) per layer,
    with a[0] = x; a[-1] is ŷ."""
    z, a = [], [x]
    for number, (W, b) in enumerate(layers, start=1):
        z.append(a[-1] @ W + b)
        if number < len(layers):
            a.append(activate(z[-1], choices.activation))
        else:
            a.append(softmax(z[-1]) if choices.classify else z[-1])
    return z, a


# --- §3, §4 The loss and the objective ------------------------------------------------------
def data_loss(z_out: np.ndarray, y_hat: np.ndarray, y: np.ndarray, loss: str) -> float:
    """L_data = (1/n)·Σ_i ℓ_i, the mean over the batch of each sample's loss

        mse             ℓ = ½·Σ_k (ŷ_k − y_k)²
        cross_entropy   ℓ = −Σ_k y_k·log ŷ_k        (log ŷ from the output logits z_out)
    """
    if loss == "mse":
        per_sample = 0.5 * np.sum((y_hat - y) ** 2, axis=1)
    elif loss == "cross_entropy":
        per_sample = -np.sum(y * log_softmax(z_out), axis=1)
    else:
        raise ValueError(f"unknown loss {loss!r}")
    return float(np.mean(per_sample))


def penalty(layers: list[Layer], choices: Choices) -> float:
    """(λ/2)·Σ W² (l2), λ·Σ |W| (l1), or 0: over every weight of every layer, never a bias."""
    if choices.regularization == "l2":
        return choices.rate / 2 * sum(float(np.sum(W**2)) for W, _ in layers)
    if choices.regularization == "l1":
        return choices.rate * sum(float(np.sum(np.abs(W))) for W, _ in layers)
    return 0.0


def penalty_gradient(W: np.ndarray, choices: Choices) -> np.ndarray:
    """∂penalty/∂W: λ·W (l2), λ·sign(W) (l1, with sign(0) = 0), or 0."""
    if choices.regularization == "l2":
        return choices.rate * W
    if choices.regularization == "l1":
        return choices.rate * np.sign(W)
    return np.zeros_like(W)


def loss_and_objective(layers: list[Layer], x: np.ndarray, y: np.ndarray, choices: Choices) -> tuple[float, float]:
    """(L_data, J) of the network on the rows x with targets y. The loss is what the app reports;
    the objective J = L_data + penalty is what gradient descent minimises."""
    z, a = forward(layers, x, choices)
    loss = data_loss(z[-1], a[-1], y, choices.loss)
    return loss, loss + penalty(layers, choices)


# --- §5 The backward pass -------------------------------------------------------------------
def output_deltas(y_hat: np.ndarray, y: np.ndarray, choices: Choices) -> np.ndarray:
    """δ_L = ∂L_data/∂z_L (n, K), where the chain rule starts. L_data is a mean, hence the 1/n:

        softmax + cross_entropy    (ŷ − y) / n      softmax's Jacobian cancels against the log
        identity + mse             (ŷ − y) / n
        softmax + mse              δ_j = ŷ_j·(g_j − Σ_k g_k·ŷ_k) / n   with g = ∂ℓ/∂ŷ = ŷ − y,
                                   through softmax's Jacobian ∂ŷ_k/∂z_j = ŷ_k·([k = j] − ŷ_j)
    """
    n = y.shape[0]
    if choices.classify and choices.loss == "mse":
        g = y_hat - y
        return y_hat * (g - np.sum(g * y_hat, axis=1, keepdims=True)) / n
    return (y_hat - y) / n


def backward(
    layers: list[Layer], z: list[np.ndarray], a: list[np.ndarray], y: np.ndarray, choices: Choices
) -> tuple[list[Layer], list[np.ndarray]]:
    """The chain rule from the output layer down to layer 1, given the forward pass's z and a.
    At each layer, with its δ = ∂L_data/∂z (n, n_out):

        ∂J/∂W   = a_prevᵀ·δ + ∂penalty/∂W      (n_in, n_out)
        ∂J/∂b   = Σ over the samples of δ      (n_out,)
        δ_below = (δ·Wᵀ) ⊙ f′(z_below)         (n, n_in)   ⊙ element-wise

    Returns (gradients, deltas): (∂J/∂W, ∂J/∂b) and δ of every layer, layer 1 first."""
    gradients: list[Layer] = []
    deltas: list[np.ndarray] = []
    delta = output_deltas(a[-1], y, choices)
    for number in range(len(layers), 0, -1):  # L, L − 1, …, 1
        W, _ = layers[number - 1]
        a_prev = a[number - 1]
        gradients.append((a_prev.T @ delta + penalty_gradient(W, choices), delta.sum(axis=0)))
        deltas.append(delta)
        if number > 1:
            delta = (delta @ W.T) * activation_derivative(z[number - 2], choices.activation)
    return gradients[::-1], deltas[::-1]


# --- §9 The update --------------------------------------------------------------------------
class Optimizer:
    """An optimiser's rule (PyTorch's definitions) and what it remembers between steps; g is
    ∂J/∂w, lr the learning rate, μ the momentum:

        sgd        w ← w − lr·g
        momentum   buf ← μ·buf + g   (the first step: buf ← g);   w ← w − lr·buf
        adam       t ← t + 1;   m ← β1·m + (1 − β1)·g;   v ← β2·v + (1 − β2)·g²   (m, v start at 0)
                   m̂ = m / (1 − β1ᵗ);   v̂ = v / (1 − β2ᵗ);   w ← w − lr·m̂ / (√v̂ + ε)

    Each rule acts on every parameter on its own, so it is written for whole arrays and applied
    to each W and b; buf, m and v are kept per array, in the order W[1], b[1], W[2], b[2], …"""

    def __init__(self, name: str, learning_rate: float, momentum: float = 0.9):
        if name not in ("sgd", "momentum", "adam"):
            raise ValueError(f"unknown optimizer {name!r}")
        self.name, self.learning_rate, self.momentum = name, learning_rate, momentum
        self.t = 0  # updates made
        self.buf: list[np.ndarray] = []  # momentum's
        self.m: list[np.ndarray] = []  # Adam's
        self.v: list[np.ndarray] = []  # Adam's

    def updates(self, gradients: list[Layer]) -> list[Layer]:
        """(ΔW, Δb) of every layer for its gradients (∂J/∂W, ∂J/∂b), w ← w + Δw; the memory moves
        on by one step."""
        g = [array for layer in gradients for array in layer]  # ∂J/∂W[1], ∂J/∂b[1], ∂J/∂W[2], …
        lr = self.learning_rate
        self.t += 1
        if self.name == "sgd":
            changes = [-lr * g_i for g_i in g]
        elif self.name == "momentum":
            if self.t == 1:
                self.buf = g
            else:
                self.buf = [self.momentum * buf + g_i for buf, g_i in zip(self.buf, g, strict=True)]
            changes = [-lr * buf for buf in self.buf]
        else:
            if self.t == 1:
                self.m, self.v = [np.zeros_like(g_i) for g_i in g], [np.zeros_like(g_i) for g_i in g]
            self.m = [BETA1 * m + (1 - BETA1) * g_i for m, g_i in zip(self.m, g, strict=True)]
            self.v = [BETA2 * v + (1 - BETA2) * g_i**2 for v, g_i in zip(self.v, g, strict=True)]
            m_hats = [m / (1 - BETA1**self.t) for m in self.m]
            v_hats = [v / (1 - BETA2**self.t) for v in self.v]
            changes = [-lr * m_hat / (np.sqrt(v_hat) + EPSILON) for m_hat, v_hat in zip(m_hats, v_hats, strict=True)]
        return list(zip(changes[0::2], changes[1::2], strict=True))


# --- One training step ----------------------------------------------------------------------
@dataclass
class Step:
    """Everything one training step computed."""

    z: list[np.ndarray]  # every layer's pre-activations (n, n_l)
    a: list[np.ndarray]  # a[0] = x, then every layer's activations (n, n_l); a[-1] = ŷ
    loss: float  # L_data of the batch, before the update
    objective: float  # J = L_data + penalty, before the update
    deltas: list[np.ndarray]  # every layer's δ = ∂L_data/∂z (n, n_l)
    gradients: list[Layer]  # every layer's (∂J/∂W, ∂J/∂b)
    updates: list[Layer]  # every layer's (ΔW, Δb)
    layers: list[Layer]  # the network after the step: every layer's (W + ΔW, b + Δb)


def training_step(layers: list[Layer], x: np.ndarray, y: np.ndarray, choices: Choices, optimizer: Optimizer) -> Step:
    """One step of gradient descent on the batch (x, y): forward, loss, backward, update."""
    z, a = forward(layers, x, choices)
    loss = data_loss(z[-1], a[-1], y, choices.loss)
    objective = loss + penalty(layers, choices)
    gradients, deltas = backward(layers, z, a, y, choices)
    updates = optimizer.updates(gradients)
    after = [(W + dW, b + db) for (W, b), (dW, db) in zip(layers, updates, strict=True)]
    return Step(z, a, loss, objective, deltas, gradients, updates, after)
