"""The engine refuses a bad config with a typed error: the field, a stable code, its params."""

from __future__ import annotations

import math

import pytest

from backprop_lab.engine.config import CONFIG_BOUNDS, Config
from backprop_lab.engine.datasets import is_regression_dataset
from backprop_lab.engine.tabular import Table, parse_csv
from backprop_lab.engine.trainer import Trainer
from backprop_lab.engine.validation import ConfigError, resolve_loss, validate_config


def refusal(config: Config, table: Table | None = None) -> ConfigError:
    """What `validate_config` raises for `config`, its loss first resolved as the trainer does."""
    with pytest.raises(ConfigError) as caught:
        validate_config(resolve_loss(config, table), table)
    return caught.value


def test_an_out_of_range_value_names_its_field_code_and_bounds():
    error = refusal(Config(train_ratio=0.95))
    assert isinstance(error, ValueError)  # callers catching ValueError still do
    assert (error.field, error.code) == ("train_ratio", "out_of_range")
    assert error.params == {"value": 0.95, "low": 0.1, "high": 0.9, "low_open": False, "high_open": False}
    assert str(error) == f"train_ratio: {error.message}" and "0.95" in error.message


def test_open_ends_refuse_the_bound_itself_and_a_missing_end_is_none():
    error = refusal(Config(learning_rate=0.0))
    assert (error.field, error.code) == ("learning_rate", "out_of_range")
    assert error.params["low"] == 0.0 and error.params["low_open"] is True and error.params["high"] == 1000.0
    assert refusal(Config(learning_rate=math.nan)).field == "learning_rate"
    assert refusal(Config(learning_rate=1000.5)).field == "learning_rate"
    error = refusal(Config(momentum=1.0))
    assert error.params["high"] == 1.0 and error.params["high_open"] is True
    error = refusal(Config(hidden_layers=(4, 0)))
    assert (error.field, error.code) == ("hidden_layers", "out_of_range")
    assert (error.params["low"], error.params["high"]) == (1, None)


def test_every_bound_of_the_table_is_checked_at_both_ends():
    for field, interval in CONFIG_BOUNDS.items():
        for end, open_end, step in ((interval.low, interval.low_open, -1), (interval.high, interval.high_open, 1)):
            assert end is not None
            kind = int if interval.integer else float
            inside = Config().replace(**{field: kind(end)})
            if open_end:
                assert refusal(inside).field == field
            else:
                validate_config(resolve_loss(inside))
            outside = kind(end + step) if interval.integer else end + step * 0.01
            assert refusal(Config().replace(**{field: outside})).field == field, (field, outside)


def test_a_fraction_where_a_whole_number_is_needed_is_refused():
    error = refusal(Config(samples=100.5))
    assert (error.field, error.code) == ("samples", "int_type")
    assert refusal(Config(batch_size=True)).code == "int_type"


def test_an_unknown_name_lists_the_choices():
    error = refusal(Config(activation="swish"))
    assert (error.field, error.code) == ("activation", "unknown_choice")
    assert error.params == {"value": "swish", "choices": ["leaky_relu", "linear", "relu", "sigmoid", "tanh"]}


@pytest.mark.parametrize(
    ("config", "field", "code"),
    [
        (Config(dataset="swiss_roll"), "dataset", "unknown_dataset"),
        (Config(features=()), "features", "empty"),
        (Config(features=("x1", "x1")), "features", "duplicate"),
        (Config(features=("x3",)), "features", "unknown_choice"),
        (Config(hidden_layers=(4, 0)), "hidden_layers", "out_of_range"),
        (Config(hidden_layers=(1,) * 65), "hidden_layers", "out_of_range"),
        (Config(batch_size=0), "batch_size", "out_of_range"),
        (Config(seed=-1), "seed", "out_of_range"),
        (Config(dataset="plane", loss="cross_entropy"), "loss", "needs_classification"),
        (Config(momentum=1.0), "momentum", "out_of_range"),
        (Config(noise=-0.1), "noise", "out_of_range"),
        (Config(regularization="l3"), "regularization", "unknown_choice"),
        (Config(init="zeros"), "init", "unknown_choice"),
    ],
)
def test_every_refusal_names_the_field_it_is_about(config, field, code):
    error = refusal(config)
    assert (error.field, error.code) == (field, code)
    assert field in Config.__dataclass_fields__


def test_the_trainer_raises_the_same_typed_error():
    with pytest.raises(ConfigError) as caught:
        Trainer(Config(optimizer="rmsprop"))
    assert caught.value.field == "optimizer" and caught.value.params["value"] == "rmsprop"


def test_whether_a_set_is_regression_is_decided_in_one_place():
    assert [
        name for name in ("circle", "five_class", "plane", "multi_gaussian", "iris") if is_regression_dataset(name)
    ] == [
        "plane",
        "multi_gaussian",
    ]
    values = parse_csv(b"a,b,y\n1,2,0.5\n3,4,1.25\n5,6,2.75\n", name="values.csv")
    classes = parse_csv(b"a,b,y\n1,2,cat\n3,4,dog\n5,6,cat\n", name="classes.csv")
    assert is_regression_dataset("upload-1", values) and not is_regression_dataset("upload-2", classes)
    error = refusal(Config(dataset="upload-1", loss="cross_entropy"), values)
    assert (error.field, error.code) == ("loss", "needs_classification")
