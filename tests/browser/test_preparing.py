"""A first start seen in the browser: while the engine's kernels compile, the page says so in the
reader's language, with a progress bar that follows the compile, and turns into the lab by itself
when the engine is ready. The server runs in this process with its warm-up held by the test
(`Settings.engine_warm_up`), after reporting a first compile as a cold cache does."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import screenshot, wait_connected
from playwright.sync_api import expect

from backprop_lab.engine.warmup import COLD_START_KERNELS, Progress, warm_up
from backprop_lab.server.cli import build_server
from backprop_lab.server.settings import Settings

TOTAL = COLD_START_KERNELS


class HeldWarmUp:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.progress: Progress | None = None

    def __call__(self, progress: Progress) -> float:
        self.progress = progress
        progress(0, TOTAL, "training.train")
        assert self.release.wait(120), "the test never released the warm-up"
        return warm_up(progress)


@pytest.fixture()
def preparing_server() -> Iterator[tuple[str, HeldWarmUp]]:
    """A server in this process whose warm-up the test holds: (its base URL, the warm-up)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    held = HeldWarmUp()
    server = build_server(Settings(port=port, engine_warm_up=held))
    server.config.log_level = "warning"
    thread = threading.Thread(target=server.run, name="preparing-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start listening"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", held
    finally:
        held.release.set()
        server.should_exit = True
        thread.join(15)


def open_watched(browser: Any, url: str) -> tuple[Any, Any, list[str]]:
    """(context, page, its console errors): a CSP violation, a script error. The 503s of the
    preparing page and of health while preparing are what they should be, not errors."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "status of 503" not in message.text else None)
    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.goto(url)
    return context, page, errors


def test_the_preparing_page_follows_the_compile_and_turns_into_the_lab(browser, preparing_server):
    base, held = preparing_server
    context, page, errors = open_watched(browser, f"{base}/")
    try:
        bar = page.get_by_test_id("preparing-bar")
        expect(page.get_by_role("heading", name="Preparing the engine — first start only")).to_be_visible()
        expect(bar).to_be_visible()
        expect(bar).to_have_attribute("max", str(TOTAL))
        expect(page.get_by_test_id("preparing-estimate")).to_have_text("First time: no estimate yet.")

        assert held.progress is not None
        held.progress(20, TOTAL, "passes.layer_forward")  # the compile moves on; the page follows
        expect(bar).to_have_attribute("value", "20")
        expect(page.get_by_test_id("preparing-count")).to_have_text(f"20 of {TOTAL} kernels compiled")
        screenshot(page, "preparing-en")

        indonesian_context, indonesian, _ = open_watched(browser, f"{base}/#lang=id")
        expect(indonesian.get_by_role("heading", name="Menyiapkan mesin — hanya saat pertama kali dijalankan"))\
            .to_be_visible()
        expect(indonesian.get_by_test_id("preparing-count")).to_have_text(f"20 dari {TOTAL} kernel sudah dikompilasi")
        screenshot(indonesian, "preparing-id")
        indonesian_context.close()

        held.release.set()
        wait_connected(page, timeout=60_000)  # reloaded by itself into the lab, which connected its session
        assert page.url == f"{base}/" or page.url.startswith(f"{base}/#")
        assert errors == []
    finally:
        context.close()
