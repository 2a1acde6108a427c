"""A worker's death (docs/reliability.md): real workers sharing a real Redis and PostgreSQL. A
session checkpoints itself to Redis; once its worker is killed (SIGKILL, nothing closed), a
request or a socket for it that reaches another worker (as the proxy sends it there) continues
it from its checkpoint, bit for bit, with its owner, and every saved run is still there."""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import numpy as np
import pytest
import redis
from cluster_helpers import Worker, free_port
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backprop_lab.server.cluster import proxy
from backprop_lab.server.cluster.checkpoints import checkpoint_key
from backprop_lab.server.cluster.services import start_haproxy

TEACHER_KEY = "a-teacher-key-for-cluster-tests"
CONFIG = {"optimizer": "adam", "batch_size": 7, "seed": 11}  # optimiser memory and a shuffled order to carry over


def params_bytes(worker: Worker, session_id: str, token: str | None = None) -> bytes:
    """The session's weights and biases, float64, as bytes: equal means bit-exact."""
    response = httpx.get(f"{worker.base}/api/v1/sessions/{session_id}/params", headers=bearer(token), timeout=30)
    assert response.status_code == 200, response.text
    layers = response.json()["layers"]
    return b"".join(np.asarray(layer[key], dtype=np.float64).tobytes() for layer in layers
                    for key in ("weights", "biases"))


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def step(worker: Worker, session_id: str, steps: int, token: str | None = None) -> dict[str, Any]:
    response = httpx.post(f"{worker.base}/api/v1/sessions/{session_id}/step", json={"steps": steps},
                          headers=bearer(token), timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def checkpointed_step(redis_url: str, session_id: str, at_least: int, seconds: float = 10.0) -> int:
    """The step of the session's checkpoint in Redis, once it is at least `at_least`."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = client.hget(checkpoint_key(session_id), "step")
        if found is not None and int(found) >= at_least:
            return int(found)
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint of {session_id} at step ≥ {at_least} within {seconds} s")


def test_a_session_goes_on_bit_for_bit_on_one_other_worker_after_its_own_is_killed(
        workers: Callable[..., Worker], redis_url: str, postgres_url: str) -> None:
    first, *others = (workers(name, free_port(), redis_url, postgres_url) for name in ("w1", "w2", "w3"))
    created = httpx.post(f"{first.base}/api/v1/sessions", json=CONFIG, timeout=30).json()
    session_id = created["id"]
    code = httpx.post(f"{first.base}/api/v1/sessions/{session_id}/share", timeout=30).json()["code"]
    assert step(first, session_id, 137)["step"] == 137
    assert checkpointed_step(redis_url, session_id, 137) == 137  # a step request's end writes one
    first.kill()

    # several requests at once on two workers: one adoption, by one of them
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda worker: (worker, httpx.get(f"{worker.base}/api/v1/sessions/{session_id}",
                                                                  timeout=30)), others * 3))
    adopters = {worker.name for worker, answer in answers if answer.status_code == 200}
    assert len(adopters) == 1, [(worker.name, answer.status_code) for worker, answer in answers]
    second = next(worker for worker in others if worker.name in adopters)
    assert [answer.status_code for worker, answer in answers if worker is not second] == [404] * 3
    assert {answer.json()["step"] for worker, answer in answers if worker is second} == {137}
    assert [httpx.get(f"{worker.base}/api/v1/health", timeout=5).json()["sessions"] for worker in others].count(1) == 1
    assert step(second, session_id, 91)["step"] == 228
    assert httpx.post(f"{second.base}/api/v1/sessions/{session_id}/share", timeout=30).json()["code"] == code

    reference = httpx.post(f"{second.base}/api/v1/sessions", json=CONFIG, timeout=30).json()["id"]
    assert step(second, reference, 228)["step"] == 228
    assert params_bytes(second, session_id) == params_bytes(second, reference)
    # the adopting worker writes the session's checkpoints now
    assert checkpointed_step(redis_url, session_id, 228) == 228
    assert redis.Redis.from_url(redis_url).hget(checkpoint_key(session_id), "worker") == second.name.encode()


def test_a_session_nobody_checkpointed_and_a_live_workers_session_are_not_taken(
        workers: Callable[..., Worker], redis_url: str, postgres_url: str) -> None:
    first = workers("w1", free_port(), redis_url, postgres_url)
    second = workers("w2", free_port(), redis_url, postgres_url)
    session_id = httpx.post(f"{first.base}/api/v1/sessions", json={}, timeout=30).json()["id"]
    checkpointed_step(redis_url, session_id, 0)
    # w1 is alive and serves it: w2 does not take it
    assert httpx.get(f"{second.base}/api/v1/sessions/{session_id}", timeout=30).status_code == 404
    assert httpx.get(f"{first.base}/api/v1/sessions/{session_id}", timeout=30).status_code == 200
    unknown = "w1." + secrets.token_urlsafe(16)
    assert httpx.get(f"{second.base}/api/v1/sessions/{unknown}", timeout=30).status_code == 404
    # deleting a session deletes its checkpoint
    assert httpx.delete(f"{first.base}/api/v1/sessions/{session_id}", timeout=30).status_code == 204
    deadline = time.monotonic() + 5
    while redis.Redis.from_url(redis_url).exists(checkpoint_key(session_id)):
        assert time.monotonic() < deadline, "the deleted session's checkpoint is still there"
        time.sleep(0.05)


def sessions_held(worker: Worker) -> int:
    return httpx.get(f"{worker.base}/api/v1/health", timeout=30).json()["sessions"]


def test_a_worker_taken_for_dead_drops_its_copy_when_it_comes_back_then_takes_its_session_back(
        workers: Callable[..., Worker], redis_url: str, postgres_url: str) -> None:
    first = workers("w1", free_port(), redis_url, postgres_url)
    second = workers("w2", free_port(), redis_url, postgres_url)
    session_id = httpx.post(f"{first.base}/api/v1/sessions", json=CONFIG, timeout=30).json()["id"]
    step(first, session_id, 50)
    checkpointed_step(redis_url, session_id, 50)
    first.process.send_signal(signal.SIGSTOP)  # frozen: its heartbeat lapses, as a dead worker's does
    try:
        assert httpx.get(f"{second.base}/api/v1/sessions/{session_id}", timeout=30).json()["step"] == 50
        assert step(second, session_id, 10)["step"] == 60
        assert checkpointed_step(redis_url, session_id, 60) == 60
    finally:
        first.process.send_signal(signal.SIGCONT)
    # thawed, w1 finds the session is w2's and drops its stale copy (step 50) without being asked
    until(lambda: sessions_held(first) == 0, "w1 drops its copy")
    # the proxy sends the session's paths to w1 again once it is up: w1 takes it back, at w2's step,
    # and w2 lets go of it
    assert httpx.get(f"{first.base}/api/v1/sessions/{session_id}", timeout=30).json()["step"] == 60
    until(lambda: sessions_held(second) == 0, "w2 lets go of the session")
    assert step(first, session_id, 5)["step"] == 65


class Socket:
    """A control socket's JSON messages (binary ones skipped)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def until(self, kind: str, seconds: float = 10.0, check: Callable[[dict[str, Any]], bool] = bool,
                    ) -> dict[str, Any]:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            raw = await asyncio.wait_for(self.ws.recv(), left)
            if isinstance(raw, str) and (message := json.loads(raw))["type"] == kind and check(message):
                return message
        raise AssertionError(f"no {kind} message within {seconds} s")


