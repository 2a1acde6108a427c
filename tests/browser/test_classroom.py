"""The classroom in the browser: the presenter shares and sees the audience, a viewer watches
read-only and forks a copy of their own, and names from a student's CSV are shown as text."""

from __future__ import annotations

import time
from typing import Any

import httpx
from browser_helpers import api, drawn, session_id, wait_connected
from playwright.sync_api import expect

HOSTILE = "<img src=x onerror=window.__pwned=1>"


def store_step(page: Any) -> int:
    return int(page.evaluate("() => window.__backpropLab.store.step"))


def settled_step(presenter: Any, viewer: Any, seconds: float = 15.0) -> int:
    """The step both pages show once the paused session's last frame has reached both (the
    presenter's pause reply may come a frame before that frame)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        step = store_step(presenter)
        if store_step(viewer) == step:
            return step
        viewer.wait_for_timeout(50)
    raise AssertionError(f"the viewer stayed at step {store_step(viewer)}, the presenter at {store_step(presenter)}")


def test_a_viewer_watches_live_read_only_and_forks_a_copy_that_starts_where_the_presenter_was(open_page, server):
    presenter, watch = open_page(chart=False)
    presenter.get_by_test_id("share-button").click()
    code_text = presenter.get_by_test_id("share-code")
    expect(code_text).not_to_be_empty()
    spoken = code_text.inner_text()
    code = spoken.replace(" ", "")
    assert len(code) == 6
    expect(presenter.get_by_test_id("share-url")).to_have_text(f"{server}/watch/{code}")
    expect(presenter.get_by_test_id("viewer-count")).to_have_text("0 watching")

    viewer = presenter.context.new_page()
    viewer.goto(f"{server}/watch/{code.lower()}")
    wait_connected(viewer)
    expect(presenter.get_by_test_id("viewer-count")).to_have_text("1 watching")
    expect(viewer.get_by_test_id("watching")).to_contain_text(spoken)
    for hidden in ("play-button", "step-button", "reset-button", "learning-rate", "dataset"):
        expect(viewer.get_by_test_id(hidden)).to_be_hidden()
    assert viewer.evaluate("() => window.__backpropLab.store.sessionId") is None, "a viewer learnt the session id"

    presenter.get_by_test_id("play-button").click()
    viewer.wait_for_function("() => window.__backpropLab.store.step > 50")
    # the counter is drawn a frame after the store takes the step: wait for the pixels
    viewer.wait_for_function(
        "() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 0")
    presenter.get_by_test_id("play-button").click()  # pause
    presenter.wait_for_function("() => window.__backpropLab.store.state === 'paused'")
    paused_at = settled_step(presenter, viewer)

    viewer.get_by_test_id("fork-button").click()
    viewer.wait_for_url(lambda url: "/watch/" not in url and "session=" not in url)
    wait_connected(viewer)
    forked = session_id(viewer)
    assert forked != session_id(presenter)
    assert viewer.evaluate("() => document.body.dataset.role") == "presenter"
    assert store_step(viewer) == paused_at
    assert api(server, "GET", f"/api/v1/sessions/{forked}/params") == api(
        server, "GET", f"/api/v1/sessions/{session_id(presenter)}/params")
    viewer.get_by_test_id("step-button").click()  # the fork is the student's own: it trains
    viewer.wait_for_function(f"() => window.__backpropLab.store.step === {paused_at + 1}")
    assert store_step(presenter) == paused_at
    watch.assert_clean()


def test_names_from_a_csv_with_html_in_them_are_shown_as_text_on_the_viewer_s_page(open_page, server):
    rows = "".join(f"{i % 7},{(i * 3) % 5},{'<b>yes</b>' if i % 2 else 'no'}\n" for i in range(40))
    upload = httpx.post(f"{server}/api/v1/datasets",
                        files={"file": (f"{HOSTILE}.csv", f"<i>a</i>,b,label\n{rows}", "text/csv")})
    assert upload.status_code == 201, upload.text
    created = api(server, "POST", "/api/v1/sessions", {"dataset": upload.json()["id"]})
    code = api(server, "POST", f"/api/v1/sessions/{created['id']}/share")["code"]
    presenter, watch = open_page(chart=False)
    viewer = presenter.context.new_page()
    viewer.goto(f"{server}/watch/{code}")
    wait_connected(viewer)
    drawn(viewer)
    expect(viewer.get_by_test_id("watched-dataset")).to_have_text(f"{HOSTILE}.csv")
    assert viewer.evaluate("() => document.querySelectorAll('img, b, i').length") == 0, "a name became markup"
    assert viewer.evaluate("() => window.__pwned") is None
    watch.assert_clean()


def test_a_student_types_a_code_loosely_and_an_unknown_one_is_named(browser, server):
    code = api(server, "POST", f"/api/v1/sessions/{api(server, 'POST', '/api/v1/sessions', {})['id']}/share")["code"]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server}/watch")
        page.get_by_test_id("join-code").fill("xxx xxx")
        page.keyboard.press("Enter")
        page.wait_for_url("**/watch/XXXXXX")
        expect(page.locator("#join-unknown")).to_contain_text("XXXXXX")
        page.get_by_test_id("join-code").fill("nope")
        page.get_by_test_id("join-button").click()
        expect(page.locator("#join-problem")).to_contain_text("six")
        page.get_by_test_id("join-code").fill(f"{code[:3].lower()}-{code[3:]}")
        page.get_by_test_id("join-button").click()
        page.wait_for_url(f"**/watch/{code}")
        wait_connected(page)
    finally:
        context.close()


def test_a_viewer_hears_when_the_shared_session_has_ended(open_page, server):
    sid = api(server, "POST", "/api/v1/sessions", {})["id"]
    code = api(server, "POST", f"/api/v1/sessions/{sid}/share")["code"]
    presenter, _ = open_page(chart=False)
    viewer = presenter.context.new_page()
    viewer.goto(f"{server}/watch/{code}")
    wait_connected(viewer)
    httpx.delete(f"{server}/api/v1/sessions/{sid}")
    expect(viewer.locator("#toasts")).to_contain_text("The shared session has ended")
    expect(viewer.get_by_test_id("connection-status")).to_have_attribute("data-status", "offline")


def test_projector_mode_is_toggled_from_the_page_or_the_keyboard_and_kept_in_the_url(open_page, server):
    page, watch = open_page(chart=False)
    root_size = "() => parseFloat(getComputedStyle(document.documentElement).fontSize)"
    normal = page.evaluate(root_size)
    toggle = page.get_by_test_id("projector-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("() => window.location.hash.includes('projector=1')")
    assert page.evaluate(root_size) > normal * 1.2, "projector mode's type is not larger"
    expect(page.locator("#regularization")).to_be_hidden()  # only the controls a presenter needs
    expect(page.get_by_test_id("learning-rate")).to_be_visible()
    page.reload()
    wait_connected(page)
    expect(page.get_by_test_id("projector-toggle")).to_have_attribute("aria-pressed", "true")
    page.locator("body").press("p")
    expect(page.get_by_test_id("projector-toggle")).to_have_attribute("aria-pressed", "false")
    page.wait_for_function("() => !window.location.hash.includes('projector')")
    assert page.evaluate(root_size) == normal
    watch.assert_clean()
