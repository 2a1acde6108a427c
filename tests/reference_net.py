"""An independent NumPy reference of docs/engine.md for the tests: forward pass, data loss,
objective, backprop gradients and the optimisers' updates, written from the conventions as
vectorised NumPy, not from the engine (whose maths is compiled loops)."""

from __future__ import annotations

import numpy as np

SLOPE = 0.01


def act(z: np.ndarray, name: str) -> np.ndarray:
    if name == "linear":
        return z
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0)
    if name == "leaky_relu":
        return np.where(z > 0, z, SLOPE * z)
    raise ValueError(name)


def dact(z: np.ndarray, name: str) -> np.ndarray:
    if name == "linear":
        return np.ones_like(z)
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(float)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, SLOPE)
    raise ValueError(name)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def layers_of(params: dict) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array(layer["weights"], dtype=float), np.array(layer["biases"], dtype=float))
            for layer in params["layers"]]


def forward(layers, x, activation, classify):  # type: ignore[no-untyped-def]
    zs, acts = [], [x]
    a = x
    for index, (w, b) in enumerate(layers):
        z = a @ w + b
        zs.append(z)
        last = index == len(layers) - 1
        a = (softmax(z) if classify else z) if last else act(z, activation)
        acts.append(a)
    return zs, acts


def data_loss(out: np.ndarray, y: np.ndarray, loss: str) -> float:
    if loss == "mse":
        return float(np.mean(0.5 * np.sum((out - y) ** 2, axis=1)))
    return float(np.mean(-np.sum(y * np.log(np.clip(out, 1e-300, None)), axis=1)))


def gradients(layers, x, y, activation, loss, classify, reg="none", rate=0.0):  # type: ignore[no-untyped-def]
    """(data loss, objective, [(dW, db), …]) of the mean loss over the rows of x."""
    n = x.shape[0]
    zs, acts = forward(layers, x, activation, classify)
    out = acts[-1]
    value = data_loss(out, y, loss)
    if classify and loss == "mse":
        g = (out - y) / n
        delta = out * (g - np.sum(g * out, axis=1, keepdims=True))
    else:
        delta = (out - y) / n
    grads = [None] * len(layers)
    for index in range(len(layers) - 1, -1, -1):
        w, _ = layers[index]
        dw = acts[index].T @ delta
        db = delta.sum(axis=0)
        if reg == "l2":
            dw = dw + rate * w
        elif reg == "l1":
            dw = dw + rate * np.sign(w)
        grads[index] = (dw, db)
        if index > 0:
            delta = (delta @ w.T) * dact(zs[index - 1], activation)
    return value, value + penalty(layers, reg, rate), grads


def penalty(layers, reg: str, rate: float) -> float:  # type: ignore[no-untyped-def]
    if reg == "l2":
        return rate / 2 * sum(float(np.sum(w**2)) for w, _ in layers)
    if reg == "l1":
        return rate * sum(float(np.sum(np.abs(w))) for w, _ in layers)
    return 0.0


class ReferenceOptimizer:
    """PyTorch's sgd, momentum and adam on a flat vector, state kept here."""

    def __init__(self, name: str, learning_rate: float, momentum: float = 0.9):
        self.name, self.learning_rate, self.momentum = name, learning_rate, momentum
        self.t = 0
        self.buffer: np.ndarray | None = None
        self.m: np.ndarray | None = None
        self.v: np.ndarray | None = None

    def update(self, g: np.ndarray) -> np.ndarray:
        """Δθ for gradient g, advancing the state."""
        self.t += 1
        if self.name == "sgd":
            return -self.learning_rate * g
        if self.name == "momentum":
            self.buffer = g.copy() if self.buffer is None else self.momentum * self.buffer + g
            return -self.learning_rate * self.buffer
        self.m = 0.1 * g if self.m is None else 0.9 * self.m + 0.1 * g
        self.v = 0.001 * g * g if self.v is None else 0.999 * self.v + 0.001 * g * g
        m_hat, v_hat = self.m / (1 - 0.9**self.t), self.v / (1 - 0.999**self.t)
        return -self.learning_rate * m_hat / (np.sqrt(v_hat) + 1e-8)