async def open_socket(worker: Worker, session_id: str, token: str) -> Socket:
    return await open_socket_at(worker.base, session_id, token)


async def open_socket_at(base: str, session_id: str, token: str) -> Socket:
    ws = await connect(f"{base.replace('http://', 'ws://')}/ws/sessions/{session_id}", origin=base,
                       max_size=2**24, additional_headers=bearer(token), open_timeout=30)
    return Socket(ws)


def test_kill_9_a_students_session_continues_on_another_worker_and_every_saved_run_is_there(
        workers: Callable[..., Worker], redis_url: str, postgres_url: str) -> None:
    options = {"classroom": True, "teacher_key": TEACHER_KEY}
    first = workers("w1", free_port(), redis_url, postgres_url, **options)
    second = workers("w2", free_port(), redis_url, postgres_url, **options)
    student, stranger = ("s." + secrets.token_urlsafe(16) for _ in range(2))
    created = httpx.post(f"{first.base}/api/v1/sessions", json=CONFIG, headers=bearer(student), timeout=30)
    session_id = created.json()["id"]
    saved = httpx.post(f"{first.base}/api/v1/runs", json={"session_id": session_id, "name": "before the crash"},
                       headers=bearer(student), timeout=30)
    assert saved.status_code == 201, saved.text

    async def scenario() -> None:
        socket = await open_socket(first, session_id, student)
        hello = await socket.until("hello")
        assert hello["moved_from"] is None
        # a watchable pace: its play turns run on the event loop, its checkpoints still get written
        await socket.send({"type": "speed", "steps_per_second": 30})
        await socket.send({"type": "play"})
        await socket.until("frame", check=lambda frame: frame["step"] > 0)
        checkpointed = checkpointed_step(redis_url, session_id, 1)
        first.kill()
        with pytest.raises(ConnectionClosed):  # the socket drops with its worker
            await socket.until("frame", seconds=30, check=lambda _: False)

        # the page reconnects (the proxy sends it to a live worker): its session, from the checkpoint
        again = await open_socket(second, session_id, student)
        hello = await again.until("hello")
        moved = hello["moved_from"]
        assert moved is not None and moved >= checkpointed
        assert hello["session_id"] == session_id and hello["snapshot"]["step"] == moved
        await again.send({"type": "play"})
        frame = await again.until("frame", check=lambda frame: frame["step"] > moved)
        assert frame["step"] > moved
        await again.send({"type": "pause"})
        await again.until("state", check=lambda state: state["state"] == "paused")
        await again.ws.close()
        # the notice is said once: the next socket's hello does not repeat it
        later = await open_socket(second, session_id, student)
        assert (await later.until("hello"))["moved_from"] is None
        await later.ws.close()

    asyncio.run(scenario())
    # still the student's own: another student gets what an unknown id gets
    assert httpx.get(f"{second.base}/api/v1/sessions/{session_id}", headers=bearer(stranger),
                     timeout=30).status_code == 404
    runs = httpx.get(f"{second.base}/api/v1/runs", headers=bearer(student), timeout=30).json()["runs"]
    assert [run["name"] for run in runs] == ["before the crash"]
    assert httpx.post(f"{second.base}/api/v1/runs", json={"session_id": session_id, "name": "after"},
                      headers=bearer(student), timeout=30).status_code == 201


