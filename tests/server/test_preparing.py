"""A first start: the server listens while the engine's kernels compile, and every answer says
so until they are ready: 503 `engine_preparing` with `Retry-After` on the API, health's progress,
refused WebSockets, the preparing page at page addresses; then everything works. The warm-up is
held by the test (`Settings.engine_warm_up`) after reporting a first compile, as a cold cache does."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.engine.warmup import COLD_START_KERNELS, Progress, warm_up
from backprop_lab.server import cli

TOTAL = COLD_START_KERNELS


class HeldWarmUp:
    """A warm-up that reports the first kernel compiling, then waits for `release` (or fails)
    before the real one (a warm cache here: it only loads)."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.release = threading.Event()
        self.failure = failure
        self.progress: Progress | None = None

    def __call__(self, progress: Progress) -> float:
        self.progress = progress
        progress(0, TOTAL, "training.train")
        assert self.release.wait(60), "the test never released the warm-up"
        if self.failure is not None:
            raise self.failure
        return warm_up(progress)


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)


def assert_preparing(response: httpx.Response, done: int) -> dict:
    assert response.status_code == 503
    assert 1 <= int(response.headers["retry-after"]) <= 10
    body = response.json()
    assert body["code"] == "engine_preparing" and body["field"] is None
    assert "being prepared" in body["detail"]
    assert body["params"]["kernels_done"] == done and body["params"]["kernels_total"] == TOTAL
    assert body["params"]["seconds_left"] is None  # no cold start was measured with these settings
    return body


def refused_handshake(url: str, origin: str) -> InvalidStatus:
    async def attempt() -> InvalidStatus:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url, origin=origin):
                pass
        return refused.value

    return asyncio.run(attempt())


def test_until_the_engine_is_ready_every_answer_says_so_then_everything_works(live_factory):
    held = HeldWarmUp()
    live = live_factory(engine_warm_up=held)  # returns once the server listens: the first compile began

    # the API: 503 in the error shape, with the progress and when to come back
    assert_preparing(httpx.get(f"{live.base}/api/v1/options"), done=0)
    assert_preparing(httpx.post(f"{live.base}/api/v1/sessions", json={}), done=0)
    health = assert_preparing(httpx.get(f"{live.base}/api/v1/health"), done=0)
    assert health["status"] == "preparing" and health["params"]["kernel"] == "training.train"

    assert held.progress is not None
    held.progress(12, TOTAL, "passes.layer_forward")  # the compile moves on: health follows it
    health = assert_preparing(httpx.get(f"{live.base}/api/v1/health"), done=12)
    assert health["params"]["kernel"] == "passes.layer_forward"

    # a WebSocket handshake is refused before it is accepted
    refusal = refused_handshake(f"{live.ws}/ws/sessions/any", live.base)
    assert refusal.response.status_code == 503
    assert b'"engine_preparing"' in refusal.response.body

    # every page address shows the preparing page, whose script and words are served
    for path in ("/", "/watch/KXM47P", "/teacher?key=whatever"):
        page = httpx.get(f"{live.base}{path}")
        assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
        assert 'data-testid="preparing"' in page.text and "Preparing the engine" in page.text
        assert f'<progress id="preparing-bar" data-testid="preparing-bar" max="{TOTAL}" value="12"' in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
    for asset in ("/static/js/preparing.js", "/static/i18n/id.json", "/static/css/app.css"):
        assert httpx.get(f"{live.base}{asset}").status_code == 200, asset

    held.release.set()
    wait_for(lambda: httpx.get(f"{live.base}/api/v1/health").status_code == 200)
    assert httpx.get(f"{live.base}/api/v1/health").json()["status"] == "ok"
    assert httpx.post(f"{live.base}/api/v1/sessions", json={}).status_code == 201
    page = httpx.get(f"{live.base}/")
    assert page.status_code == 200 and 'data-testid="preparing"' not in page.text


def test_a_failed_preparation_is_shown_not_an_endless_wait(live_factory, caplog):
    held = HeldWarmUp(failure=RuntimeError("the compiler crashed"))
    live = live_factory(engine_warm_up=held)
    held.release.set()

    def failed() -> bool:
        return httpx.get(f"{live.base}/api/v1/health").json().get("status") == "failed"

    wait_for(failed)
    health = httpx.get(f"{live.base}/api/v1/health")
    assert health.status_code == 503 and "retry-after" not in health.headers  # waiting will not help
    body = health.json()
    assert body["code"] == "engine_failed" and "the compiler crashed" in body["params"]["error"]
    page = httpx.get(f"{live.base}/")
    assert 'data-stage="failed"' in page.text and "the compiler crashed" in page.text
    assert "could not be prepared" in caplog.text and "the compiler crashed" in caplog.text


def test_a_warm_start_listens_only_once_ready(live_factory):
    live = live_factory()  # the real warm-up, on this machine's warm cache: it compiles nothing
    assert httpx.get(f"{live.base}/api/v1/health").status_code == 200
    assert 'data-testid="preparing"' not in httpx.get(f"{live.base}/").text


def test_open_opens_the_browser_as_soon_as_the_server_listens_during_a_first_start(live_factory, monkeypatch):
    opened: list[str] = []
    monkeypatch.setattr(cli.webbrowser, "open", opened.append)
    held = HeldWarmUp()
    live = live_factory(engine_warm_up=held, open_browser=True)
    wait_for(lambda: opened == [f"{live.base}/"])
    assert httpx.get(opened[0]).status_code == 503, "what it opens is the preparing page, not a refused connection"
    held.release.set()
