"""Ownership in classroom mode: a session belongs to whoever created or forked it; only its owner
and the teacher control it, read it or save it. Students send from 127.0.0.2 and 127.0.0.3."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import Inbox
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.classroom.identity import COOKIE


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def new_session(client: httpx.Client) -> str:
    answer = client.post("/api/v1/sessions", json={"hidden_layers": [3]})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


# What a student may do to a session, each as (method, path under the session, body).
SESSION_ROUTES = [
    ("GET", "", None),
    ("PATCH", "/config", {"learning_rate": 0.1}),
    ("POST", "/step", {"steps": 1}),
    ("POST", "/reset", None),
    ("GET", "/params", None),
    ("GET", "/dataset", None),
    ("GET", "/gradients", None),
    ("GET", "/trace", None),
    ("POST", "/gradient-check", None),
    ("POST", "/loss-surface", {"resolution": 5}),
    ("POST", "/loss-line", {"points": 5}),
    ("POST", "/share", None),
]


def test_a_student_cannot_reach_another_students_session_by_its_id(alice, bob):
    sid = new_session(alice)
    for method, path, body in SESSION_ROUTES:
        answer = bob.request(method, f"/api/v1/sessions/{sid}{path}", json=body)
        assert answer.status_code == 404, (method, path, answer.text)  # as an unknown id: nothing leaks
        assert alice.request(method, f"/api/v1/sessions/{sid}{path}", json=body).status_code == 200, (method, path)
    assert bob.delete(f"/api/v1/sessions/{sid}").status_code == 404
    assert bob.post("/api/v1/runs", json={"session_id": sid, "name": "mine now"}).status_code == 404
    assert alice.get(f"/api/v1/sessions/{sid}").status_code == 200  # still there, untouched


def test_the_teacher_controls_every_session(alice, teacher):
    sid = new_session(alice)
    assert teacher.post(f"/api/v1/sessions/{sid}/step", json={"steps": 3}).json()["step"] == 3
    assert teacher.delete(f"/api/v1/sessions/{sid}").status_code == 204
    assert alice.get(f"/api/v1/sessions/{sid}").status_code == 404


def test_a_fork_belongs_to_whoever_forked_it(alice, bob):
    sid = new_session(alice)
    code = alice.post(f"/api/v1/sessions/{sid}/share").json()["code"]
    fork = bob.post(f"/api/v1/shares/{code}/fork")
    assert fork.status_code == 201
    fork_id = fork.json()["id"]
    assert bob.post(f"/api/v1/sessions/{fork_id}/step", json={"steps": 2}).status_code == 200
    assert alice.get(f"/api/v1/sessions/{fork_id}").status_code == 404


@pytest.mark.anyio
async def test_only_the_owner_opens_a_control_socket_but_anyone_with_the_code_watches(classroom, alice, bob):
    sid = new_session(alice)
    code = alice.post(f"/api/v1/sessions/{sid}/share").json()["code"]
    bob_cookie = {"Cookie": f"{COOKIE}={bob.get('/api/v1/identity').cookies[COOKIE]}"}
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{classroom.ws}/ws/sessions/{sid}", origin=classroom.base, additional_headers=bob_cookie)
    assert refused.value.response.status_code == 404
    viewer = Inbox(await connect(f"{classroom.ws}/ws/watch/{code}", origin=classroom.base,
                                 additional_headers=bob_cookie, max_size=2**24))
    try:
        hello = await viewer.until("hello")
        assert hello["role"] == "viewer" and hello.get("session_id") is None
        await viewer.send({"type": "play"})
        assert (await viewer.until("error"))["code"] == "read_only"
    finally:
        await viewer.ws.close()
    alice_cookie = {"Cookie": f"{COOKIE}={alice.cookies[COOKIE]}"}
    owner = Inbox(await connect(f"{classroom.ws}/ws/sessions/{sid}", origin=classroom.base,
                                additional_headers=alice_cookie, max_size=2**24))
    try:
        assert (await owner.until("hello"))["role"] == "control"
    finally:
        await owner.ws.close()


def save(client: httpx.Client, sid: str, name: str) -> str:
    answer = client.post("/api/v1/runs", json={"session_id": sid, "name": name})
    assert answer.status_code == 201, answer.text
    assert answer.json()["owner"] != "" and answer.json()["manageable"] is True
    return answer.json()["id"]


def listed(client: httpx.Client) -> dict[str, dict]:
    return {run["id"]: run for run in client.get("/api/v1/runs", params={"limit": 200}).json()["runs"]}


def test_a_students_runs_are_theirs_alone_until_the_teacher_publishes_one(alice, bob, teacher):
    sid = new_session(alice)
    alice.post(f"/api/v1/sessions/{sid}/step", json={"steps": 5})
    run = save(alice, sid, "alice's spiral")
    assert run in listed(alice) and run not in listed(bob)
    for path in (f"/api/v1/runs/{run}", f"/api/v1/runs/{run}/export", f"/api/v1/runs/{run}/metrics.csv"):
        assert bob.get(path).status_code == 404, path
    assert bob.post(f"/api/v1/runs/{run}/session").status_code == 404
    assert bob.patch(f"/api/v1/runs/{run}", json={"name": "pwned by student"}).status_code == 404
    assert bob.delete(f"/api/v1/runs/{run}").status_code == 404
    assert alice.get(f"/api/v1/runs/{run}").json()["name"] == "alice's spiral"

    # the teacher sees every run, and publishes this one to the class
    assert listed(teacher)[run]["manageable"] is True
    assert alice.patch(f"/api/v1/runs/{run}", json={"published": True}).json()["code"] == "teacher_only"
    assert teacher.patch(f"/api/v1/runs/{run}", json={"published": True}).json()["published"] is True
    shown = listed(bob)[run]
    assert shown["published"] is True and shown["manageable"] is False
    assert bob.get(f"/api/v1/runs/{run}/export").status_code == 200
    opened = bob.post(f"/api/v1/runs/{run}/session")
    assert opened.status_code == 201 and opened.json()["step"] == 5
    assert alice.get(f"/api/v1/sessions/{opened.json()['id']}").status_code == 404  # bob's session now
    refused = bob.delete(f"/api/v1/runs/{run}")
    assert refused.status_code == 403 and refused.json()["code"] == "not_yours"
    assert bob.patch(f"/api/v1/runs/{run}", json={"name": "mine"}).status_code == 403
    assert alice.patch(f"/api/v1/runs/{run}", json={"name": "renamed by alice"}).json()["name"] == "renamed by alice"
    assert teacher.delete(f"/api/v1/runs/{run}").status_code == 204
    assert alice.get(f"/api/v1/runs/{run}").status_code == 404


def test_an_imported_run_belongs_to_whoever_imported_it(alice, bob):
    sid = new_session(alice)
    run = save(alice, sid, "to share by file")
    document = alice.get(f"/api/v1/runs/{run}/export").json()
    imported = bob.post("/api/v1/runs/import", json=document)
    assert imported.status_code == 201
    assert imported.json()["id"] in listed(bob) and imported.json()["id"] not in listed(alice)
