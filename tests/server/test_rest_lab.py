"""REST v1, the learning-rate lab, against a real uvicorn: the sweep, the loss line and the range
test, their numbers against the NumPy reference, every refusal (422 naming the field, 429), and
a sweep whose client leaves stopping."""

from __future__ import annotations

import time

import httpx
import numpy as np
import pytest
from server_helpers import layers_of, strict_json

from backprop_lab.engine import reference
from backprop_lab.server.analyses import rate_experiments
from backprop_lab.server.classroom.quotas import Resource
from backprop_lab.server.settings import Limits
from backprop_lab.server.wire.analysis_models import LossLineOut, LrSweepOut, RangeTestOut


def loc_names(response: httpx.Response) -> list[str]:
    return [".".join(str(part) for part in error["loc"]) for error in response.json()["detail"]]


def test_a_sweep_marks_the_huge_rate_diverged_and_the_tiny_one_slower(http):
    response = http.post("/api/v1/lr-sweep", json={
        "config": {"dataset": "plane", "hidden_layers": [6, 4], "loss": "mse", "activation": "relu"},
        "learning_rates": [0.0001, 0.03, 50.0], "steps": 400})
    assert response.status_code == 200, response.text
    body = LrSweepOut.model_validate(strict_json(response.text))
    slow, good, huge = body.runs
    assert [run.learning_rate for run in body.runs] == [0.0001, 0.03, 50.0]
    assert slow.history[0] == good.history[0] == huge.history[0], "one start for every copy"
    assert huge.diverged and huge.diverged_at is not None and huge.cause in ("loss", "weights")
    assert huge.history_steps[-1] == huge.diverged_at - 1
    assert not good.diverged and not slow.diverged and good.diverged_at is None
    assert good.history_steps == slow.history_steps == list(range(401))
    assert good.history[-1] < slow.history[-1]


def test_a_sweep_records_every_so_many_steps(http):
    body = http.post("/api/v1/lr-sweep", json={"learning_rates": [0.1], "steps": 50, "record_every": 20}).json()
    assert body["record_every"] == 20 and body["runs"][0]["history_steps"] == [0, 20, 40, 50]


def test_the_loss_line_of_a_session_starts_today_and_lands_where_one_full_batch_step_lands(http):
    sid = http.post("/api/v1/sessions", json={"learning_rate": 0.5, "regularization": "l2",
                                              "regularization_rate": 0.01}).json()["id"]
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 40})
    response = http.post(f"/api/v1/sessions/{sid}/loss-line", json={"points": 21, "max_rate_multiple": 2})
    assert response.status_code == 200, response.text
    line = LossLineOut.model_validate(strict_json(response.text))
    params = layers_of(http.get(f"/api/v1/sessions/{sid}/params").json())
    train = http.get(f"/api/v1/sessions/{sid}/dataset").json()["train"]
    x, y = np.array(train["inputs"]), np.array(train["targets"])
    choices = reference.Choices("tanh", True, "cross_entropy", "l2", 0.01)
    step = reference.training_step(params, x, y, choices, reference.Optimizer("sgd", 0.5))  # one full-batch step
    today = step.loss
    landing, _ = reference.loss_and_objective(step.layers, x, y, choices)
    assert len(line.rates) == len(line.loss) == 21 and line.rates[-1] == pytest.approx(1.0)
    assert line.current_rate == 0.5 and line.loss[0] == pytest.approx(today, rel=1e-12)
    assert line.current_loss == pytest.approx(today, rel=1e-12)
    assert line.landing_loss == pytest.approx(landing, rel=1e-10)
    assert line.loss[10] == pytest.approx(line.landing_loss, rel=1e-12)
    assert http.get(f"/api/v1/sessions/{sid}").json()["step"] == 40, "the line trains nothing"


def test_a_huge_multiple_gives_nulls_not_nan(http):
    sid = http.post("/api/v1/sessions", json={"dataset": "plane", "learning_rate": 1000}).json()["id"]
    response = http.post(f"/api/v1/sessions/{sid}/loss-line", json={"points": 5, "max_rate_multiple": 1000})
    assert response.status_code == 200
    strict_json(response.text)


