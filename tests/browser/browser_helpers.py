"""Helpers shared by the browser tests: waiting for the page, reading it, the REST API."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEACHER_KEY = "a-teacher-key-for-browser-tests"  # the `classroom_server` fixture's (conftest.py)
# plotly.min.js's stand-in for tests about other parts of the page (`open_page(chart=False)`)
PLOTLY_STAND_IN = (
    """window.Plotly = {newPlot() {}, react() {}, extendTraces() {}, relayout() {}, Plots: {resize() {}}};"""
)
SCREENSHOTS = ROOT / "test-output" / "screenshots"


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
