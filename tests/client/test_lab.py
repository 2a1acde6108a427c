"""`Client` itself: the server's documents, waiting for a first start, closing, and whose sessions
`sessions.list()` shows in classroom mode (a student's own only; the teacher's, all)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from backprop_lab.client import ApiError, Client, Transport
from backprop_lab.server.wire.protocol import PROTOCOL_VERSION

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "server"))
from server_helpers import TEACHER_KEY, free_port  # noqa: E402


def test_health_options_and_identity(live):
    with Client(live.base) as lab:
        assert lab.health()["protocol_version"] == PROTOCOL_VERSION
        assert lab.wait_until_ready(timeout=5)["status"] == "ok"
        assert lab.options()["limits"]["max_neurons"] == live.settings.limits.max_neurons
        assert lab.identity() == {"classroom": False, "role": "teacher", "id": "teacher"}
    assert lab.transport.http.is_closed


def test_waiting_for_a_server_that_never_comes_gives_up_with_a_timeout():
    with Client(f"http://127.0.0.1:{free_port()}", timeout=1) as lab:
        with pytest.raises(TimeoutError, match="not ready within"):
            lab.wait_until_ready(timeout=0.3, interval=0.1)


def test_a_transport_of_ones_own_is_used_and_closed_with_the_client(live):
    transport = Transport(live.base, timeout=5)
    with Client(transport=transport) as lab:
        assert lab.sessions.transport is transport and lab.analyses.transport is transport
        assert lab.health()["status"] == "ok"
    assert transport.http.is_closed


def test_a_student_lists_only_their_own_sessions_and_the_teacher_every_one(classroom):
    with Client(classroom.base) as ana, Client(classroom.base) as budi, \
            Client(classroom.base, token=TEACHER_KEY) as teacher:
        mine = ana.sessions.create(dataset="xor", hidden_layers=[2])
        theirs = budi.sessions.create(dataset="circle", hidden_layers=[3])
        assert ana.identity()["role"] == "student" and ana.identity()["id"] != budi.identity()["id"]
        assert [entry.id for entry in ana.sessions.list()] == [mine.id]
        assert [entry.id for entry in budi.sessions.list()] == [theirs.id]
        assert ana.sessions.list()[0].owner == ana.identity()["id"]
        assert {mine.id, theirs.id} <= {entry.id for entry in teacher.sessions.list()}
        with pytest.raises(ApiError) as refused:  # another's session answers as an unknown one does
            ana.sessions.get(theirs.id)
        assert refused.value.status == 404
        ana.sessions.delete(mine.id)
        budi.sessions.delete(theirs.id)


def test_a_wrong_bearer_token_is_a_401(classroom):
    with Client(classroom.base, token="not-the-key-at-all") as stranger:
        with pytest.raises(ApiError) as refused:
            stranger.sessions.list()
    assert refused.value.status == 401


def test_the_client_is_installed_with_the_app_not_with_the_tests():
    project = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    assert any(requirement.startswith("httpx") for requirement in project["project"]["dependencies"])
    assert "backprop_lab.client" in project["tool"]["setuptools"]["packages"]


def test_importing_the_client_loads_neither_the_engine_nor_the_server():
    """A notebook on a laptop talks to a class's server without numba or FastAPI loaded."""
    import subprocess

    probe = ("import sys, backprop_lab.client; print(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('numba', 'fastapi', 'starlette', 'uvicorn', 'sqlalchemy') or m.startswith(('backprop_lab.engine', "
             "'backprop_lab.server'))))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_waiting_rides_out_a_first_starts_503_and_its_retry_after():
    answers = [
        httpx.Response(503, headers={"Retry-After": "0.05"},
                       json={"status": "preparing", "detail": "the engine is being prepared",
                             "code": "engine_preparing", "field": None,
                             "params": {"kernels_done": 3, "kernels_total": 35}}),
        httpx.Response(200, json={"status": "ok", "protocol_version": PROTOCOL_VERSION}),
    ]
    asked: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return answers[len(asked) - 1]

    http = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(server))
    with Client(transport=Transport("http://127.0.0.1:9", http=http)) as lab:
        assert lab.wait_until_ready(timeout=5)["status"] == "ok"
    assert asked == ["/api/v1/health", "/api/v1/health"]


def test_a_failed_first_start_is_an_error_not_a_wait():
    failed = httpx.Response(503, json={"status": "failed", "detail": "the engine failed", "code": "engine_failed",
                                       "field": None, "params": {"error": "no compiler"}})
    http = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(lambda request: failed))
    with Client(transport=Transport("http://127.0.0.1:9", http=http)) as lab:
        with pytest.raises(ApiError) as refused:
            lab.wait_until_ready(timeout=5)
    assert (refused.value.status, refused.value.code, refused.value.params) == (503, "engine_failed",
                                                                                {"error": "no compiler"})
    assert refused.value.retry_after is None


def test_a_fork_is_listed_as_its_forkers_session_not_the_presenters(classroom):
    with Client(classroom.base) as presenter, Client(classroom.base) as student:
        shown = presenter.sessions.create(dataset="moons", hidden_layers=[3])
        presenter.sessions.step(shown.id, 20)
        fork = student.sessions.fork(presenter.sessions.share(shown.id)["code"])
        (listed,) = student.sessions.list()
        assert (listed.id, listed.step, listed.owner) == (fork.id, 20, student.identity()["id"])
        assert [entry.id for entry in presenter.sessions.list()] == [shown.id]
        student.sessions.delete(fork.id)
        presenter.sessions.delete(shown.id)
