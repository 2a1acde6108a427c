"""Saving and resuming a trainer: a resumed trainer's next steps equal the original's, bit for bit."""

import dataclasses

import numpy as np
import pytest

from backprop_lab.engine.config import Config
from backprop_lab.engine.kernels.codes import LAST
from backprop_lab.engine.trainer import Trainer, epochs_ahead
from backprop_lab.engine.trainer_state import StateError


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_a_resumed_trainer_continues_with_bit_identical_weights(optimizer):
    # 1000 training rows: orders are drawn 16 epochs ahead, so 200 more steps of 100 rows cross
    # a fresh draw, which only the saved random generator can reproduce.
    config = Config(dataset="spiral", samples=2000, noise=0.1, seed=3, hidden_layers=(5, 4), optimizer=optimizer,
                    learning_rate=0.01, batch_size=100, regularization="l2", regularization_rate=0.001)
    original = Trainer(config)
    assert epochs_ahead(original.dataset.train.size) == 16
    original.step(137)  # mid-epoch, optimiser memory built up
    resumed = Trainer.from_state(original.export_state())
    assert resumed.step_count == 137 and resumed.epoch == original.epoch
    assert np.array_equal(resumed.network.parameters, original.network.parameters)
    original.step(200)
    resumed.step(200)
    assert resumed.epoch > 16 + 13
    assert np.array_equal(resumed.network.parameters, original.network.parameters)
    assert np.array_equal(resumed.optimizer.moments, original.optimizer.moments)
    assert np.array_equal(resumed.counters[:LAST], original.counters[:LAST])  # LAST: which scratch row


def test_the_exported_state_is_a_copy_that_training_does_not_change():
    trainer = Trainer(Config(optimizer="adam"))
    trainer.step(5)
    state = trainer.export_state()
    before = state.parameters.copy()
    trainer.step(5)
    assert np.array_equal(state.parameters, before)
    assert state.step == 5 and trainer.step_count == 10


def test_resuming_without_the_state_s_generator_would_shuffle_differently():
    """The check that the state matters: the same weights and counters with a fresh generator
    drift apart once new epoch orders are drawn."""
    config = Config(samples=2000, batch_size=100)
    original = Trainer(config)
    original.step(50)
    state = original.export_state()
    fresh = dataclasses.replace(state, rng_state=np.random.default_rng(99).bit_generator.state)
    other = Trainer.from_state(fresh)
    original.step(200)
    other.step(200)
    assert not np.array_equal(other.network.parameters, original.network.parameters)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: {"parameters": s.parameters[:-1]}, "parameters"),
        (lambda s: {"parameters": np.where(np.arange(s.parameters.size) == 0, np.nan, s.parameters)}, "parameters"),
        (lambda s: {"moments": s.moments[:1]}, "moments"),
        (lambda s: {"orders": s.orders[:, :-1]}, "orders"),
        (lambda s: {"orders": np.zeros_like(s.orders)}, "orders"),
        (lambda s: {"orders": s.orders + 1}, "orders"),
        (lambda s: {"position": 10_000}, "position"),
        (lambda s: {"order_index": s.orders.shape[0]}, "order_index"),
        (lambda s: {"epoch": s.step + 1}, "epoch"),
        (lambda s: {"rng_state": {"bit_generator": "MT19937"}}, "rng_state"),
    ],
)
def test_a_state_that_does_not_fit_its_config_is_refused_naming_the_field(change, field):
    trainer = Trainer(Config())
    trainer.step(3)
    state = trainer.export_state()
    with pytest.raises(StateError) as refused:
        Trainer.from_state(dataclasses.replace(state, **change(state)))
    assert refused.value.field == field