def test_kill_9_behind_the_proxy_the_page_reconnects_to_the_same_address_and_trains_on(
        workers: Callable[..., Worker], redis_url: str, postgres_url: str, tmp_path: Any) -> None:
    port = free_port()  # the proxy's: the one address the student knows
    options = {"classroom": True, "teacher_key": TEACHER_KEY,
               "extra_args": ("--public-url", f"http://127.0.0.1:{port}/")}
    started = [workers(name, free_port(), redis_url, postgres_url, **options) for name in ("w1", "w2")]
    haproxy = start_haproxy(proxy.config([proxy.Worker(w.name, "127.0.0.1", w.port) for w in started],
                                         f"127.0.0.1:{port}", 1000), port, tmp_path / "haproxy")
    base = haproxy.url
    try:
        for worker in started:  # each worker's own backend has it up
            until(lambda w=worker: httpx.get(f"{base}/api/v1/sessions/{w.name}.unknown", timeout=5).status_code
                  == 404, f"HAProxy sees {worker.name} up")
        student = "s." + secrets.token_urlsafe(16)
        session_id = httpx.post(f"{base}/api/v1/sessions", json=CONFIG, headers=bearer(student),
                                timeout=30).json()["id"]
        holder = next(worker for worker in started if session_id.startswith(f"{worker.name}."))
        # saved at its worker: POST /api/v1/runs names the session in its body, which the proxy
        # does not read (it routes by path), so through the proxy it may reach the other worker
        saved = httpx.post(f"{holder.base}/api/v1/runs", json={"session_id": session_id, "name": "kept"},
                           headers=bearer(student), timeout=30)
        assert saved.status_code == 201, saved.text

        async def scenario() -> None:
            socket = await open_socket_at(base, session_id, student)
            await socket.until("hello")
            await socket.send({"type": "play"})
            await socket.until("frame", check=lambda frame: frame["step"] > 0)
            checkpointed = checkpointed_step(redis_url, session_id, 1)
            holder.kill()
            with pytest.raises(ConnectionClosed):
                await socket.until("frame", seconds=30, check=lambda _: False)
            # what the page does: ask for its session until the server answers, then open its socket
            until(lambda: httpx.get(f"{base}/api/v1/sessions/{session_id}", headers=bearer(student),
                                    timeout=30).status_code == 200, "the session answers through the proxy")
            again = await open_socket_at(base, session_id, student)
            hello = await again.until("hello")
            assert hello["moved_from"] is not None and hello["moved_from"] >= checkpointed
            await again.send({"type": "play"})
            await again.until("frame", check=lambda frame: frame["step"] > hello["moved_from"])
            await again.ws.close()

        asyncio.run(scenario())
        runs = httpx.get(f"{base}/api/v1/runs", headers=bearer(student), timeout=30).json()["runs"]
        assert [run["name"] for run in runs] == ["kept"]
    finally:
        haproxy.stop()


def until(check: Callable[[], bool], what: str, seconds: float = 30.0) -> None:
    """Poll `check()` until it is true; fail naming `what` past the deadline."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} within {seconds} s"
        time.sleep(0.1)
