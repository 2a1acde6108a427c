"""Optimisers by the names the UI and the API use, and the state each one keeps.

The update rules are compiled (`backprop_lab.engine.kernels.optimizers`, PyTorch's definitions):

    sgd       Δθ = −η·g
    momentum  buf = μ·buf + g   (first step: buf = g);   Δθ = −η·buf
    adam      m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ)
              Δθ = −η·m̂ / (√v̂ + ε)

`OptimizerState` holds what they remember between steps — `moments` (2, P): buf or m, and v.
The rates are checked with the rest of the config (`backprop_lab.engine.validation`). The
number of updates made (t) is the trainer's `OPTIMIZER_STEPS` counter, reset with the state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backprop_lab.engine.kernels import optimizers as kernel


@dataclass(frozen=True)
class OptimizerKind:
    name: str
    code: int  # backprop_lab.engine.kernels.optimizers.SGD, MOMENTUM_SGD or ADAM
    formula: str  # the update rule, as the page writes it


OPTIMIZER_KINDS: dict[str, OptimizerKind] = {
    "sgd": OptimizerKind("sgd", kernel.SGD, "w ← w − η·g"),
    "momentum": OptimizerKind("momentum", kernel.MOMENTUM_SGD, "b ← μ·b + g (first step: b = g);  w ← w − η·b"),
    "adam": OptimizerKind(
        "adam",
        kernel.ADAM,
        "m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m / (1 − β₁ᵗ);  v̂ = v / (1 − β₂ᵗ);  "
        "w ← w − η·m̂ / (√v̂ + ε)   (β₁ = 0.9, β₂ = 0.999, ε = 10⁻⁸)",
    ),
}
OPTIMIZERS = tuple(OPTIMIZER_KINDS)
BETA1, BETA2, EPSILON = kernel.BETA1, kernel.BETA2, kernel.EPSILON


class OptimizerState:
    """One optimiser's kind and memory for a parameter vector of `size`."""

    def __init__(self, name: str, size: int):
        try:
            self.kind = OPTIMIZER_KINDS[name]
        except KeyError:
            raise ValueError(f"unknown optimizer {name!r}; choose one of {list(OPTIMIZERS)}") from None
        self.moments = np.zeros((2, size))  # (2, P): momentum's buf or Adam's m; Adam's v
        self.pending = np.zeros((2, size))  # (2, P): the next state, until an update is accepted

    @property
    def name(self) -> str:
        return self.kind.name

    def state(self, steps: int) -> dict[str, np.ndarray | int]:
        """Copies of what the optimiser remembers (for saving a run); `steps` = updates made."""
        if self.kind.code == kernel.SGD:
            return {"steps": steps}
        return {"steps": steps, "first": self.moments[0].copy(), "second": self.moments[1].copy()}

    def load_state(self, state: dict[str, np.ndarray | int]) -> int:
        """Restores what `state` returned; returns the number of updates it had made."""
        self.moments[:] = 0.0
        if "first" in state:
            self.moments[0] = np.asarray(state["first"], dtype=np.float64)
            self.moments[1] = np.asarray(state["second"], dtype=np.float64)
        return int(state.get("steps", 0))  # type: ignore[call-overload]
