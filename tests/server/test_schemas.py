"""The wire config mirrors the engine's: the same names, the same defaults, one conversion."""

from __future__ import annotations

from typing import get_args

from backprop_lab.engine.activations import ACTIVATIONS
from backprop_lab.engine.config import Config
from backprop_lab.engine.features import FEATURES
from backprop_lab.engine.losses import LOSSES, REGULARIZATIONS
from backprop_lab.engine.network import INITS
from backprop_lab.engine.optimizers import OPTIMIZERS
from backprop_lab.server.wire.config_models import (
    ActivationName,
    ConfigIn,
    FeatureName,
    InitName,
    LossName,
    OptimizerName,
    RegularizationName,
    to_engine_config,
)


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
