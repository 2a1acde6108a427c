"""Property of saving and resuming (engine/trainer_state.py, `Trainer.export_state` and
`Trainer.from_state`) on random small networks and data: after any number of steps, and any
live change of the hyperparameters, a trainer rebuilt from the exported state trains on to the
very bits the original reaches — weights, optimiser memory, counters — through epoch ends and
fresh draws of epoch orders (up to 64 epochs are drawn at once, so runs go past 64 epochs)."""

from __future__ import annotations

import numpy as np
from config_strategies import live_changes, small_configs
from hypothesis import given, settings
from hypothesis import strategies as st

from backprop_lab.engine.kernels.codes import LAST
from backprop_lab.engine.trainer import Trainer


@settings(max_examples=100)
@given(config=small_configs(), data=st.data())
def test_export_then_resume_trains_on_to_the_bits_the_original_reaches(config, data):
    original = Trainer(config)
    original.step(data.draw(st.integers(0, 200), label="steps before the export"))
    original.reconfigure(data.draw(live_changes(original.config), label="live change before the export"))
    state = original.export_state()
    later = data.draw(st.integers(1, 200), label="steps after the export")
    original.step(later)  # before resuming: the state must be a copy, not a view of the trainer

    resumed = Trainer.from_state(state)
    resumed.step(later)

    assert resumed.config == original.config
    assert np.array_equal(resumed.network.parameters, original.network.parameters)
    assert np.array_equal(resumed.optimizer.moments, original.optimizer.moments)
    assert np.array_equal(resumed.counters[:LAST], original.counters[:LAST])  # LAST: which scratch row
    assert np.array_equal(resumed.last_gradient, original.last_gradient)
    assert np.array_equal(resumed.last_losses, original.last_losses)
