"""Keyboard only: Space plays and pauses, S steps, → walks a phase, R resets; the shortcuts keep
out of the way while typing; every control is reachable with Tab and shows its focus."""

from __future__ import annotations

from browser_helpers import api, screenshot, session_id, step_count
from playwright.sync_api import expect


def test_start_pause_step_phase_and_reset_from_the_keyboard(open_page):
    page, watch = open_page(chart=False)
    page.locator("body").focus()
    page.keyboard.press("Space")
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="true"]')
    page.wait_for_function("() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 20")
    page.keyboard.press("Space")
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
    # paused: the server's step is final; wait until the page shows it before stepping once more
    before = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["step"]
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", str(before))
    page.keyboard.press("s")
    page.wait_for_function(f"() => document.querySelector('[data-testid=step-counter]').dataset.value == {before + 1}")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('#phase-track li.current[data-index="0"]')
    page.keyboard.press("ArrowRight")
    page.wait_for_selector('#phase-track li.current[data-index="1"]')
    page.keyboard.press("r")
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '0'")
    expect(page.locator("#phase-track li.current")).to_have_count(0)
    watch.assert_clean()


def test_shortcuts_do_nothing_while_typing_in_a_field(open_page):
    page, _ = open_page(chart=False)
    field = page.get_by_test_id("learning-rate")
    field.focus()
    field.press("s")
    field.press("r")
    field.press("Space")
    page.wait_for_timeout(300)  # an absence takes a wait: no shortcut may fire
    assert step_count(page) == 0
    assert page.get_by_test_id("play-button").get_attribute("aria-pressed") == "false"


def test_tab_reaches_the_controls_and_the_neurons_with_a_visible_focus(open_page):
    page, _ = open_page(chart=False)
    reached = set()
    for _ in range(80):
        page.keyboard.press("Tab")
        test_id = page.evaluate(
            "() => document.activeElement && (document.activeElement.dataset.testid || document.activeElement.id)"
        )
        reached.add(test_id)
        if test_id == "play-button":
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", "no visible focus on the play button"
    for wanted in [
        "play-button",
        "step-button",
        "phase-step-button",
        "reset-button",
        "learning-rate",
        "batch-size",
        "activation",
        "dataset",
        "language-select",
        "gradient-check-button",
    ]:
        assert wanted in reached, wanted
    # the neurons: one tab stop, arrows move between them, Enter opens the inspector
    neuron = page.locator(".neuron-hit[tabindex='0']")
    neuron.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="z"]')
    focused = page.evaluate("() => [document.activeElement.dataset.column, document.activeElement.dataset.index]")
    assert focused == ["1", "1"]
    screenshot(page, "09-keyboard-inspector")