def test_the_range_test_suggests_a_rate_inside_its_range_that_trains_well(http):
    response = http.post("/api/v1/lr-range-test", json={"config": {"dataset": "gaussian"}, "min_rate": 1e-4,
                                                        "max_rate": 100, "steps": 200})
    assert response.status_code == 200, response.text
    test = RangeTestOut.model_validate(strict_json(response.text))
    assert 1e-4 <= test.suggested_rate <= 100
    assert test.rates[0] == pytest.approx(1e-4) and len(test.rates) == len(test.loss) == len(test.smoothed)
    sid = http.post("/api/v1/sessions", json={"dataset": "gaussian"}).json()["id"]
    before = http.get(f"/api/v1/sessions/{sid}").json()["metrics"]["train_loss"]
    http.patch(f"/api/v1/sessions/{sid}/config", json={"learning_rate": test.suggested_rate})
    after = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 300}).json()["metrics"]["train_loss"]
    assert after < 0.3 * before


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/lr-sweep", {"learning_rates": []}, "body.learning_rates"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1] * 9}, "body.learning_rates"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1, 0]}, "body.learning_rates.1"),
        ("/api/v1/lr-sweep", {"learning_rates": [2000]}, "body.learning_rates.0"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1], "steps": 0}, "body.steps"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1], "record_every": 0}, "body.record_every"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1], "config": {"activation": "swish"}}, "body.config.activation"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1], "config": {"dataset": "mnist"}}, "body.config.dataset"),
        ("/api/v1/lr-sweep", {"learning_rates": [0.1], "config": {"dataset": "plane", "loss": "cross_entropy"}},
         "body.config.loss"),
        ("/api/v1/lr-sweep", {"rates": [0.1]}, "body.rates"),
        ("/api/v1/lr-range-test", {"min_rate": 0}, "body.min_rate"),
        ("/api/v1/lr-range-test", {"max_rate": 1e9}, "body.max_rate"),
        ("/api/v1/lr-range-test", {"min_rate": 1, "max_rate": 0.5}, "body.max_rate"),
        ("/api/v1/lr-range-test", {"steps": 5}, "body.steps"),
        ("/api/v1/lr-range-test", {"steps": 100_000}, "body.steps"),
        ("/api/v1/lr-range-test", {"config": {"hidden_layers": [0]}}, "body.config.hidden_layers.0"),
    ],
)
def test_bad_values_are_422_naming_the_field(http, path, body, field):
    response = http.post(path, json=body)
    assert response.status_code == 422, response.text
    assert field in loc_names(response)


@pytest.mark.parametrize(("body", "field"), [
    ({"points": 1}, "body.points"), ({"points": 5000}, "body.points"), ({"max_rate_multiple": 0},
                                                                         "body.max_rate_multiple"),
    ({"max_rate_multiple": -3}, "body.max_rate_multiple"), ({"point": 3}, "body.point"),
])
def test_bad_loss_line_values_are_422_naming_the_field(http, body, field):
    sid = http.post("/api/v1/sessions", json={}).json()["id"]
    response = http.post(f"/api/v1/sessions/{sid}/loss-line", json=body)
    assert response.status_code == 422 and field in loc_names(response)


def test_non_finite_rates_are_refused_and_never_echoed(http):
    response = http.post("/api/v1/lr-sweep", content='{"learning_rates": [NaN]}',
                         headers={"content-type": "application/json"})
    assert response.status_code == 422
    strict_json(response.text)


def test_unknown_sessions_have_no_loss_line(http):
    assert http.post("/api/v1/sessions/nope/loss-line", json={}).status_code == 404


def test_work_past_the_caps_is_429(live_factory):
    server = live_factory(Limits(max_request_seconds=0.01, max_steps_per_request=500))
    with httpx.Client(base_url=server.base, timeout=60) as http:
        response = http.post("/api/v1/lr-sweep", json={"learning_rates": [0.1], "steps": 501})
        assert response.status_code == 429 and "steps" in response.json()["detail"]
        response = http.post("/api/v1/lr-sweep", json={"learning_rates": [0.1] * 8, "steps": 500,
                                                       "config": {"hidden_layers": [64, 64]}})
        assert response.status_code == 429 and "copies" in response.json()["detail"]
        response = http.post("/api/v1/lr-range-test", json={"steps": 10_000, "config": {"hidden_layers": [64, 64]}})
        assert response.status_code == 429 and "range test" in response.json()["detail"]
        too_big = {"learning_rates": [0.1], "config": {"hidden_layers": [300, 300]}}
        response = http.post("/api/v1/lr-sweep", json=too_big)
        assert response.status_code == 429 and "parameters" in response.json()["detail"]
        sid = http.post("/api/v1/sessions", json={"samples": 10_000, "hidden_layers": [64, 64]}).json()["id"]
        response = http.post(f"/api/v1/sessions/{sid}/loss-line", json={"points": 1001})
        assert response.status_code == 429 and "loss line" in response.json()["detail"]


def test_a_sweep_whose_client_leaves_stops_and_frees_its_slot(live_factory, monkeypatch):
    patient = live_factory(limits=Limits(max_request_seconds=600))
    turns: list[float] = []
    advance = rate_experiments.Sweep.advance

    def counted(sweep: rate_experiments.Sweep, deadline: float) -> bool:
        turns.append(time.monotonic())
        return advance(sweep, deadline)

    monkeypatch.setattr(rate_experiments.Sweep, "advance", counted)  # the live server runs in this process
    body = {"config": {"hidden_layers": [16, 16]}, "learning_rates": [0.01, 0.03, 0.1, 0.3], "steps": 1_000_000}
    with pytest.raises(httpx.ReadTimeout):  # the client gives up: httpx closes its connection
        httpx.post(f"{patient.base}/api/v1/lr-sweep", json=body, timeout=1.0)
    left = time.monotonic()
    while patient.lab.manager.ledger.in_use(Resource.SWEEPS):
        assert time.monotonic() - left < 1.0, "the sweep kept its slot after its client left"
        time.sleep(0.01)
    freed = time.monotonic() - left
    stopped_at = len(turns)
    assert stopped_at > 5, "the sweep never ran"
    time.sleep(0.3)  # (the sweep's turns come every few milliseconds while it runs)
    assert len(turns) == stopped_at, "the sweep went on training for nobody"
    health = httpx.get(f"{patient.base}/api/v1/health").json()
    assert health["experiments_running"] == 0, f"freed after {freed:.2f} s, yet /health counts it"
