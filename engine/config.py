"""The training configuration: every hyperparameter a user can set, as one frozen dataclass,
and the one table of what each numeric field may hold (`CONFIG_BOUNDS`).

The defaults are the dataclass's, the ranges the table's, and whether a field is a whole number
its annotation's. `backprop_lab.engine.validation` checks a `Config` against them (a notebook
user gets the same refusal as the API's client); the server's request models derive their
bounds from the same table and `GET /api/v1/options` serves it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, get_type_hints

from backprop_lab.engine.bounds import Interval

# Fields whose change rebuilds data and network from the seed (step goes back to 0); a change of
# any other field applies from the next step and keeps the weights.
REINITIALISING_FIELDS = frozenset(
    {"dataset", "samples", "noise", "train_ratio", "seed", "features", "hidden_layers", "activation", "init"}
)


@dataclass(frozen=True)
class Config:
    dataset: str = "circle"  # a name of datasets.BUILTIN or the id of an uploaded CSV
    samples: int = 500  # points generated for a 2-D set (train + test)
    noise: float = 0.0  # fraction 0 … 0.5 of the set's scale added as noise
    train_ratio: float = 0.5  # share of the samples in the training split
    seed: int = 0  # seeds the one Generator behind data, initial weights and shuffles
    features: tuple[str, ...] = ("x1", "x2")  # input transforms for 2-D sets
    hidden_layers: tuple[int, ...] = (4, 2)  # neurons per hidden layer; () = no hidden layer
    activation: str = "tanh"  # hidden-layer activation
    loss: str | None = None  # "cross_entropy" or "mse"; None follows the data set (trainer resolves)
    optimizer: str = "sgd"  # "sgd", "momentum" or "adam"
    learning_rate: float = 0.03
    momentum: float = 0.9  # μ of the momentum optimiser
    batch_size: int = 10  # above the training split's size = the whole split
    regularization: str = "none"  # "none", "l1" or "l2" (weights only)
    regularization_rate: float = 0.0  # λ
    init: str = "xavier"  # "xavier", "he" or "uniform"

    def replace(self, **changes: Any) -> Config:
        """A copy with `changes` applied (lists become tuples, so configs stay hashable)."""
        for key in ("features", "hidden_layers"):
            if key in changes:
                changes[key] = tuple(changes[key])
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (tuples as lists), in field order."""
        out: dict[str, Any] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            out[field.name] = list(value) if isinstance(value, tuple) else value
        return out

    def needs_reinitialise(self, other: Config) -> bool:
        """True when going from `self` to `other` changes data or architecture."""
        return any(getattr(self, name) != getattr(other, name) for name in REINITIALISING_FIELDS)


_WHOLE_NUMBERS = {name for name, kind in get_type_hints(Config).items() if kind is int}


def _bound(field: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> Interval:
    return Interval(low, high, low_open, high_open, integer=field in _WHOLE_NUMBERS)


# What each numeric field may hold. The learning rate goes up to 1000 so that divergence can be
# watched; momentum stays below 1 (at 1 the velocity never decays).
CONFIG_BOUNDS: dict[str, Interval] = {
    "samples": _bound("samples", 2, 1_000_000_000),
    "noise": _bound("noise", 0.0, 0.5),
    "train_ratio": _bound("train_ratio", 0.1, 0.9),
    "seed": _bound("seed", 0, 2**63 - 1),
    "learning_rate": _bound("learning_rate", 0.0, 1000.0, low_open=True),
    "momentum": _bound("momentum", 0.0, 1.0, high_open=True),
    "batch_size": _bound("batch_size", 1, 1_000_000_000),
    "regularization_rate": _bound("regularization_rate", 0.0, 10.0),
}
HIDDEN_LAYERS = Interval(0, 64, integer=True)  # how many hidden layers
NEURONS = Interval(1, None, integer=True)  # neurons in one hidden layer
