"""`Client.analyses` against a live server: the loss surface, loss line, sweep and range test,
each array equal to the numbers the JSON endpoint answers for the same request."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from backprop_lab.client import ApiError, Client

CONFIG = {"dataset": "xor", "samples": 100, "hidden_layers": [4], "seed": 2}


def json_floats(values: object) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_a_loss_surface_is_the_json_grid_as_arrays(lab: Client, http: httpx.Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 60)
    surface = lab.analyses.loss_surface(session.id, directions="random", resolution=7, span=0.5, seed=3)
    body = http.post(f"/api/v1/sessions/{session.id}/loss-surface",
                     json={"directions": "random", "resolution": 7, "span": 0.5, "seed": 3}).json()
    assert surface.loss.shape == (7, 7) and surface.trajectory.shape[1] == 2 and surface.step == 60
    assert np.array_equal(surface.loss, json_floats(body["loss"]))
    assert np.array_equal(surface.x, json_floats(body["x"])) and np.array_equal(surface.y, json_floats(body["y"]))
    assert np.array_equal(surface.trajectory, json_floats(body["trajectory"]))
    assert surface.trajectory_steps.tolist() == body["trajectory_steps"]
    assert surface.center_loss == body["center_loss"] == surface.loss[3, 3]
    for direction, expected in zip(surface.directions, body["directions"], strict=True):
        assert [layer.weights.shape for layer in direction] == [(2, 4), (4, 2)]
        assert np.array_equal(direction[0].weights, json_floats(expected["layers"][0]["weights"]))

    chosen = lab.analyses.loss_surface(session.id, weights=[(0, 1, 2), (1, 3, 0)], resolution=5)
    assert chosen.raw["kind"] == "weights" and chosen.raw["weights"] == [[0, 1, 2], [1, 3, 0]]
    with pytest.raises(ApiError) as refused:
        lab.analyses.loss_surface(session.id, resolution=2)
    assert (refused.value.status, refused.value.field) == (422, "resolution")
    lab.sessions.delete(session.id)


def test_a_loss_line_is_the_json_u_curve_as_arrays(lab: Client, http: httpx.Client):
    session = lab.sessions.create(CONFIG)
    lab.sessions.step(session.id, 20)
    line = lab.analyses.loss_line(session.id, points=11, max_rate_multiple=3.0)
    body = http.post(f"/api/v1/sessions/{session.id}/loss-line", json={"points": 11, "max_rate_multiple": 3.0}).json()
    assert line.rates.shape == line.loss.shape == (11,)
    assert np.array_equal(line.rates, json_floats(body["rates"]))
    assert np.array_equal(line.loss, json_floats(body["loss"]))
    assert line.current_rate == 0.03 and line.current_loss == line.loss[0]  # the default rate; η = 0 is today
    assert (line.best_rate, line.landing_loss, line.gradient_norm) == (
        body["best_rate"], body["landing_loss"], body["gradient_norm"])
    assert line.current_loss == lab.sessions.get(session.id).metrics["train_loss"]
    lab.sessions.delete(session.id)


def test_a_sweep_has_one_run_per_rate_in_order_equal_to_the_json(lab: Client, http: httpx.Client):
    request = {"config": CONFIG, "learning_rates": [0.01, 0.3, 900.0], "steps": 40, "record_every": 10}
    sweep = lab.analyses.lr_sweep(request["learning_rates"], steps=40, config=CONFIG, record_every=10)
    body = http.post("/api/v1/lr-sweep", json=request).json()
    assert [run.learning_rate for run in sweep.runs] == [0.01, 0.3, 900.0]
    assert (sweep.steps, sweep.record_every) == (40, 10)
    for run, expected in zip(sweep.runs, body["runs"], strict=True):
        assert np.array_equal(run.history, json_floats(expected["history"]))
        assert run.history_steps.tolist() == expected["history_steps"]
        assert (run.diverged, run.diverged_at, run.cause) == (expected["diverged"], expected["diverged_at"],
                                                              expected["cause"])
    assert sweep.runs[0].history_steps.tolist() == [0, 10, 20, 30, 40] and not sweep.runs[0].diverged
    assert sweep.runs[0].history[0] == sweep.runs[1].history[0]  # one start for every rate


def test_a_range_test_is_the_json_curve_as_arrays(lab: Client, http: httpx.Client):
    test = lab.analyses.range_test(CONFIG, min_rate=0.001, max_rate=5.0, steps=30)
    body = http.post("/api/v1/lr-range-test",
                     json={"config": CONFIG, "min_rate": 0.001, "max_rate": 5.0, "steps": 30}).json()
    assert np.array_equal(test.rates, json_floats(body["rates"])) and test.rates[0] == 0.001
    assert np.array_equal(test.loss, json_floats(body["loss"]))
    assert np.array_equal(test.smoothed, json_floats(body["smoothed"]))
    assert (test.suggested_rate, test.stopped_at, test.diverged) == (
        body["suggested_rate"], body["stopped_at"], body["diverged"])
    with pytest.raises(ApiError) as refused:
        lab.analyses.range_test(CONFIG, min_rate=1.0, max_rate=0.5)
    assert (refused.value.status, refused.value.field) == (422, "max_rate")
