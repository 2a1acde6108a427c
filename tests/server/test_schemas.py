"""The wire config mirrors the engine's: the same names, the same defaults, the same bounds (each
request field derived from the engine's table, and checked equal here), one conversion."""

from __future__ import annotations

from typing import get_args

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.bounds import Interval
from backprop_lab.engine.config import CONFIG_BOUNDS, HIDDEN_LAYERS, NEURONS, Config
from backprop_lab.engine.features import FEATURES
from backprop_lab.engine.losses import LOSSES, REGULARIZATIONS
from backprop_lab.engine.lr_lab import LOSS_LINE_BOUNDS, RACE_COPIES, RANGE_TEST_STEPS
from backprop_lab.engine.network import INITS
from backprop_lab.engine.optimizers import OPTIMIZERS
from backprop_lab.engine.surface import PLANE_KINDS, SURFACE_BOUNDS
from backprop_lab.server.options import field_range, length_range
from backprop_lab.server.wire.analysis_models import LossLineIn, LrSweepIn, RangeTestIn, SurfaceIn
from backprop_lab.server.wire.config_models import (
    ActivationName,
    ConfigIn,
    FeatureName,
    InitName,
    LearningRate,
    LossName,
    OptimizerName,
    RegularizationName,
    to_engine_config,
)
from backprop_lab.server.wire.protocol import RaceStart


def test_the_wire_names_are_the_engine_registries():
    assert get_args(FeatureName) == tuple(FEATURES)
    assert get_args(ActivationName) == tuple(ACTIVATIONS)
    assert set(get_args(LossName)) == set(LOSSES)
    assert get_args(OptimizerName) == tuple(OPTIMIZERS)
    assert get_args(RegularizationName) == tuple(REGULARIZATIONS)
    assert get_args(InitName) == tuple(INITS)


def test_an_empty_wire_config_is_the_engine_default():
    assert to_engine_config(ConfigIn(), Config()) == Config()


def test_only_the_fields_sent_change_the_base():
    base = Config(dataset="xor", hidden_layers=(8,), learning_rate=0.1)
    changed = to_engine_config(ConfigIn.model_validate({"learning_rate": 0.5, "features": ["x1"]}), base)
    assert changed == base.replace(learning_rate=0.5, features=("x1",))
    assert to_engine_config(ConfigIn.model_validate({"loss": None}), base.replace(loss="mse")).loss is None


def interval_of(model: type[BaseModel], name: str) -> Interval:
    """A request field's bounds as pydantic enforces them, written as an engine `Interval`."""
    served = field_range(model, name)
    return Interval(served["min"], served["max"], served["min_exclusive"], served["max_exclusive"], served["integer"])


@pytest.mark.parametrize(
    ("model", "name", "interval"),
    [
        *((ConfigIn, name, interval) for name, interval in CONFIG_BOUNDS.items()),
        (SurfaceIn, "resolution", SURFACE_BOUNDS["resolution"]),
        (SurfaceIn, "span", SURFACE_BOUNDS["span"]),
        (LossLineIn, "points", LOSS_LINE_BOUNDS["points"]),
        (LossLineIn, "max_rate_multiple", LOSS_LINE_BOUNDS["max_rate_multiple"]),
        (RangeTestIn, "steps", RANGE_TEST_STEPS),
        (RangeTestIn, "min_rate", CONFIG_BOUNDS["learning_rate"]),
        (RangeTestIn, "max_rate", CONFIG_BOUNDS["learning_rate"]),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_every_request_bound_is_the_engine_table_s(model, name, interval):
    assert interval_of(model, name) == interval


def test_list_lengths_and_their_items_are_the_engine_s_too():
    for model in (LrSweepIn, RaceStart):
        copies = length_range(model, "learning_rates")
        assert (copies["min"], copies["max"]) == (RACE_COPIES.low, RACE_COPIES.high)
    layers = length_range(ConfigIn, "hidden_layers")
    assert (layers["min"], layers["max"]) == (HIDDEN_LAYERS.low, HIDDEN_LAYERS.high)
    rate = TypeAdapter(LearningRate)
    neurons = TypeAdapter(ConfigIn.model_fields["hidden_layers"].annotation)
    for value in (0.0, 1000.0, 1000.5, 1e-9):
        assert accepts(rate, value) == CONFIG_BOUNDS["learning_rate"].contains(value), value
    for value in (0, 1, 5000):
        assert accepts(neurons, [value]) == NEURONS.contains(value), value
    assert get_args(SurfaceIn.model_fields["directions"].annotation) == PLANE_KINDS


def accepts(adapter: TypeAdapter, value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True
