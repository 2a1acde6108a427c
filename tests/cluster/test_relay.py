"""Codes and viewers across workers (backprop_lab.server.cluster.relay): two real workers sharing
one real Redis. A code made on worker 1 works on worker 2; a viewer on worker 2 gets the
presenter's frames, the very bytes a viewer on worker 1 gets; a fork through worker 2 carries on
from the presenter's state; the presenter's end closes the remote viewer as it closes a local one;
behind HAProxy, viewers on either worker all watch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cluster_helpers import Worker, free_port, start_worker
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backprop_lab.server.cluster import proxy
from backprop_lab.server.cluster.directory import RedisDirectory
from backprop_lab.server.cluster.link import ClusterLink, key
from backprop_lab.server.cluster.relay import SILENCE_SECONDS, TAP_CHECK_SECONDS
from backprop_lab.server.cluster.services import start_haproxy
from backprop_lab.server.live.share_codes import SHARE, claim_new
from backprop_lab.server.runtime.fanout import Encoded
from backprop_lab.server.settings import Limits
from backprop_lab.server.web.wire_socket import framed

pytestmark = pytest.mark.anyio
TEACHER_KEY = "a-teacher-key-for-the-relay-tests"
PLAY_SECONDS = 3.0
MIN_FRAMES_PER_SECOND = 20  # a watchable stream (issue 21)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def pair(redis_url: str) -> Iterator[tuple[Worker, Worker]]:
    """Workers w1 and w2 on one Redis, each with its own (in-memory) runs database."""
    first = start_worker("w1", free_port(), redis_url, ":memory:")
    try:
        second = start_worker("w2", free_port(), redis_url, ":memory:")
    except BaseException:
        first.stop()
        raise
    yield first, second
    second.stop()
    first.stop()


def shared_session(worker: Worker, **config: Any) -> tuple[str, str]:
    """A new session on `worker`, shared: (its id, its code)."""
    made = httpx.post(f"{worker.base}/api/v1/sessions", json=config, timeout=30)
    assert made.status_code == 201, made.text
    session_id = made.json()["id"]
    shared = httpx.post(f"{worker.base}/api/v1/sessions/{session_id}/share", timeout=30)
    assert shared.status_code == 200, shared.text
    return session_id, shared.json()["code"]


async def open_socket(worker: Worker, path: str) -> ClientConnection:
    return await connect(f"{worker.ws}{path}", origin=worker.base, max_size=2**24, close_timeout=1)


class Raw:
    """A viewer's messages as they came: (arrival, text or bytes)."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.got: list[tuple[float, str | bytes]] = []
        self.closed: ConnectionClosed | None = None

    async def read(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                self.got.append((time.monotonic(), await asyncio.wait_for(self.ws.recv(), left)))
            except TimeoutError:
                return
            except ConnectionClosed as closed:
                self.closed = closed
                return

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(raw) for _, raw in self.got if isinstance(raw, str)]

    def frames(self) -> dict[int, tuple[str, bytes | None]]:
        """step → the frame's text and its binary, as they came."""
        out: dict[int, tuple[str, bytes | None]] = {}
        for position, (_, raw) in enumerate(self.got):
            if isinstance(raw, str) and raw.startswith('{"type":"frame"'):
                message = json.loads(raw)
                follower = self.got[position + 1][1] if position + 1 < len(self.got) else None
                if "arrays" in message and not isinstance(follower, bytes):
                    continue  # its binary came after the reading stopped
                out[message["step"]] = (raw, follower if "arrays" in message else None)
        return out

    def frame_steps(self) -> list[int]:
        return [json.loads(raw)["step"] for _, raw in self.got
                if isinstance(raw, str) and raw.startswith('{"type":"frame"')]


