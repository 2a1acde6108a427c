"""Optimisers over the flat parameter vector, following PyTorch's definitions (DESIGN §4).

Each optimiser *proposes* the update Δθ for a gradient g and keeps its new state pending; the
trainer adds Δθ to the parameters and commits the state only when the result is finite. So a
diverging step leaves both the weights and the optimiser as they were, and the update it
returns is exactly what the trace draws as Δw.

    sgd       Δθ = −lr·g
    momentum  buf = μ·buf + g   (first step: buf = g);   Δθ = −lr·buf
    adam      m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ)
              Δθ = −lr·m̂ / (√v̂ + ε)

g is the gradient of the objective (regularisation included; no decoupled weight decay).
"""

from __future__ import annotations

import numpy as np

OPTIMIZERS = ("sgd", "momentum", "adam")


class Optimizer:
    """Base: validates its hyperparameters and names the bad value."""

    name = "base"

    def __init__(self, learning_rate: float):
        self.learning_rate = learning_rate

    @property
    def learning_rate(self) -> float:
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"learning_rate must be a positive finite number, not {value!r}")
        self._learning_rate = float(value)

    def propose(self, gradient: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The update Δθ (P,) for `gradient`, written into `out` when given (the trainer passes
        a preallocated buffer); the new state waits for `commit`."""
        raise NotImplementedError

    def commit(self) -> None:
        """Keeps the state computed by the last `propose`."""

    def state(self) -> dict[str, np.ndarray | int]:
        """Copies of the internal buffers (for saving a run)."""
        return {}

    def load_state(self, state: dict[str, np.ndarray | int]) -> None:
        """Restores what `state` returned."""


class SGD(Optimizer):
    name = "sgd"

    def propose(self, gradient: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        return np.multiply(gradient, -self._learning_rate, out=out)  # (P,)


class Momentum(Optimizer):
    name = "momentum"

    def __init__(self, learning_rate: float, momentum: float = 0.9):
        super().__init__(learning_rate)
        self.momentum = momentum
        self._buffer: np.ndarray | None = None
        self._pending: np.ndarray | None = None

    @property
    def momentum(self) -> float:
        return self._momentum

    @momentum.setter
    def momentum(self, value: float) -> None:
        if not (np.isfinite(value) and 0.0 <= value < 1.0):
            raise ValueError(f"momentum must be in [0, 1), not {value!r}")
        self._momentum = float(value)

    def propose(self, gradient: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if self._buffer is None:
            buffer = gradient.copy()  # (P,) first step: buf = g
        else:
            buffer = self._buffer * self._momentum  # (P,)
            buffer += gradient
        self._pending = buffer
        return np.multiply(buffer, -self._learning_rate, out=out)  # (P,)

    def commit(self) -> None:
        self._buffer = self._pending

    def state(self) -> dict[str, np.ndarray | int]:
        return {} if self._buffer is None else {"buffer": self._buffer.copy()}

    def load_state(self, state: dict[str, np.ndarray | int]) -> None:
        buffer = state.get("buffer")
        self._buffer = None if buffer is None else np.array(buffer, dtype=np.float64)


class Adam(Optimizer):
    name = "adam"
    beta1 = 0.9
    beta2 = 0.999
    eps = 1e-8

    def __init__(self, learning_rate: float, size: int):
        super().__init__(learning_rate)
        self._steps = 0
        self._first = np.zeros(size)  # (P,) m
        self._second = np.zeros(size)  # (P,) v
        self._pending: tuple[int, np.ndarray, np.ndarray] | None = None

    def propose(self, gradient: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        steps = self._steps + 1
        first = self._first * self.beta1  # (P,)
        first += (1.0 - self.beta1) * gradient
        second = self._second * self.beta2  # (P,)
        second += (1.0 - self.beta2) * (gradient * gradient)
        self._pending = (steps, first, second)
        first_hat = first / (1.0 - self.beta1**steps)  # (P,) m̂
        denominator = np.sqrt(second / (1.0 - self.beta2**steps))  # (P,) √v̂
        denominator += self.eps
        first_hat /= denominator
        return np.multiply(first_hat, -self._learning_rate, out=out)  # (P,)

    def commit(self) -> None:
        assert self._pending is not None
        self._steps, self._first, self._second = self._pending

    def state(self) -> dict[str, np.ndarray | int]:
        return {"steps": self._steps, "first": self._first.copy(), "second": self._second.copy()}

    def load_state(self, state: dict[str, np.ndarray | int]) -> None:
        self._steps = int(state["steps"])
        self._first = np.array(state["first"], dtype=np.float64)
        self._second = np.array(state["second"], dtype=np.float64)


def make_optimizer(name: str, learning_rate: float, momentum: float, size: int) -> Optimizer:
    if name == "sgd":
        return SGD(learning_rate)
    if name == "momentum":
        return Momentum(learning_rate, momentum)
    if name == "adam":
        return Adam(learning_rate, size)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {list(OPTIMIZERS)}")
