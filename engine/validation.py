"""Checks a `Config` before the engine uses it, naming the bad field and value.

Every numeric field is checked once, against its entry in `CONFIG_BOUNDS`: the table the
server's request models are derived from, so the API refuses exactly what this refuses (with
HTTP-shaped errors, first) and a notebook user gets the same answer instead of a cryptic NumPy
error three calls later. A refusal is a `ConfigError` (a ValueError) whose fields say which
field and why, so the server answers with them instead of parsing the text.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.bounds import Interval
from backprop_lab.engine.config import CONFIG_BOUNDS, HIDDEN_LAYERS, NEURONS, Config
from backprop_lab.engine.datasets import BUILTIN, default_loss_for, is_regression_dataset
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
        out_of_range    {"value", "low", "high", "low_open", "high_open"}  outside its interval
                        (high None: no upper bound)
        int_type        {"value"}                    not a whole number where one is needed
        float_type      {"value"}                    not a number at all
        empty           {}                           no input feature chosen
        duplicate       {"value"}                    a feature listed twice
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


def check_bound(field: str, value: Any, interval: Interval) -> None:
    """Raises `ConfigError` unless `value` is a number of the interval's kind inside it."""
    if not interval.fits_type(value):
        if interval.integer:
            raise ConfigError(field, "int_type", f"must be a whole number, not {value!r}", value=value)
        raise ConfigError(field, "float_type", f"must be a number, not {value!r}", value=value)
    if not interval.contains(value):
        raise ConfigError(
            field,
            "out_of_range",
            f"{value!r} is outside {interval}",
            value=value,
            low=interval.low,
            high=interval.high,
            low_open=interval.low_open,
            high_open=interval.high_open,
        )


def validate_config(config: Config, table: Table | None = None) -> None:
    """Raises `ConfigError` naming the first field that is out of its domain."""
    if config.dataset not in BUILTIN and table is None:
        raise ConfigError(
            "dataset",
            "unknown_dataset",
            f"unknown data set {config.dataset!r}; choose one of {list(BUILTIN)}",
            value=config.dataset,
            choices=list(BUILTIN),
        )
    for field, interval in CONFIG_BOUNDS.items():
        check_bound(field, getattr(config, field), interval)
    if not config.features:
        raise ConfigError("features", "empty", "choose at least one input feature")
    for name in config.features:
        _check_choice("features", name, FEATURES)
    if len(set(config.features)) != len(config.features):
        duplicate = next(name for name in config.features if config.features.count(name) > 1)
        raise ConfigError(
            "features", "duplicate", f"a feature is listed twice in {list(config.features)}", value=duplicate
        )
    check_bound("hidden_layers", len(config.hidden_layers), HIDDEN_LAYERS)
    for size in config.hidden_layers:
        check_bound("hidden_layers", size, NEURONS)
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
    _check_choice("regularization", config.regularization, REGULARIZATIONS)
    _check_choice("init", config.init, INITS)
