"""The learning-rate lab from the page: a race started from the keyboard streams every copy and
marks the diverged one, the U-curve's arrow follows the learning rate, and the range test's
"apply" sets the session's rate."""

from __future__ import annotations

from browser_helpers import api, screenshot, session_id

PLANE = "#dataset=plane&hidden_layers=6,4&activation=relu&learning_rate=0.03"


def test_a_race_runs_from_the_page_and_marks_the_diverged_copy(open_page):
    page, watch = open_page(PLANE)
    lab = page.get_by_test_id("lr-lab-view")
    lab.scroll_into_view_if_needed()
    rates = page.get_by_test_id("lr-race-rates")
    rates.fill("0.0001 0.03 50")
    page.get_by_test_id("lr-race-steps").fill("400")
    rates.focus()
    rates.press("Enter")  # keyboard: Enter in the rates starts the race
    page.wait_for_selector('#lr-race-copies[data-status="finished"]', timeout=30_000)
    copies = page.locator("#lr-race-copies li[data-rate]")
    assert copies.count() == 3
    diverged = page.locator("#lr-race-copies li.diverged")
    assert diverged.count() == 1 and diverged.get_attribute("data-rate") == "50"
    assert int(diverged.get_attribute("data-diverged-at")) > 0
    assert page.locator("#lr-race-copies canvas.lr-thumb").count() == 3
    assert page.locator("#lr-race-chart .scatterlayer .trace").count() == 3
    assert "diverged" in page.locator("#lr-race-chart").inner_text()
    assert api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["step"] == 0, "the session is untouched"
    screenshot(page, "lr-race")
    watch.assert_clean()


def test_the_u_curve_arrow_moves_when_the_learning_rate_changes(open_page):
    page, watch = open_page(PLANE, chart=True)
    page.wait_for_selector("#lr-line-chart[data-current-rate='0.03']", timeout=20_000)
    arrow = page.locator("#lr-line-chart .annotation-arrow-g path").first
    before = arrow.get_attribute("d")
    rate = page.get_by_test_id("learning-rate")
    rate.fill("3")
    rate.press("Enter")
    page.wait_for_selector("#lr-line-chart[data-current-rate='3']", timeout=20_000)
    page.wait_for_function("(d) => document.querySelector('#lr-line-chart .annotation-arrow-g path')"
                           "?.getAttribute('d') !== d", arg=before)
    assert page.locator("#lr-line-chart").get_attribute("data-overshoots") == "true"
    assert "lands" in page.get_by_test_id("lr-line-summary").inner_text()
    watch.assert_clean()


def test_the_u_curve_reaches_past_its_bottom_when_the_rate_is_far_too_small(open_page):
    page, watch = open_page("#dataset=gaussian&learning_rate=0.001", chart=False)
    page.wait_for_selector("#lr-line-chart[data-max-rate]", timeout=20_000)
    chart = page.locator("#lr-line-chart")
    assert float(chart.get_attribute("data-max-rate")) > 4 * 0.001, "the line went on to find the bottom"
    assert chart.get_attribute("data-overshoots") == "false"
    watch.assert_clean()


def test_the_u_curve_follows_the_weights_when_a_step_is_taken(open_page):
    page, watch = open_page(PLANE, chart=True)
    chart = page.locator("#lr-line-chart")
    page.wait_for_selector("#lr-line-chart[data-current-loss]", timeout=20_000)
    before = chart.get_attribute("data-current-loss")
    page.get_by_test_id("step-button").click()
    page.wait_for_function("(loss) => document.querySelector('#lr-line-chart').dataset.currentLoss !== loss",
                           arg=before)
    sid = session_id(page)
    line = api(watch.base, "POST", f"/api/v1/sessions/{sid}/loss-line", {"points": 101, "max_rate_multiple": 4})
    assert float(chart.get_attribute("data-current-loss")) == line["current_loss"]
    watch.assert_clean()


def test_the_range_test_suggests_a_rate_and_apply_sets_it(open_page):
    page, watch = open_page("#dataset=gaussian", chart=False)
    apply = page.get_by_test_id("lr-range-apply")
    assert apply.is_disabled()
    page.get_by_test_id("lr-range-run").click()
    page.wait_for_selector("#lr-range-chart[data-suggested-rate]", timeout=30_000)
    suggested = float(page.locator("#lr-range-chart").get_attribute("data-suggested-rate"))
    assert 1e-4 <= suggested <= 10
    assert "Suggested learning rate" in page.get_by_test_id("lr-range-suggestion").inner_text()
    apply.focus()
    apply.press("Enter")
    page.wait_for_function(
        "(rate) => Math.abs(window.__backpropLab.store.config.learning_rate - rate) <= 0.01 * rate", arg=suggested)
    config = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["config"]
    assert abs(config["learning_rate"] - suggested) <= 0.01 * suggested
    watch.assert_clean()
