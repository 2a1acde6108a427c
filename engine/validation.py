"""Checks a `Config` before the engine uses it, naming the bad field and value.

The server validates the same ranges first (with HTTP-shaped errors); these checks keep a
notebook user from getting a cryptic NumPy error three calls later. A refusal is a
`ConfigError` (a ValueError) whose fields say which field and why, so the server answers with
them instead of parsing the text.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.config import BUILTIN_DATASETS, Config, default_loss_for, is_regression_dataset
from backprop_lab.engine.features import FEATURES
from backprop_lab.engine.losses import LOSSES, REGULARIZATIONS
from backprop_lab.engine.network import INITS
from backprop_lab.engine.optimizers import OPTIMIZERS
from backprop_lab.engine.tabular import Table


def dataset_is_regression(config: Config, table: Table | None) -> bool:
    return is_regression_dataset(config.dataset, table)


def resolve_loss(config: Config, table: Table | None = None) -> Config:
    """The config with `loss=None` replaced by the data set's own loss."""
    if config.loss is not None:
        return config
    return config.replace(loss=default_loss_for(config.dataset, dataset_is_regression(config, table)))


class ConfigError(ValueError):
    """A config field outside its domain.

    `field` names it (a `Config` field), `message` says what is wrong in a sentence, `code` is a
    stable word for the kind of problem and `params` its numbers and names, so a caller can
    translate the message or point at the field without parsing text:

        unknown_choice  {"value", "choices"}         a name not in the registry
        out_of_range    {"value", "low", "high", "low_open"}  (high None: no upper bound)
        empty           {}                           no input feature chosen
        duplicate       {"value"}                    a feature listed twice
        too_small       {"value", "minimum"}         a layer without neurons, a batch below 1
        needs_classification  {"dataset"}           cross_entropy on a regression set
        unknown_dataset {"value", "choices"}         neither built in nor uploaded

    `str(error)` is "field: message", as the plain ValueError it replaces was.
    """

    def __init__(self, field: str, code: str, message: str, **params: Any) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.code = code
        self.message = message
        self.params = params


def _check_choice(field: str, value: str, choices: Collection[str]) -> None:
    if value not in choices:
        known = sorted(choices)
        raise ConfigError(
            field, "unknown_choice", f"unknown value {value!r}; choose one of {known}", value=value, choices=known
        )


def _check_range(field: str, value: float, low: float, high: float, low_open: bool = False) -> None:
    if not math.isfinite(value) or not low <= value <= high or (low_open and value == low):
        bracket = "(" if low_open else "["
        raise ConfigError(
            field,
            "out_of_range",
            f"{value!r} is outside {bracket}{low}, {high}]",
            value=value,
            low=low,
            high=high if math.isfinite(high) else None,
            low_open=low_open,
        )


def validate_config(config: Config, table: Table | None = None) -> None:
    """Raises `ConfigError` naming the first field that is out of its domain."""
    if config.dataset not in BUILTIN_DATASETS and table is None:
        raise ConfigError(
            "dataset",
            "unknown_dataset",
            f"unknown data set {config.dataset!r}; choose one of {list(BUILTIN_DATASETS)}",
            value=config.dataset,
            choices=list(BUILTIN_DATASETS),
        )
    _check_range("samples", config.samples, 2, 1e9)
    _check_range("noise", config.noise, 0.0, 0.5)
    _check_range("train_ratio", config.train_ratio, 0.1, 0.9)
    if not config.features:
        raise ConfigError("features", "empty", "choose at least one input feature")
    for name in config.features:
        _check_choice("features", name, FEATURES)
    if len(set(config.features)) != len(config.features):
        duplicate = next(name for name in config.features if config.features.count(name) > 1)
        raise ConfigError(
            "features", "duplicate", f"a feature is listed twice in {list(config.features)}", value=duplicate
        )
    for size in config.hidden_layers:
        if not isinstance(size, int) or size < 1:
            raise ConfigError(
                "hidden_layers",
                "too_small",
                f"every layer needs at least one neuron, not {size!r}",
                value=size,
                minimum=1,
            )
    _check_choice("activation", config.activation, ACTIVATIONS)
    _check_choice("loss", config.loss or "", LOSSES)
    if config.loss == "cross_entropy" and dataset_is_regression(config, table):
        raise ConfigError(
            "loss",
            "needs_classification",
            "cross_entropy needs a classification data set; this one is regression, use mse",
            dataset=config.dataset,
        )
    _check_choice("optimizer", config.optimizer, OPTIMIZERS)
    # Any positive finite rate: the API caps it at 1000 (docs/api.md), a notebook may go further.
    _check_range("learning_rate", config.learning_rate, 0.0, math.inf, low_open=True)
    _check_range("momentum", config.momentum, 0.0, 0.999999)
    if config.batch_size < 1:
        raise ConfigError(
            "batch_size",
            "too_small",
            f"must be at least 1, not {config.batch_size}",
            value=config.batch_size,
            minimum=1,
        )
    _check_choice("regularization", config.regularization, REGULARIZATIONS)
    _check_range("regularization_rate", config.regularization_rate, 0.0, 10.0)
    _check_choice("init", config.init, INITS)
