"""A range test taken a few steps at a time (`RangeTestRun`, how a job runs it) gives the numbers
of `range_test` in one call, bit for bit, and takes more steps than one request may ask for."""

from __future__ import annotations

import time

import numpy as np
import pytest

from backprop_lab.engine.config import Config
from backprop_lab.engine.lr_lab import RANGE_TEST_STEPS, RangeTestRun, range_test


def test_a_range_test_split_into_pieces_equals_the_one_in_one_call():
    config = Config(dataset="moons", hidden_layers=(6, 4), seed=7)
    whole = range_test(config, 1e-4, 10.0, 300)
    pieces = RangeTestRun(config, 1e-4, 10.0, 300)
    while not pieces.advance(7):
        pass
    split = pieces.result()
    assert np.array_equal(split.rates, whole.rates) and np.array_equal(split.losses, whole.losses)
    assert np.array_equal(split.smoothed, whole.smoothed)
    assert (split.suggested_rate, split.stopped_at, split.diverged) == (
        whole.suggested_rate, whole.stopped_at, whole.diverged)
    assert whole.stopped_at is not None, "the loss exploded before the end: the stop is split too"


def test_a_deadline_ends_a_piece_early_and_a_run_may_be_longer_than_a_request():
    steps = int(RANGE_TEST_STEPS.high or 0) + 1000
    run = RangeTestRun(Config(seed=1), 1e-5, 1e-3, steps)
    assert not run.advance(steps, deadline=time.perf_counter())  # at least one step, then the deadline
    assert run.taken == 1
    with pytest.raises(ValueError):
        range_test(Config(seed=1), 1e-5, 1e-3, steps)  # one call keeps the request's bound
    with pytest.raises(ValueError):
        RangeTestRun(Config(seed=1), 1e-3, 1e-5, 100)  # min_rate below max_rate
