"""The lab's pages work under its Content-Security-Policy (server/web/headers.py) without a single
violation: the lab training with its charts and loss surface, a shared session's viewer page,
and the API explorer on /docs. And another site cannot frame the lab."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from browser_helpers import api, step_count, wait_connected

# Added to every document before its own scripts run: each violation the browser reports.
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => window.__cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || 'inline'} (${event.sourceFile}:${event.lineNumber})`));
"""


@dataclass
class Visit:
    page: Any
    console_errors: list[str] = field(default_factory=list)

    def assert_no_violation(self) -> None:
        assert self.page.evaluate("() => window.__cspViolations") == []
        assert self.console_errors == [], f"console errors: {self.console_errors}"


@pytest.fixture
def visit(browser: Any, server: str) -> Iterator[Callable[[str], Visit]]:
    """`visit(path)`: a fresh browser context on `server + path`, collecting violations."""
    contexts = []

    def _visit(path: str) -> Visit:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        context.add_init_script(COLLECT_VIOLATIONS)
        page = context.new_page()
        seen = Visit(page)
        page.on(
            "console", lambda message: seen.console_errors.append(message.text) if message.type == "error" else None
        )
        page.on("pageerror", lambda error: seen.console_errors.append(f"page error: {error}"))
        page.goto(f"{server}{path}")
        return seen

    yield _visit
    for context in contexts:
        context.close()


def test_the_lab_trains_and_draws_its_charts_without_a_violation(visit):
    lab = visit("/")
    page = lab.page
    wait_connected(page)
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 0")
    page.wait_for_selector("#loss-chart .main-svg")  # Plotly drew the loss chart
    page.get_by_test_id("play-button").click()
    # the loss surface: Plotly's contours with their colour bar (style="" on its rectangles)
    page.get_by_test_id("loss-surface-view").scroll_into_view_if_needed()
    page.wait_for_selector("#surface-plot .contourlayer path", timeout=60_000)
    page.wait_for_selector("#surface-plot .colorbar rect")
    # Plotly's own rules went into the page's sheet (static/css/plotly.css), not an inline <style>
    rules = page.evaluate("() => document.getElementById('plotly.js-style-global').sheet.cssRules.length")
    assert rules > 10 and page.locator("style").count() == 0
    lab.assert_no_violation()


def test_a_shared_sessions_viewer_page_follows_it_without_a_violation(visit, server):
    session = api(server, "POST", "/api/v1/sessions", {})["id"]
    code = api(server, "POST", f"/api/v1/sessions/{session}/share")["code"]
    viewer = visit(f"/watch/{code}")
    wait_connected(viewer.page)
    assert step_count(viewer.page) == 0
    api(server, "POST", f"/api/v1/sessions/{session}/step", {"steps": 25})
    viewer.page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '25'")
    viewer.page.wait_for_selector("#loss-chart .main-svg")
    viewer.assert_no_violation()


def test_the_api_explorer_lists_the_operations_without_a_violation(visit):
    docs = visit("/docs")
    page = docs.page
    page.wait_for_function("() => document.querySelectorAll('.opblock').length > 10")
    page.locator(".opblock-summary", has_text="/api/v1/health").first.click()
    page.wait_for_selector(".opblock.is-open .opblock-body")  # an operation opens with its details
    docs.assert_no_violation()


def test_another_site_cannot_frame_the_lab(browser, server):
    """frame-ancestors 'none' (and X-Frame-Options for older browsers): no clickjacking."""
    context = browser.new_context()
    try:
        other_site = "http://127.0.0.2:9"  # another origin, its pages answered here, never on the network
        pages = {
            "/frames-the-lab": f'<iframe id="framed" src="{server}/"></iframe>',
            "/frames-its-own": f'<iframe id="framed" src="{other_site}/own"></iframe>',
            "/own": "a page without the lab's headers",
        }
        context.route(
            f"{other_site}/*",
            lambda route: route.fulfill(
                body=pages[route.request.url.removeprefix(other_site)], content_type="text/html"
            ),
        )
        page = context.new_page()
        page.goto(f"{other_site}/frames-its-own")  # framing works there, for a page that allows it
        assert page.locator("#framed").element_handle().content_frame().url == f"{other_site}/own"
        page.goto(f"{other_site}/frames-the-lab")
        framed = page.locator("#framed").element_handle().content_frame()
        assert not framed.url.startswith(server), "the lab's page loaded inside another site's frame"
        assert framed.locator("[data-testid=play-button]").count() == 0
    finally:
        context.close()
