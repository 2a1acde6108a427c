"""Property of teaching mode (engine/phases.py) on random small networks and data: walking a
step phase by phase — forward 1…L, loss, backward L…1, update — ends exactly where the trainer's
own step ends, bit for bit, whatever the network, the batch, the optimiser or the step: after
any number of ordinary steps, through an epoch's end and a fresh draw of epoch orders, and
after live changes of the hyperparameters."""

from __future__ import annotations

import numpy as np
from config_strategies import live_changes, small_configs
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lab.engine.phases import PhaseWalk
from backprop_lab.engine.trainer import Trainer


def walk_one_step(trainer: Trainer) -> None:
    walk = PhaseWalk(trainer)
    while not walk.done:
        walk.next()


def assert_same_state(walked: Trainer, stepped: Trainer) -> None:
    assert np.array_equal(walked.network.parameters, stepped.network.parameters)
    assert np.array_equal(walked.optimizer.moments, stepped.optimizer.moments)
    assert np.array_equal(walked.counters, stepped.counters)
    assert np.array_equal(walked.last_gradient, stepped.last_gradient)
    assert np.array_equal(walked.last_update, stepped.last_update)
    assert np.array_equal(walked.last_losses, stepped.last_losses)


@settings(max_examples=100)
@given(config=small_configs(), data=st.data())
def test_walking_every_phase_ends_in_the_bits_of_the_trainer_s_step(config, data):
    walked, stepped = Trainer(config), Trainer(config)
    for _ in range(data.draw(st.integers(1, 3), label="rounds")):
        ordinary = data.draw(st.integers(0, 80), label="ordinary steps before the walks")
        walked.step(ordinary)
        stepped.step(ordinary)
        for _ in range(data.draw(st.integers(1, 3), label="walked steps")):
            walk_one_step(walked)
            stepped.step()
            assert_same_state(walked, stepped)
        changed = data.draw(live_changes(walked.config), label="live change")
        walked.reconfigure(changed)
        stepped.reconfigure(changed)
