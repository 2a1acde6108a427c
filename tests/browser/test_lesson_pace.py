"""A lesson's pace and connection (issue 23): Play trains at a pace a class can watch, the chosen
pace survives a reload and a server restart, offline is a banner with the speed at zero, and a
restarted server's new session says what happened and waits for Play."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from browser_helpers import api, free_port, screenshot, served, session_id, step_count, wait_connected
from playwright.sync_api import expect

SPEED_COUNTER = "() => Number(document.getElementById('speed-counter').dataset.value)"


def default_pace(base: str) -> int:
    return int(api(base, "GET", "/api/v1/options")["ranges"]["steps_per_second"]["ui"]["default"])


def test_play_at_the_default_pace_draws_a_curve_over_the_first_seconds_not_a_spike(open_page):
    page, watch = open_page(chart=False)
    pace = default_pace(watch.base)
    expect(page.locator("#speed")).to_have_value(str(pace))
    expect(page.locator("#speed option:checked")).to_have_text(f"{pace} steps/s")
    expect(page.locator("#speed option[value='1']")).to_have_text("1 step/s")  # not "1 steps/s"
    expect(page.locator("#speed option").last).to_have_text("max")  # one choice away
    page.get_by_test_id("play-button").click()
    page.wait_for_timeout(3000)
    history = page.evaluate(
        "() => { const h = window.__backpropLab.store.history; return {steps: [...h.steps], train: [...h.train]}; }"
    )
    speed = page.evaluate(SPEED_COUNTER)
    page.get_by_test_id("play-button").click()
    steps, losses = history["steps"], history["train"]
    # three seconds at the pace is a few hundred steps, not tens of thousands
    assert pace * 1.5 <= steps[-1] <= pace * 4.5, steps[-1]
    assert 0.5 * pace <= speed <= 1.5 * pace, speed
    # the curve has many points spread over those steps: every fifth of the way has some
    assert len(steps) >= 30
    fifths = {min(4, 5 * step // (steps[-1] + 1)) for step in steps}
    assert fifths == {0, 1, 2, 3, 4}
    # the loss falls along the way, not all at once in the first point
    assert losses[-1] < losses[0]
    middle = losses[len(losses) // 2]
    assert losses[-1] < middle < losses[0]
    watch.assert_clean()


def test_the_chosen_pace_is_kept_across_a_reload_and_asked_of_the_server(open_page):
    page, watch = open_page(chart=False)
    page.locator("#speed").select_option("30")
    page.reload()
    wait_connected(page)
    expect(page.locator("#speed")).to_have_value("30")
    page.get_by_test_id("play-button").click()
    page.wait_for_timeout(2000)
    page.get_by_test_id("play-button").click()
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
    trained = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["step"]
    assert 20 <= trained <= 120, trained  # 30 steps/s for about two seconds: the server trains at the pace
    watch.assert_clean()


def test_offline_is_a_banner_with_the_speed_at_zero_and_the_same_session_plays_on_when_back(open_page):
    page, watch = open_page(chart=False)
    page.get_by_test_id("play-button").click()
    page.wait_for_function(f"() => ({SPEED_COUNTER})() > 0")
    sid = session_id(page)
    # the network goes: every REST call fails, and the socket drops
    page.route("**/api/v1/**", lambda route: route.abort())
    page.evaluate("() => window.__backpropLab.dropConnection()")
    banner = page.get_by_test_id("offline-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("does not answer")
    expect(page.locator("#speed-counter")).to_have_text("0")
    expect(page.get_by_test_id("play-button")).to_have_attribute("aria-pressed", "false")
    offline_at = step_count(page)
    page.wait_for_timeout(500)  # an absence takes a wait: no step counted while offline
    assert step_count(page) == offline_at
    page.unroute("**/api/v1/**")
    # back: the same session (which the server kept), playing on at the pace, and no notice
    expect(banner).to_be_hidden(timeout=20_000)
    page.wait_for_function(f"() => ({SPEED_COUNTER})() > 0")
    assert session_id(page) == sid
    expect(page.get_by_test_id("replaced-notice")).to_be_hidden()
    page.get_by_test_id("play-button").click()
    # the browser logs the requests the test failed, and nothing else
    assert all("ERR_FAILED" in error for error in watch.console_errors), watch.console_errors
    assert watch.outside_requests == []


def test_a_server_restart_shows_offline_then_says_what_happened_keeps_the_pace_and_does_not_play(
    browser: Any, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        with served(tmp_path, port):
            page.goto(f"{base}/")
            wait_connected(page)
            page.locator("#speed").select_option("30")
            page.get_by_test_id("play-button").click()
            page.wait_for_function(f"() => ({SPEED_COUNTER})() > 0")
            old_session = session_id(page)
        # the server is gone: a clear banner, and nothing claims to train
        banner = page.get_by_test_id("offline-banner")
        expect(banner).to_be_visible()
        expect(banner).to_contain_text(f"127.0.0.1:{port}")
        expect(page.get_by_test_id("connection-status")).to_have_attribute("data-status", "offline")
        page.wait_for_function(f"() => ({SPEED_COUNTER})() === 0")
        assert page.locator("#speed-counter").inner_text() == "0"
        expect(page.get_by_test_id("play-button")).to_be_disabled()
        screenshot(page, "lesson-offline")

        with served(tmp_path, port):
            notice = page.get_by_test_id("replaced-notice")
            expect(notice).to_be_visible(timeout=30_000)
            expect(notice).to_contain_text("no longer had this network")
            expect(notice).to_contain_text("30 steps/s")
            expect(banner).to_be_hidden()
            wait_connected(page)
            new_session = session_id(page)
            assert new_session != old_session
            expect(page.locator("#speed")).to_have_value("30")
            page.wait_for_timeout(1500)  # an absence takes a wait: nothing plays by itself
            assert page.evaluate("() => window.__backpropLab.store.state") != "running"
            expect(page.get_by_test_id("play-button")).to_have_attribute("aria-pressed", "false")
            assert api(base, "GET", f"/api/v1/sessions/{new_session}")["step"] == 0
            assert step_count(page) == 0
            screenshot(page, "lesson-restarted")
            # the server was asked for the pace kept: Play trains at 30 steps/s, and the notice goes
            page.get_by_test_id("play-button").click()
            expect(notice).to_be_hidden()
            page.wait_for_timeout(2000)
            page.get_by_test_id("play-button").click()
            page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
            trained = api(base, "GET", f"/api/v1/sessions/{new_session}")["step"]
            assert 20 <= trained <= 120, trained
        assert errors == []
    finally:
        context.close()
