"""Browser tests: a real server (`python -m backprop_lab`) on a free port for the whole session, and
the system Chromium driven by Playwright (never a downloaded browser).

Without /usr/bin/chromium the browser tests are skipped locally but fail when CI=true.
Screenshots go to test-output/screenshots/ (git-ignored). Helpers the tests share are in
browser_helpers.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# pytest runs with --import-mode=importlib, which adds no folder to sys.path: this one is added so
# the tests here can import their shared helpers, and tests/ for the helpers of every folder
sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
from browser_helpers import PLOTLY_STAND_IN, TEACHER_KEY, free_port, served, wait_connected  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _serve(folder: Path, *options: str) -> Iterator[str]:
    """`python -m backprop_lab` with `options` on a free port until the generator is closed: its base URL."""
    with served(folder, free_port(), *options) as base:
        yield base


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a live server started for this test session."""
    yield from _serve(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="session")
def classroom_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second live server, in classroom mode (a teacher, whose key is `TEACHER_KEY`, and students)."""
    yield from _serve(tmp_path_factory.mktemp("classroom"), "--classroom", "--teacher-key", TEACHER_KEY)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not for the whole session: Playwright's sync API keeps an
    asyncio loop running on this thread while it is open, which would break the asyncio tests
    that run after the browser tests."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (CI=true)")
        pytest.skip(f"{CHROMIUM} is missing (install Debian's chromium package)")
    from playwright.sync_api import expect, sync_playwright

    # `expect(...)` retries until the page shows the state asked for; this 2-core machine, shared
    # with other test runs, sometimes needs more than Playwright's default of 5 s
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()




@dataclass
class PageWatch:
    """What a page did that a test may forbid: console errors, page errors, outside requests."""

    base: str
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.console_errors == [], f"console errors: {self.console_errors}"
        assert self.outside_requests == [], f"requests outside the app: {self.outside_requests}"


def _is_inside(url: str, base: str) -> bool:
    if url.startswith(("data:", "blob:", "about:")):
        return True
    ws_base = base.replace("http://", "ws://")
    return url.startswith(base + "/") or url == base or url.startswith(ws_base + "/")


@pytest.fixture()
def open_page(browser: Any, server: str) -> Iterator[Any]:
    """`open_page(hash="", width=1280, height=720, reduced_motion=False, chart=True)` → (page,
    watch), the page loaded and connected to its session. Closed after the test.

    `chart=False` serves a stand-in for plotly.min.js (a few no-op functions): plotly.js takes
    ~2 s to evaluate on this 2-core machine, and tests about other parts of the page need not
    pay for it each time. Tests of the page as a whole and of the chart keep the real one."""
    contexts = []

    def _open(
        hash_: str = "",
        width: int = 1280,
        height: int = 720,
        reduced_motion: bool = False,
        storage: dict[str, str] | None = None,
        chart: bool = True,
    ) -> tuple[Any, PageWatch]:
        context = browser.new_context(
            viewport={"width": width, "height": height},
            reduced_motion="reduce" if reduced_motion else "no-preference",
            accept_downloads=True,
        )
        if storage:
            script = "".join(f"localStorage.setItem({json.dumps(k)}, {json.dumps(v)});" for k, v in storage.items())
            context.add_init_script(script)
        contexts.append(context)
        if not chart:
            context.route(
                "**/vendor/plotly.min.js",
                lambda route: route.fulfill(body=PLOTLY_STAND_IN, content_type="text/javascript"),
            )
        page = context.new_page()
        watch = PageWatch(server)
        page.on(
            "console", lambda message: watch.console_errors.append(message.text) if message.type == "error" else None
        )
        page.on("pageerror", lambda error: watch.console_errors.append(f"page error: {error}"))
        page.on(
            "request",
            lambda request: None if _is_inside(request.url, server) else watch.outside_requests.append(request.url),
        )
        page.on("websocket", lambda ws: None if _is_inside(ws.url, server) else watch.outside_requests.append(ws.url))
        page.goto(f"{server}/{hash_}")
        wait_connected(page)
        return page, watch

    yield _open
    for context in contexts:
        context.close()
