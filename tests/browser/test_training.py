"""Live training from the page: play trains and the loss falls, pause stops, a step adds exactly
one, a hyperparameter changed while playing takes effect without a reset, and a diverging
network says why."""

from __future__ import annotations

from browser_helpers import api, screenshot, session_id, step_count
from playwright.sync_api import expect


def test_play_raises_the_step_counter_and_lowers_the_training_loss_then_pause_stops_it(open_page):
    page, watch = open_page()
    first_loss = float(page.get_by_test_id("train-loss").inner_text())
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 300")
    assert page.get_by_test_id("play-button").get_attribute("aria-pressed") == "true"
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-testid=train-loss]').textContent) < {first_loss} * 0.8",
        timeout=15_000,
    )
    screenshot(page, "03-training")
    page.get_by_test_id("play-button").click()
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
    # paused: the server's step is final, and the frame sent after the pause brings it to the page
    paused_at = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["step"]
    expect(page.get_by_test_id("step-counter")).to_have_attribute("data-value", str(paused_at))
    page.wait_for_timeout(700)  # an absence takes a wait: nothing may move while paused
    assert step_count(page) == paused_at
    assert api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["step"] == paused_at
    # the loss chart drew both curves
    assert page.locator("#loss-chart .scatterlayer .trace").count() == 2
    watch.assert_clean()


def test_the_step_button_adds_exactly_one_step(open_page):
    page, _ = open_page(chart=False)
    assert step_count(page) == 0
    page.get_by_test_id("step-button").click()
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '1'")
    page.get_by_test_id("step-button").click()
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '2'")
    page.wait_for_timeout(400)  # an absence takes a wait: no third step follows
    assert step_count(page) == 2


def test_changing_the_learning_rate_while_playing_takes_effect_without_a_reset(open_page):
    page, watch = open_page(chart=False)
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 100")
    before = step_count(page)
    field = page.get_by_test_id("learning-rate")
    field.fill("0.3")
    field.press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.config.learning_rate === 0.3")
    page.wait_for_function(
        f"() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > {before} + 100"
    )
    session = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")
    assert session["config"]["learning_rate"] == 0.3
    assert session["step"] > before, "the change re-initialised the network"
    assert page.get_by_test_id("play-button").get_attribute("aria-pressed") == "true"
    assert "learning_rate=0.3" in page.url
    page.get_by_test_id("play-button").click()


def test_a_learning_rate_far_too_high_stops_training_with_a_message_that_explains_itself(open_page):
    page, _ = open_page("#dataset=plane&activation=relu&hidden_layers=8,8&learning_rate=1000&loss=mse", chart=False)
    page.get_by_test_id("play-button").click()
    banner = page.locator("#divergence-banner")
    banner.wait_for(state="visible", timeout=15_000)
    text = banner.inner_text()
    assert "learning rate (1000) is too high" in text
    diverged_at = page.evaluate("() => window.__backpropLab.store.diverged.step")
    assert f"step {diverged_at}" in text
    expect(page.get_by_test_id("play-button")).to_have_attribute("aria-pressed", "false")
    screenshot(page, "04-diverged")
    # nothing on the page reads NaN
    assert "NaN" not in page.locator("body").inner_text()
