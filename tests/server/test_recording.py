"""History and trajectory keep a bounded number of points, evenly spread, the latest kept."""

from __future__ import annotations

import time

import numpy as np

from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.live.recording import History, Trajectory, default_record_every
from backprop_lab.server.wire.session_models import REQUEST_POINTS


def test_history_thins_itself_to_evenly_spread_points_from_the_first_step():
    history = History(capacity=8)
    for step in range(100):
        history.record(step, {"train_loss": 1.0 / (step + 1)})
    steps = [p["step"] for p in history.points()]
    assert len(steps) <= 8 and steps[0] == 0 and steps[-1] > 100 - 2 * history.stride
    assert all(step % history.stride == 0 for step in steps)  # one point a bucket, evenly spaced
    assert steps == list(range(0, steps[-1] + 1, history.stride))


def test_irregular_steps_still_get_one_point_a_bucket():
    history = History(capacity=6)
    for step in (0, 3, 5, 9, 17, 18, 40, 41, 77, 200, 333):
        history.record(step, {})
    steps = [p["step"] for p in history.points()]
    assert len(steps) <= 6 and len({step // history.stride for step in steps}) == len(steps)


def test_history_replaces_a_point_of_the_same_step():
    history = History()
    history.record(5, {"train_loss": 1.0})
    history.record(5, {"train_loss": 0.5})
    assert history.points() == [{"step": 5, "train_loss": 0.5}]


def test_the_trajectory_copies_parameters_within_its_memory_budget():
    trajectory = Trajectory(size=1000, max_floats=20_000)
    assert trajectory.capacity == 20
    parameters = np.zeros(1000)
    for step in range(0, 500):
        if trajectory.due(step):
            parameters[:] = step
            trajectory.record(step, parameters)
    rows = trajectory.parameters()
    assert rows.shape[0] == len(trajectory.steps) <= 20 and trajectory.steps[0] == 0
    assert np.array_equal(rows[:, 0], np.array(trajectory.steps, dtype=float))


def test_training_through_a_trajectory_records_the_weights_of_exactly_the_due_steps():
    trainer = Trainer(Config())
    trajectory = Trajectory(trainer.network.layout.size, max_points=8)
    trajectory.record(0, trainer.network.parameters)
    trajectory.train(trainer, 100, deadline=time.perf_counter() + 60)
    assert trainer.step_count == 100
    assert trajectory.steps == [0, 16, 32, 48, 64, 80, 96]  # thinned to stride 16 after 8 points
    replay = Trainer(Config())
    replay.step(48)
    assert np.array_equal(trajectory.parameters()[3], replay.network.parameters)


def test_a_grid_keeps_exactly_its_multiples_evenly_spread_however_often_the_history_thins():
    history = History(capacity=10)
    history.record(0, {})
    history.record(3, {})  # before the grid: an irregular point
    history.align(7)
    for step in range(4, 400):
        history.record(step, {})
    steps = [p["step"] for p in history.points()]
    assert len(steps) <= 10 and history.stride % 7 == 0
    assert steps[0] == 0 and steps == list(range(0, steps[-1] + 1, history.stride))
    history.align(0)
    off_grid = steps[-1] + history.stride + 1  # in the next bucket, not a multiple of 7
    history.record(off_grid, {})  # recorded again once the grid is gone
    assert history.points()[-1]["step"] == off_grid


def test_a_request_without_record_every_records_at_most_its_share_on_a_power_of_two():
    assert default_record_every(1) == 1
    assert default_record_every(REQUEST_POINTS) == 1
    assert default_record_every(20_000) == 128  # 157 points: the smallest power of two under the budget
    assert 20_000 / default_record_every(20_000) <= REQUEST_POINTS < 20_000 / (default_record_every(20_000) / 2)
