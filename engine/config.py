"""The training configuration: every hyperparameter a user can set, as one frozen dataclass.

The server mirrors this with a pydantic model (validation, HTTP errors) and converts in one
place; the engine trusts a `Config` it is given but still checks the names it looks up in its
registries, so a notebook user gets a clear `ValueError` too.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Protocol

CLASSIFICATION_DATASETS = ("circle", "xor", "gaussian", "spiral", "moons", "five_class")
REGRESSION_DATASETS = ("plane", "multi_gaussian")
TABULAR_DATASETS = ("iris",)
BUILTIN_DATASETS = CLASSIFICATION_DATASETS + REGRESSION_DATASETS + TABULAR_DATASETS

# Fields whose change rebuilds data and network from the seed (step goes back to 0); a change of
# any other field applies from the next step and keeps the weights.
REINITIALISING_FIELDS = frozenset(
    {"dataset", "samples", "noise", "train_ratio", "seed", "features", "hidden_layers", "activation", "init"}
)


@dataclass(frozen=True)
class Config:
    dataset: str = "circle"  # a name of BUILTIN_DATASETS or the id of an uploaded CSV
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


class _Target(Protocol):
    @property
    def is_regression(self) -> bool: ...


def is_regression_dataset(name: str, table: _Target | None = None) -> bool:
    """The one place that decides whether a data set is a regression set (a linear output, mse)
    or a classification set (softmax, K classes): by name for the built-in sets, by its target
    column for an uploaded table (`backprop_lab.engine.tabular`). The validation (which loss fits), the
    server's options and upload replies ask this; a built `Dataset` has `classes` None exactly
    for these sets (tests/server/test_options.py checks the two agree)."""
    if name in BUILTIN_DATASETS or table is None:
        return name in REGRESSION_DATASETS
    return table.is_regression


def default_loss_for(name: str, regression: bool | None = None) -> str:
    """The loss that follows a data set when the user names none."""
    if regression is None:
        regression = is_regression_dataset(name)
    return "mse" if regression else "cross_entropy"