async def drain(ws: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


def test_bytes_framed_on_another_worker_give_a_socket_without_the_framed_write_the_same_messages() -> None:
    parts = ('{"type":"frame","step":3}', b"\x00\x01binary", '{"type":"audience","viewers":2}')
    relayed = Encoded.from_framed(Encoded(parts).framed)  # as a viewer's worker gets them from Redis
    assert relayed.framed == framed(parts) and relayed.parts == parts


def test_no_two_workers_hand_out_the_same_code_even_drawing_it_at_the_same_moment(redis_url: str) -> None:
    async def race() -> list[str]:
        links = [ClusterLink.connect(name, redis_url) for name in ("w1", "w2")]
        try:
            draws = [iter(["KXM47P", "KXM47P", "TWA39C"]) for _ in links]  # both draw KXM47P first
            return await asyncio.gather(*(claim_new(RedisDirectory(link), SHARE, link.worker, draw.__next__)
                                          for link, draw in zip(links, draws, strict=True)))
        finally:
            for link in links:
                await link.close()

    codes = asyncio.run(race())
    assert sorted(codes) == ["KXM47P", "TWA39C"], "both workers took the same code"


def test_a_code_made_on_one_worker_works_on_the_other(pair: tuple[Worker, Worker]) -> None:
    first, second = pair
    session_id, code = shared_session(first)
    read = httpx.get(f"{second.base}/api/v1/shares/{code[:3]}-{code[3:].lower()}", timeout=10)
    assert read.status_code == 200, read.text
    assert read.json()["code"] == code and read.json()["viewers"] == 0
    page = httpx.get(f"{second.base}/watch/{code}", timeout=10)
    assert page.status_code == 200 and code in page.text
    assert httpx.get(f"{second.base}/api/v1/shares/XXXXXX", timeout=10).status_code == 404
    assert httpx.delete(f"{first.base}/api/v1/sessions/{session_id}", timeout=10).status_code == 204
    deadline = time.monotonic() + 5
    while httpx.get(f"{second.base}/api/v1/shares/{code}", timeout=10).status_code != 404:
        assert time.monotonic() < deadline, "the code outlived its session on the other worker"
        time.sleep(0.05)


async def test_a_viewer_on_the_other_worker_gets_the_presenters_frames_byte_for_byte(
        pair: tuple[Worker, Worker]) -> None:
    first, second = pair
    session_id, code = shared_session(first, hidden_layers=[8, 8])
    presenter = await open_socket(first, f"/ws/sessions/{session_id}")
    drained = asyncio.create_task(drain(presenter))
    here, there = [Raw(await open_socket(worker, f"/ws/watch/{code}")) for worker in (first, second)]
    await asyncio.gather(here.read(1.0), there.read(1.0))
    greeting_here, greeting_there = here.messages()[0], there.messages()[0]
    assert greeting_there["type"] == "hello" and greeting_there == greeting_here, "not a local viewer's greeting"
    await presenter.send(json.dumps({"type": "speed", "steps_per_second": 100}))
    await presenter.send(json.dumps({"type": "play"}))
    started = len(there.got)
    await asyncio.gather(here.read(PLAY_SECONDS), there.read(PLAY_SECONDS))
    steps = Raw(there.ws)
    steps.got = there.got[started:]
    remote_steps = steps.frame_steps()
    assert len(remote_steps) >= MIN_FRAMES_PER_SECOND * PLAY_SECONDS, f"{len(remote_steps)} frames in {PLAY_SECONDS} s"
    assert remote_steps == sorted(set(remote_steps)), "frames out of order or repeated"
    local, remote = here.frames(), there.frames()
    common = sorted(set(local) & set(remote))
    assert len(common) >= len(remote) * 0.9, "the two viewers saw different frames"
    assert all(local[step] == remote[step] for step in common), "a remote frame's bytes differ from a local one's"
    for ws in (presenter, here.ws, there.ws):
        await ws.close()
    drained.cancel()


def test_a_fork_through_the_other_worker_carries_on_from_the_presenters_state(pair: tuple[Worker, Worker]) -> None:
    first, second = pair
    session_id, code = shared_session(first, hidden_layers=[6], optimizer="adam")
    assert httpx.post(f"{first.base}/api/v1/sessions/{session_id}/step", json={"steps": 37},
                      timeout=30).status_code == 200
    fork = httpx.post(f"{second.base}/api/v1/shares/{code}/fork", timeout=30)
    assert fork.status_code == 201, fork.text
    forked = fork.json()
    assert forked["id"].startswith("w2.") and forked["step"] == 37 and forked["state"] == "paused"
    original = httpx.get(f"{first.base}/api/v1/sessions/{session_id}", timeout=10).json()
    assert forked["metrics"] == original["metrics"] and forked["config"] == original["config"]
    for worker, sid in ((first, session_id), (second, forked["id"])):  # both go on 50 steps: the same weights
        stepped = httpx.post(f"{worker.base}/api/v1/sessions/{sid}/step", json={"steps": 50}, timeout=30)
        assert stepped.status_code == 200
    params = [httpx.get(f"{worker.base}/api/v1/sessions/{sid}/params", timeout=10).json()
              for worker, sid in ((first, session_id), (second, forked["id"]))]
    assert params[0] == params[1], "the fork did not carry on bit for bit"
    assert httpx.post(f"{second.base}/api/v1/shares/XXXXXX/fork", timeout=10).status_code == 404


async def test_the_presenters_end_closes_a_remote_viewer_as_it_closes_a_local_one(pair: tuple[Worker, Worker]) -> None:
    first, second = pair
    session_id, code = shared_session(first)
    here, there = [Raw(await open_socket(worker, f"/ws/watch/{code}")) for worker in (first, second)]
    await asyncio.gather(here.read(0.5), there.read(0.5))
    for sent in ('{"type": "play", "id": 7}', "not json", '{"type": "speed", "steps_per_second": -1}'):
        for viewer in (here, there):  # a remote viewer's attempts to steer are answered as a local one's
            await viewer.ws.send(sent)
        await asyncio.gather(here.read(0.5), there.read(0.5))
        assert here.messages()[-1]["type"] == "error" and here.messages()[-1] == there.messages()[-1]
    assert httpx.delete(f"{first.base}/api/v1/sessions/{session_id}", timeout=10).status_code == 204
    await asyncio.gather(here.read(5.0), there.read(5.0))
    for viewer in (here, there):
        assert viewer.closed is not None, "a viewer stayed open after its session ended"
        assert viewer.messages()[-1]["type"] == "error" and viewer.messages()[-1]["code"] == "session_closed"
    assert here.messages()[-1] == there.messages()[-1]
    assert (here.closed.rcvd.code, here.closed.rcvd.reason) == (there.closed.rcvd.code, there.closed.rcvd.reason)  # type: ignore[union-attr]
    with pytest.raises(InvalidStatus) as refused:
        await open_socket(second, f"/ws/watch/{code}")
    assert refused.value.response.status_code == 404



async def test_the_presenter_counts_viewers_on_every_worker_and_their_cap_holds_across_workers(
        pair: tuple[Worker, Worker], redis_url: str) -> None:
    first, second = pair
    session_id, code = shared_session(first)
    presenter = Raw(await open_socket(first, f"/ws/sessions/{session_id}"))
    await presenter.read(0.5)
    there = Raw(await open_socket(second, f"/ws/watch/{code}"))
    await asyncio.gather(presenter.read(1.0), there.read(1.0))
    audience = [m["viewers"] for m in presenter.messages() if m["type"] == "audience"]
    assert audience[-1] == 1, f"the presenter was told {audience}"
    assert [m["viewers"] for m in there.messages() if m["type"] == "audience"][-1] == 1
    assert httpx.get(f"{second.base}/api/v1/shares/{code}", timeout=10).json()["viewers"] == 1
    cap = Limits().max_viewers_per_session
    redis = Redis.from_url(redis_url)
    await redis.hset(key("viewers", session_id), "w2", cap - 1)  # as if 249 more watched on w2
    here = await open_socket(first, f"/ws/watch/{code}")  # the 250th
    for worker in (first, second):
        with pytest.raises(InvalidStatus) as refused:
            await open_socket(worker, f"/ws/watch/{code}")
        assert refused.value.response.status_code == 429 and b"too_many_viewers" in refused.value.response.body
    await here.close()
    deadline = time.monotonic() + 5
    while int(await redis.hget(key("viewers", session_id), "w1") or 0) != 0:
        assert time.monotonic() < deadline, "a viewer's end did not give its place back"
        await asyncio.sleep(0.05)
    await (await open_socket(second, f"/ws/watch/{code}")).close()
    await redis.aclose()
    for ws in (presenter.ws, there.ws):
        await ws.close()


async def test_a_presenters_worker_publishes_only_while_another_worker_has_viewers(
        pair: tuple[Worker, Worker], redis_url: str) -> None:
    first, second = pair
    session_id, code = shared_session(first)
    presenter = await open_socket(first, f"/ws/sessions/{session_id}")
    drained = asyncio.create_task(drain(presenter))
    await presenter.send(json.dumps({"type": "play"}))
    there = Raw(await open_socket(second, f"/ws/watch/{code}"))
    await there.read(1.0)
    assert there.frame_steps(), "the remote viewer got no frame"
    await there.ws.close()
    await asyncio.sleep(3 * TAP_CHECK_SECONDS)  # the presenter's worker notices nobody listens
    redis = Redis.from_url(redis_url)
    listener = redis.pubsub()
    await listener.subscribe(key("frames", session_id))
    published = []
    end = time.monotonic() + 1.5
    while (left := end - time.monotonic()) > 0:
        message = await listener.get_message(ignore_subscribe_messages=True, timeout=left)
        if message is not None:
            published.append(message)
    assert published == [], "frames were published with no viewer on another worker"
    await listener.aclose()
    await redis.aclose()
    await presenter.close()
    drained.cancel()



async def test_viewers_through_the_proxy_land_on_either_worker_and_all_watch_the_presenter(
        redis_url: str, tmp_path: Path) -> None:
    """As a class uses it: one address (HAProxy's), where `/ws/watch/{code}` goes to the least
    loaded worker whichever holds the session. (Its workers' names are their own: the module's
    pair still runs on the same Redis.)"""
    port = free_port()
    workers = [start_worker(name, free_port(), redis_url, ":memory:",
                            extra_args=("--public-url", f"http://127.0.0.1:{port}/")) for name in ("p1", "p2")]
    haproxy = start_haproxy(proxy.config([proxy.Worker(w.name, "127.0.0.1", w.port) for w in workers],
                                         f"127.0.0.1:{port}", 1000), port, tmp_path / "haproxy")
    base, ws = haproxy.url, haproxy.url.replace("http://", "ws://")
    try:
        deadline = time.monotonic() + 30
        for worker in workers:  # HAProxy sees both workers up
            while httpx.get(f"{base}/api/v1/sessions/{worker.name}.unknown", timeout=5).status_code != 404:
                assert time.monotonic() < deadline, f"HAProxy did not see {worker.name} up"
                await asyncio.sleep(0.1)
        made = httpx.post(f"{base}/api/v1/sessions", json={}, timeout=30).json()["id"]
        code = httpx.post(f"{base}/api/v1/sessions/{made}/share", timeout=30).json()["code"]
        presenter = Raw(await connect(f"{ws}/ws/sessions/{made}", origin=base, max_size=2**24, close_timeout=1))
        await presenter.read(0.5)
        viewers = [Raw(await connect(f"{ws}/ws/watch/{code}", origin=base, max_size=2**24, close_timeout=1))
                   for _ in range(6)]
        await presenter.ws.send(json.dumps({"type": "play"}))
        await asyncio.gather(presenter.read(2.0), *(viewer.read(2.0) for viewer in viewers))
        sockets = [httpx.get(f"{worker.base}/api/v1/health", timeout=5).json()["sockets"] for worker in workers]
        assert sum(sockets) == 7 and min(sockets) >= 2, f"sockets per worker: {sockets}"
        for viewer in viewers:
            assert viewer.messages()[0]["type"] == "hello" and len(viewer.frame_steps()) >= 10
        assert [m["viewers"] for m in presenter.messages() if m["type"] == "audience"][-1] == 6
        for raw in (presenter, *viewers):
            await raw.ws.close()
    finally:
        haproxy.stop()
        for worker in workers:
            worker.stop()


async def test_a_remote_viewer_of_a_worker_that_died_is_closed_so_its_page_reconnects(
        workers: Callable[..., Worker], redis_url: str) -> None:
    first, second = (workers(name, free_port(), redis_url, ":memory:") for name in ("k1", "k2"))
    _, code = shared_session(first)  # paused: only the beats say its worker is there
    there = Raw(await open_socket(second, f"/ws/watch/{code}"))
    await there.read(SILENCE_SECONDS + 1)
    assert there.closed is None and there.messages()[0]["type"] == "hello", "closed while its worker lived"
    here = await open_socket(first, f"/ws/watch/{code}")  # a viewer on the worker that dies
    assert httpx.get(f"{second.base}/api/v1/shares/{code}", timeout=10).json()["viewers"] == 2
    first.kill()
    await there.read(SILENCE_SECONDS + 5)
    assert there.closed is not None and there.closed.rcvd is not None and there.closed.rcvd.code == 1012
    assert httpx.get(f"{second.base}/api/v1/shares/{code}", timeout=10).json()["viewers"] == 0, \
        "the dead worker's viewers still count"
    with contextlib.suppress(ConnectionClosed):
        await here.close()


def test_a_class_code_names_the_worker_it_was_opened_on_and_goes_with_the_class(
        workers: Callable[..., Worker], redis_url: str) -> None:
    first, second = (workers(name, free_port(), redis_url, ":memory:", classroom=True, teacher_key=TEACHER_KEY)
                     for name in ("w1", "w2"))
    teacher = {"Authorization": f"Bearer {TEACHER_KEY}"}
    opened = httpx.post(f"{first.base}/api/v1/classes", headers=teacher, timeout=10)
    assert opened.status_code == 201, opened.text
    code = opened.json()["code"]
    redis = SyncRedis.from_url(redis_url)
    assert redis.get(key("classcode", code)) == b"w1"
    student = {"code": code.lower(), "name": "Ani"}
    elsewhere = httpx.post(f"{second.base}/api/v1/join", json=student, timeout=10)
    assert elsewhere.status_code == 200, "every worker holds the class (backprop_lab.server.cluster.classes)"
    assert httpx.post(f"{first.base}/api/v1/join", json=student, timeout=10).status_code == 200
    assert httpx.delete(f"{first.base}/api/v1/classes/{code}", headers=teacher, timeout=10).status_code == 204
    deadline = time.monotonic() + 5
    while redis.get(key("classcode", code)) is not None:
        assert time.monotonic() < deadline, "the class code outlived its class"
        time.sleep(0.05)
    ended = httpx.post(f"{second.base}/api/v1/join", json=student, timeout=10)
    assert ended.status_code == 404 and ended.json()["code"] == "unknown_class"
    redis.close()
