"""Checks a `Config` before the engine uses it, naming the bad field and value.

The server validates the same ranges first (with HTTP-shaped errors); these checks keep a
notebook user from getting a cryptic NumPy error three calls later.
"""

from __future__ import annotations

import math

from engine.activations import ACTIVATIONS
from engine.config import BUILTIN_DATASETS, Config, default_loss_for, is_regression_dataset
from engine.features import FEATURES
from engine.losses import LOSSES, REGULARIZATIONS
from engine.network import INITS
from engine.optimizers import OPTIMIZERS
from engine.tabular import Table


def dataset_is_regression(config: Config, table: Table | None) -> bool:
    if config.dataset in BUILTIN_DATASETS or table is None:
        return is_regression_dataset(config.dataset)
    return table.target_values is not None


def resolve_loss(config: Config, table: Table | None = None) -> Config:
    """The config with `loss=None` replaced by the data set's own loss."""
    if config.loss is not None:
        return config
    return config.replace(loss=default_loss_for(config.dataset, dataset_is_regression(config, table)))


def _check_choice(field: str, value: str, choices: object) -> None:
    if value not in choices:  # type: ignore[operator]
        raise ValueError(f"{field}: unknown value {value!r}; choose one of {sorted(choices)}")  # type: ignore[call-overload]


def _check_range(field: str, value: float, low: float, high: float, low_open: bool = False) -> None:
    if not math.isfinite(value) or not low <= value <= high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise ValueError(f"{field}: {value!r} is outside {bracket}{low}, {high}]")


def validate_config(config: Config, table: Table | None = None) -> None:
    """Raises ValueError naming the first field that is out of its domain."""
    if config.dataset not in BUILTIN_DATASETS and table is None:
        raise ValueError(f"dataset: unknown data set {config.dataset!r}; choose one of {list(BUILTIN_DATASETS)}")
    _check_range("samples", config.samples, 2, 1e9)
    _check_range("noise", config.noise, 0.0, 0.5)
    _check_range("train_ratio", config.train_ratio, 0.1, 0.9)
    if not config.features:
        raise ValueError("features: choose at least one input feature")
    for name in config.features:
        _check_choice("features", name, FEATURES)
    if len(set(config.features)) != len(config.features):
        raise ValueError(f"features: a feature is listed twice in {list(config.features)}")
    for size in config.hidden_layers:
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"hidden_layers: every layer needs at least one neuron, not {size!r}")
    _check_choice("activation", config.activation, ACTIVATIONS)
    _check_choice("loss", config.loss or "", LOSSES)
    if config.loss == "cross_entropy" and dataset_is_regression(config, table):
        raise ValueError("loss: cross_entropy needs a classification data set; this one is regression, use mse")
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    # Any positive finite rate: the API caps it at 1000 (DESIGN §5), a notebook may go further.
    _check_range("learning_rate", config.learning_rate, 0.0, math.inf, low_open=True)
    _check_range("momentum", config.momentum, 0.0, 0.999999)
    if config.batch_size < 1:
        raise ValueError(f"batch_size: must be at least 1, not {config.batch_size}")
    _check_choice("regularization", config.regularization, REGULARIZATIONS)
    _check_range("regularization_rate", config.regularization_rate, 0.0, 10.0)
    _check_choice("init", config.init, INITS)
