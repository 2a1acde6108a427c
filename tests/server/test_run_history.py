"""History you control: `record_every` on a REST `step` gives a saved run's loss curves evenly
spaced points at exactly its multiples; left out, a long request still gets a dense, even
history within the request's budget; the history never passes its size budget."""

from __future__ import annotations

import httpx
import pytest

from backprop_lab.server.wire.session_models import HISTORY_POINTS, REQUEST_POINTS


@pytest.fixture(scope="module")
def live(runs_live):
    """This module's server keeps its runs in an SQLite file, then in PostgreSQL (conftest.py)."""
    return runs_live


def saved_history(http: httpx.Client, session_id: str) -> list[dict]:
    saved = http.post("/api/v1/runs", json={"session_id": session_id, "name": "history"})
    assert saved.status_code == 201, saved.text
    return http.get(f"/api/v1/runs/{saved.json()['id']}").json()["history"]


def test_a_20000_step_request_with_record_every_keeps_every_multiple_in_the_saved_run(live, http):
    sid = live.new_session(seed=3)
    response = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 20_000, "record_every": 100})
    assert response.status_code == 200, response.text
    history = saved_history(http, sid)
    assert [point["step"] for point in history] == list(range(0, 20_001, 100))
    assert all(point["train_loss"] is not None and point["test_accuracy"] is not None for point in history)


def test_the_recorded_metrics_are_those_of_the_weights_at_that_step(live, http):
    sid = live.new_session(seed=5, dataset="xor")
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 600, "record_every": 300}).status_code == 200
    history = saved_history(http, sid)
    twin = live.new_session(seed=5, dataset="xor")
    http.post(f"/api/v1/sessions/{twin}/step", json={"steps": 300, "record_every": 300})
    at_300 = http.get(f"/api/v1/sessions/{twin}").json()["metrics"]
    assert [point["step"] for point in history] == [0, 300, 600]
    assert history[1]["train_loss"] == at_300["train_loss"] and history[1]["test_loss"] == at_300["test_loss"]


def test_without_record_every_a_long_request_gets_an_even_history_within_its_budget(live, http):
    sid = live.new_session(seed=1)
    assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 20_000}).status_code == 200
    steps = [point["step"] for point in saved_history(http, sid)]
    spacing = steps[1] - steps[0]
    assert REQUEST_POINTS // 2 <= len(steps) <= REQUEST_POINTS + 2  # it was 9 points at uneven steps
    assert steps[:-1] == list(range(0, 20_000, spacing)) and steps[-1] == 20_000  # the saved step ends it


def test_a_history_past_its_budget_thins_to_evenly_spread_points(live, http):
    sid = live.new_session(seed=2, hidden_layers=[2])
    for _ in range(3):
        assert http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 1500, "record_every": 1}).status_code == 200
    steps = [point["step"] for point in saved_history(http, sid)]
    assert len(steps) <= HISTORY_POINTS + 1
    spacing = steps[1] - steps[0]
    assert spacing > 1 and steps[:-1] == list(range(0, steps[-2] + 1, spacing)) and steps[-1] == 4500


def test_record_every_out_of_range_is_422_naming_it(live, http):
    sid = live.new_session()
    response = http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 10, "record_every": 0})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "record_every"]
