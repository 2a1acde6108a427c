"""Every 429 the app answers carries `Retry-After` and machine-readable `params` saying which cap
and what would fit (docs/api.md, "Errors"): a walk through each path that can answer 429 on a
real server with tiny caps, each ledger refusal, and a check that no `CapReached` is raised
without its params."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.classroom.identity import Identity, Role
from backprop_lab.server.classroom.quotas import Ledger, Quotas, Resource
from backprop_lab.server.settings import Limits
from backprop_lab.server.wire.problems import CapReached

SERVER = Path(__file__).resolve().parents[2] / "server"


def refused(response: httpx.Response, code: str, field: str | None = None) -> dict:
    """The 429's body, after checking what every 429 must carry."""
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["params"], dict) and body["params"], f"{code}: no params"
    if field is not None:
        assert body["field"] == field
    return body


def test_every_429_path_of_the_app_has_retry_after_and_params(live_factory):
    tiny = Limits(max_sessions=2, max_parameters=100, max_rows=600, max_hidden_layers=2, max_neurons=8,
                  max_steps_per_request=100, max_request_seconds=1e-6, max_sockets_per_session=1, max_jobs=1)
    server = live_factory(limits=tiny)
    with httpx.Client(base_url=server.base, timeout=60) as http:
        sessions = "/api/v1/sessions"
        refused(http.post(sessions, json={"hidden_layers": [2, 2, 2]}), "too_many_layers", "hidden_layers")
        refused(http.post(sessions, json={"hidden_layers": [9]}), "too_many_neurons", "hidden_layers")
        refused(http.post(sessions, json={"hidden_layers": [8, 8]}), "too_many_parameters", "hidden_layers")
        refused(http.post(sessions, json={"samples": 1000}), "too_many_rows", "samples")
        sid = http.post(sessions, json={}).json()["id"]
        step = f"{sessions}/{sid}/step"
        assert refused(http.post(step, json={"steps": 101}), "too_many_steps", "steps")["params"]["maximum"] == 100
        slow = refused(http.post(step, json={"steps": 100}), "takes_too_long", "steps")["params"]
        assert slow["value"] == 100 and slow["fits"] < 100 and slow["maximum"] == 1e-6
        refused(http.post(f"{sessions}/{sid}/gradient-check"), "takes_too_long")
        assert "fits" in refused(http.post(f"{sessions}/{sid}/loss-line", json={}), "takes_too_long", "points")[
            "params"]
        assert "fits" in refused(http.post(f"{sessions}/{sid}/loss-surface", json={}), "takes_too_long",
                                 "resolution")["params"]
        refused(http.post("/api/v1/lr-sweep", json={"learning_rates": [0.1], "steps": 101}), "too_many_steps", "steps")
        assert "fits" in refused(http.post("/api/v1/lr-sweep", json={"learning_rates": [0.1], "steps": 50}),
                                 "takes_too_long", "steps")["params"]
        assert "fits" in refused(http.post("/api/v1/lr-range-test", json={}), "takes_too_long", "steps")["params"]
        http.post(sessions, json={})
        assert refused(http.post(sessions, json={}), "too_many_sessions")["params"] == {
            "resource": "sessions", "maximum": 2}
        # jobs: their own caps, and how many run at once
        job = http.post("/api/v1/jobs", json={"kind": "training", "session_id": sid, "steps": 1_000_000})
        assert job.status_code == 201, job.text
        refused(http.post("/api/v1/jobs", json={"kind": "range_test"}), "too_many_jobs")
        http.post(f"/api/v1/jobs/{job.json()['id']}/cancel")
        refused(http.post("/api/v1/jobs", json={"kind": "sweep", "learning_rates": [0.1] * 1000}), "too_many_rates",
                "learning_rates")

        async def second_socket() -> InvalidStatus:
            async with connect(f"{server.ws}/ws/sessions/{sid}", origin=server.base):  # type: ignore[arg-type]
                with pytest.raises(InvalidStatus) as second:
                    async with connect(f"{server.ws}/ws/sessions/{sid}", origin=server.base):  # type: ignore[arg-type]
                        pass
                return second.value

        denial = asyncio.run(second_socket()).response
        assert denial.status_code == 429 and int(denial.headers["Retry-After"]) >= 1
        body = json.loads(denial.body)
        assert body["code"] and body["params"] == {"maximum": 1}


@pytest.mark.parametrize("resource", list(Resource))
def test_each_share_and_cap_of_the_ledger_refuses_with_retry_after_and_params(resource):
    student = Identity("s_a", Role.STUDENT, "10.0.0.1")
    full = Ledger(Quotas(), {kind: 0 for kind in Resource}, enforce_shares=True)
    with pytest.raises(CapReached) as refusal:
        full.claim(resource, student)
    assert refusal.value.retry_after >= 1
    assert refusal.value.params == {"resource": resource.value, "maximum": 0}


def test_no_cap_reached_is_raised_without_params():
    """`CapReached(message, code, field, params)`: a raise that leaves out the params (or the code)
    would answer a 429 a client cannot act on."""
    bare = []
    for path in SERVER.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "CapReached":
                if len(node.args) < 4 and "params" not in {keyword.arg for keyword in node.keywords}:
                    bare.append(f"{path.relative_to(SERVER)}:{node.lineno}")
    assert not bare, f"CapReached without params at {bare}"
