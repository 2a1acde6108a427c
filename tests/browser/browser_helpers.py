"""Helpers shared by the browser tests: waiting for the page, reading it, the REST API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEACHER_KEY = "a-teacher-key-for-browser-tests"  # the `classroom_server` fixture's (conftest.py)
# plotly.min.js's stand-in for tests about other parts of the page (`open_page(chart=False)`)
PLOTLY_STAND_IN = (
    """window.Plotly = {newPlot() {}, react() {}, extendTraces() {}, relayout() {}, Plots: {resize() {}}};"""
)
SCREENSHOTS = ROOT / "test-output" / "screenshots"
# The server answers /api/v1/health once the engine's kernels are compiled or loaded from numba's
# cache: under a second when cached, 90 s here on a cold cache (a fresh clone) with the 2 cores
# shared. An early exit is still reported at once.
SERVER_START_SECONDS = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/api/v1/health", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextmanager
def served(folder: Path, port: int, *options: str) -> Iterator[str]:
    """`python -m backprop_lab` with `options` on `port` (its runs database and log in `folder`, the
    log appended to, so a server started again on the same folder keeps one log) until the block
    ends: its base URL once it answers /api/v1/health."""
    base = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with log.open("ab") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "backprop_lab", "--host", "127.0.0.1", "--port", str(port), "--db",
             str(folder / "runs.db"), *options],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while not _healthy(base):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer /api/v1/health within {SERVER_START_SECONDS} s:\n"
                                   f"{log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_connected(page: Any, timeout: float = 15_000) -> None:
    """Waits until the socket is open and the first snapshot drew the network."""
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]', timeout=timeout)
    page.wait_for_function("() => window.__backpropLab && window.__backpropLab.store.network !== null", timeout=timeout)
    page.wait_for_selector(".neuron-hit", timeout=timeout)


def drawn(page: Any) -> None:
    """Waits until the render loop has drawn what the store holds now.

    A change sets dirty flags and asks for an animation frame; the loop redraws in that frame.
    Two frames from now, every renderer has run on what was dirty when this was called (those
    with an interval run at once too while the page is not training)."""
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api(base: str, method: str, path: str, body: Any = None) -> Any:
    """A small REST client (urllib: no extra dependency)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def step_count(page: Any) -> int:
    return int(page.get_by_test_id("step-counter").get_attribute("data-value") or 0)


def session_id(page: Any) -> str:
    return str(page.evaluate("() => window.__backpropLab.store.sessionId"))
