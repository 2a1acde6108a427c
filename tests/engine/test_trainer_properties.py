"""Training steps at any learning rate up to the API's 1000, on random small networks and data
(engine/trainer.py): a step is finite or refused as `Diverged`, with the weights, the optimiser's
memory and the counters as they were. (At stable rates every step equals engine/reference.py's,
whose gradient is the finite-difference derivative of its objective: test_reference.py.)
"""

from __future__ import annotations

import numpy as np
from config_strategies import small_configs
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from backprop_lab.engine.config import Config
from backprop_lab.engine.kernels.codes import LAST
from backprop_lab.engine.trainer import Diverged, Trainer


@settings(max_examples=150)
@given(config=small_configs(), learning_rate=st.floats(-2.0, 3.0).map(lambda power: 10.0**power),
       steps=st.integers(1, 200))
# Found by this test: l2's penalty overflowed (weights past 1e154) while the data loss and every
# weight stayed finite, and the step was taken with an infinite objective.
@example(config=Config(dataset="circle", samples=2, features=("sin_x1",), hidden_layers=(), activation="leaky_relu",
                       loss="cross_entropy", batch_size=1, regularization="l2", regularization_rate=0.0625),
         learning_rate=1000.0, steps=87)
def test_at_any_learning_rate_a_step_is_finite_or_refused_leaving_everything_as_it_was(config, learning_rate, steps):
    trainer = Trainer(config.replace(learning_rate=learning_rate))
    for _ in range(steps):
        before = (trainer.network.parameters.copy(), trainer.optimizer.moments.copy(), trainer.counters[:LAST].copy())
        try:
            trainer.step()
        except Diverged as refused:
            assert refused.step == trainer.step_count + 1 and refused.learning_rate == learning_rate
            after = (trainer.network.parameters, trainer.optimizer.moments, trainer.counters[:LAST])
            assert all(np.array_equal(now, then) for now, then in zip(after, before, strict=True))
            assert np.isfinite(trainer.network.parameters).all() and np.isfinite(trainer.optimizer.moments).all()
            event("diverged (--hypothesis-show-statistics counts these)")
            return
        assert np.isfinite(trainer.last_losses).all() and np.isfinite(trainer.network.parameters).all()
