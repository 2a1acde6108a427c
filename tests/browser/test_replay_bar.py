"""Replay where the eye is (issue 23): an opened run's timeline sits by the transport controls, the
page says it is replaying, the counters show the replayed step, and one click or Escape leaves
the replay at the saved step."""

from __future__ import annotations

from typing import Any

from browser_helpers import api, screenshot, session_id, step_count
from playwright.sync_api import expect


def open_saved_run(page: Any, base: str, steps: int) -> dict:
    """Trains the page's session `steps` steps, saves it and opens the run from the list: the run.
    Its name says its steps: the server is shared, and a run another test saved under the same
    name would pass for it while the list has not shown the new one yet."""
    api(base, "POST", f"/api/v1/sessions/{session_id(page)}/step", {"steps": steps})
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", str(steps))
    name = f"before class, {steps} steps"
    page.get_by_test_id("run-name-input").fill(name)
    page.get_by_test_id("save-run-button").click()
    item = page.get_by_test_id("run-item").first
    expect(item.get_by_test_id("run-name")).to_have_text(name)
    run = api(base, "GET", f"/api/v1/runs/{item.get_attribute('data-run-id')}")
    item.get_by_test_id("run-open").click()
    expect(page.get_by_test_id("replay")).to_be_visible()
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]')
    return run


def test_the_replay_bar_sits_by_the_transport_and_the_counters_show_the_replayed_step(open_page):
    page, watch = open_page(chart=False, width=1366, height=768)
    run = open_saved_run(page, watch.base, 600)
    bar = page.get_by_test_id("replay")
    # by the transport, in the first screen, not down in the Saved runs panel
    top = page.locator(".topbar").bounding_box()
    box = bar.bounding_box()
    assert box is not None and top is not None
    assert box["y"] + box["height"] <= top["y"] + top["height"] and box["y"] < 768
    expect(page.get_by_test_id("replay-state")).to_be_hidden()  # at the saved step: not replaying yet

    scrubber = page.get_by_test_id("replay-scrubber")
    scrubber.focus()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    replayed = run["snapshots"][1]["step"]
    assert 0 < replayed < 600
    expect(scrubber).to_have_attribute("data-step", str(replayed))
    expect(page.get_by_test_id("replay-state")).to_be_visible()
    expect(page.get_by_test_id("replay-state")).to_have_text("Replaying")
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", str(replayed))
    expect(page.get_by_test_id("step-counter")).to_have_text(f"{replayed:,}")
    expect(page.locator("#epoch-counter")).to_have_text("–")  # a snapshot keeps no epoch
    assert page.locator("#speed-counter").inner_text() == "0"
    expect(page.get_by_test_id("play-button")).to_be_disabled()
    expect(page.get_by_test_id("replay-step")).to_contain_text(f"step {replayed:,} of 600")
    screenshot(page, "replay-bar")
    page.locator("#language-select").select_option("id")
    expect(page.get_by_test_id("replay-state")).to_have_text("Memutar ulang")
    screenshot(page, "replay-bar-id")
    page.locator("#language-select").select_option("en")

    page.get_by_test_id("replay-leave").click()  # one click out, at the saved step
    expect(bar).to_be_hidden()
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", "600")
    expect(page.get_by_test_id("play-button")).to_be_enabled()
    assert api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}/params")["layers"] == \
        run["snapshots"][-1]["layers"]
    watch.assert_clean()


def test_escape_leaves_the_replay_at_the_saved_step(open_page):
    page, watch = open_page(chart=False)
    run = open_saved_run(page, watch.base, 300)
    scrubber = page.get_by_test_id("replay-scrubber")
    scrubber.focus()
    page.keyboard.press("Home")
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", str(run["snapshots"][0]["step"]))
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("replay")).to_be_hidden()
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", "300")
    page.get_by_test_id("step-button").click()  # training carries on from the saved step
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '301'")
    assert step_count(page) == 301
    watch.assert_clean()
