"""A worker's death seen from a student's page (docs/reliability.md, "A worker's death"): two real
workers behind a real HAProxy sharing a real Redis; the page plays, its worker is killed
(SIGKILL), and the page, reconnecting at the same address, says the server moved its network and
from which step, and keeps training."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from playwright.sync_api import expect

sys.path.insert(0, str(Path(__file__).parents[1] / "cluster"))
from cluster_helpers import Worker, start_worker  # noqa: E402

from backprop_lab.server.cluster import proxy  # noqa: E402
from backprop_lab.server.cluster.checkpoints import checkpoint_key  # noqa: E402
from backprop_lab.server.cluster.services import Service, free_port, start_haproxy, start_redis  # noqa: E402

MOVED = {"en": "The server moved your network; it continues from step {step}."}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, list[Worker], str]]:
    """The proxy's address, the two workers behind it, and their Redis."""
    shared = start_redis()
    port = free_port()
    workers: list[Worker] = []
    haproxy: Service | None = None
    try:
        for name in ("w1", "w2"):
            workers.append(start_worker(name, free_port(), shared.url, str(tmp_path / "runs.sqlite3"),
                                        extra_args=("--public-url", f"http://127.0.0.1:{port}/")))
        haproxy = start_haproxy(proxy.config([proxy.Worker(w.name, "127.0.0.1", w.port) for w in workers],
                                             f"127.0.0.1:{port}", 1000), port, tmp_path / "haproxy")
        deadline = time.monotonic() + 30
        for worker in workers:  # each worker's own backend has it up
            while httpx.get(f"{haproxy.url}/api/v1/sessions/{worker.name}.unknown", timeout=5).status_code != 404:
                assert time.monotonic() < deadline, f"HAProxy sees {worker.name} up"
                time.sleep(0.1)
        yield haproxy.url, workers, shared.url
    finally:
        if haproxy is not None:
            haproxy.stop()
        for worker in workers:
            worker.stop()
        shared.stop()


def test_the_page_says_its_network_moved_and_keeps_training_after_its_worker_dies(
        browser: Any, cluster: tuple[str, list[Worker], str]) -> None:
    base, workers, redis_url = cluster
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{base}/")
        page.wait_for_selector('[data-testid="connection-status"][data-status="open"]', timeout=30_000)
        page.get_by_test_id("play-button").click()
        page.wait_for_function("() => window.__backpropLab.store.step > 0")
        session_id = page.evaluate("() => window.__backpropLab.store.sessionId")
        holder = next(worker for worker in workers if session_id.startswith(f"{worker.name}."))
        checkpoints = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 30
        while int(checkpoints.hget(checkpoint_key(session_id), "step") or 0) == 0:  # one written while it plays
            assert time.monotonic() < deadline, "no checkpoint past step 0 within 30 s"
            time.sleep(0.05)
        holder.kill()

        notice = page.get_by_test_id("replaced-notice")
        expect(notice).to_be_visible(timeout=60_000)
        moved = page.evaluate("() => window.__backpropLab.store.connectionNotice.step")
        assert moved > 0
        expect(notice).to_contain_text(MOVED["en"].format(step=f"{moved:,}"))
        assert page.evaluate("() => window.__backpropLab.store.sessionId") == session_id
        page.wait_for_function(f"() => window.__backpropLab.store.step > {moved}", timeout=30_000)
        expect(page.get_by_test_id("play-button")).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()
