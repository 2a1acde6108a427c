"""Numbers a class can trust (issue 23): every gradient in the inspector says what it is of, and
its finite-difference check compares like with like, each scope beside backprop's derivative of
the same function; plain decimals, in both languages."""

from __future__ import annotations

import math
import re

import pytest
from browser_helpers import SCREENSHOTS, api, session_id
from playwright.sync_api import expect

INSPECTOR = '[data-testid="neuron-inspector"]'


def shown(page, name: str) -> float:
    return float(page.locator(f'{INSPECTOR} [data-name="{name}"]').first.get_attribute("data-value"))


def open_edge_after_training(page, base: str) -> None:
    """30 steps trained by REST, training sample 7 probed, the edge from hidden 2's neuron 2 to
    output 1 opened from the output neuron's list of incoming weights."""
    api(base, "POST", f"/api/v1/sessions/{session_id(page)}/step", {"steps": 30})
    page.wait_for_function("() => window.__backpropLab.store.step === 30")
    field = page.locator("#sample-index")
    field.fill("7")
    field.press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.probe.index === 7")
    page.locator('.neuron-hit[data-column="3"][data-index="0"]').click()
    page.locator(f"{INSPECTOR} .edge-list button").nth(1).click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="weight-gradient"]')
    page.get_by_test_id("parameter-check-button").click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="check-error-sample"]')


def test_each_gradient_names_its_scope_and_the_check_compares_like_with_like(open_page):
    page, watch = open_page(width=1366, height=768, reduced_motion=True, chart=False)
    open_edge_after_training(page, watch.base)
    base = watch.base
    sid = session_id(page)
    trace = api(base, "GET", f"/api/v1/sessions/{sid}/trace?split=train&index=7")
    whole = api(base, "GET", f"/api/v1/sessions/{sid}/gradients")
    sample_gradient = trace["layers"][2]["weight_gradients"][1][0]
    whole_gradient = whole["layers"][2]["weights"][1][0]

    # the chain rule's ∂L/∂w is this sample's, and says so
    edge = page.locator(f'{INSPECTOR} [data-name="weight-gradient"]')
    expect(edge).to_have_attribute("data-scope", "sample")
    assert shown(page, "weight-gradient") == sample_gradient
    assert "this sample: training sample 7" in page.locator(f"{INSPECTOR} .eq-block").first.inner_text()
    # the last update's gradient is the last batch's objective
    expect(page.locator(f'{INSPECTOR} [data-name="batch-gradient"]')).to_have_attribute("data-scope", "batch")
    assert "the last batch, batch size 10" in page.locator(f"{INSPECTOR} .eq-lines").inner_text()

    # the check: one row per scope, backprop beside the central difference of the same function
    table = page.get_by_test_id("parameter-check-table")
    rows = table.locator("tr[data-scope]")
    expect(rows).to_have_count(2)
    assert "this sample" in rows.nth(0).inner_text()
    assert "the whole training set, 250 samples" in rows.nth(1).inner_text()
    assert math.isclose(shown(page, "check-backprop-sample"), sample_gradient, rel_tol=1e-9)
    assert math.isclose(shown(page, "check-numerical-sample"), sample_gradient, rel_tol=1e-6)
    assert math.isclose(shown(page, "check-backprop"), whole_gradient, rel_tol=1e-9)
    assert math.isclose(shown(page, "check-numerical"), whole_gradient, rel_tol=1e-6)
    assert shown(page, "check-error") < 1e-6 and shown(page, "check-error-sample") < 1e-6
    # plain decimals in what a class reads: no exponent in the gradients' columns
    for cell in table.locator("td:nth-child(2), td:nth-child(3)").all_text_contents():
        assert "e" not in cell, cell
    page.locator(INSPECTOR).scroll_into_view_if_needed()
    page.locator(INSPECTOR).screenshot(path=str(SCREENSHOTS / "lesson-numbers-inspector-en.png"))

    # a hidden neuron: its bias's gradients, each with its scope, and its check at both scopes
    page.locator('.neuron-hit[data-column="1"][data-index="1"]').click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="bias-gradient"]')
    expect(page.locator(f'{INSPECTOR} [data-name="bias-gradient"]')).to_have_attribute("data-scope", "sample")
    assert shown(page, "bias-gradient") == trace["layers"][0]["bias_gradients"][1]
    expect(page.locator(f'{INSPECTOR} [data-name="batch-gradient"]')).to_have_attribute("data-scope", "batch")
    page.get_by_test_id("parameter-check-button").click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="check-error-sample"]')
    assert math.isclose(shown(page, "check-backprop-sample"), trace["layers"][0]["bias_gradients"][1], rel_tol=1e-9)
    assert math.isclose(shown(page, "check-backprop"), whole["layers"][0]["biases"][1], rel_tol=1e-9)
    page.locator(INSPECTOR).screenshot(path=str(SCREENSHOTS / "lesson-numbers-neuron-en.png"))
    watch.assert_clean()


def test_the_scopes_read_in_indonesian_with_decimal_commas(open_page):
    page, watch = open_page("#lang=id", width=1024, height=768, reduced_motion=True, chart=False)
    open_edge_after_training(page, watch.base)
    text = page.get_by_test_id("parameter-check-table").inner_text()
    assert "sampel ini: sampel pelatihan nomor 7" in text and "seluruh data pelatihan, 250 sampel" in text
    assert "," in page.locator(f'{INSPECTOR} [data-name="check-backprop"]').inner_text()
    page.locator(INSPECTOR).screenshot(path=str(SCREENSHOTS / "lesson-numbers-inspector-id.png"))
    watch.assert_clean()


# --- the loss surface never lies --------------------------------------------------------------

PLOT = "#surface-plot"


def wait_surface(page, after: int = 0) -> int:
    page.wait_for_function(f"() => Number(document.querySelector('{PLOT}').dataset.surfaceId || 0) > {after}",
                           timeout=60_000)
    return int(page.locator(PLOT).get_attribute("data-surface-id"))


WORDS = {
    "en": {"fallback": "two random directions until then",
           "left": "The network has left this slice: at step 1,500 its real training loss is"},
    "id": {"fallback": "sementara itu, dua arah acak",
           "left": "Jaringan sudah meninggalkan irisan ini: pada langkah 1.500 kerugian pelatihan yang sebenarnya"},
}


@pytest.mark.parametrize(("lang", "width"), [("en", 1366), ("id", 1024)])
def test_the_surface_says_when_the_network_has_left_it_and_its_path_extends_live(open_page, lang, width):
    page, watch = open_page(f"#lang={lang}", width=width, height=768)
    words = WORDS[lang]
    base, sid = watch.base, session_id(page)
    page.get_by_test_id("loss-surface-view").scroll_into_view_if_needed()
    first = wait_surface(page)
    # a fresh network has no trajectory: PCA (the default) stands in with random directions, and says so
    assert page.evaluate("() => window.__backpropLab.store.surface.settings.directions") == "pca"
    assert page.evaluate("() => window.__backpropLab.store.surface.result.kind") == "random"
    expect(page.get_by_test_id("surface-status")).to_contain_text(words["fallback"])
    drift = page.get_by_test_id("surface-drift")
    expect(drift).to_be_hidden()

    # trained on while the page stands still: the real loss falls, the slice under the dot does not
    api(base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 1500})
    expect(drift).to_be_visible()
    expect(drift).to_contain_text(words["left"])
    real = api(base, "GET", f"/api/v1/sessions/{sid}")["metrics"]["train_loss"]
    shown_real = f"{real:.4f}" if lang == "en" else f"{real:.4f}".replace(".", ",")
    assert shown_real in drift.inner_text()
    page.get_by_test_id("surface-drift").scroll_into_view_if_needed()
    page.get_by_test_id("loss-surface-view").screenshot(path=str(SCREENSHOTS / f"lesson-surface-drift-{lang}.png"))

    # re-centred: a PCA slice through the current weights, and the notice is gone
    page.get_by_test_id("surface-recentre").click()
    second = wait_surface(page, first)
    assert page.evaluate("() => window.__backpropLab.store.surface.result.kind") == "pca"
    expect(drift).to_be_hidden()
    centre = page.evaluate("() => window.__backpropLab.store.surface.result.center_loss")
    assert abs(centre - real) < 1e-12

    # the walk since the slice extends with every frame, drawn from the slice's centre (a request
    # sends its last frame, and one more while it trains whenever a frame falls due meanwhile)
    points = "() => Number(document.querySelector('[data-testid=surface-walk]').dataset.points || 0)"
    for chunk in range(3):
        before = page.evaluate(points)
        api(base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 20})
        page.wait_for_function(f"() => window.__backpropLab.store.step === {1520 + 20 * chunk}")
        page.wait_for_function(f"() => ({points})() > {before}")
    assert page.evaluate(points) >= 4  # the centre and at least one point per request
    assert int(page.locator(PLOT).get_attribute("data-surface-id")) == second, "no new slice was needed"
    expect(drift).to_be_hidden()  # 60 steps along the PCA slice: it still holds the network
    page.get_by_test_id("loss-surface-view").screenshot(path=str(SCREENSHOTS / f"lesson-surface-walk-{lang}.png"))
    watch.assert_clean()


# --- a learning rate that blows the loss up or stops the neurons is explained ----------------


def test_a_huge_rate_on_the_classifier_is_explained_and_a_sane_one_is_not(open_page):
    page, watch = open_page(width=1366, height=768, chart=False)
    base, sid = watch.base, session_id(page)
    notice = page.get_by_test_id("rate-notice")
    api(base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 300})
    page.wait_for_function("() => window.__backpropLab.store.step === 300")
    expect(notice).to_be_hidden()  # η = 0.03: nothing to explain

    api(base, "PATCH", f"/api/v1/sessions/{sid}/config", {"learning_rate": 1000})
    api(base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 300})
    page.wait_for_function("() => window.__backpropLab.store.step === 600")
    expect(notice).to_be_visible()
    expect(notice).to_have_attribute("data-kinds", "blown saturated")
    loss = api(base, "GET", f"/api/v1/sessions/{sid}")["metrics"]["train_loss"]
    assert loss > 100 and page.evaluate("() => window.__backpropLab.store.state") != "diverged"
    text = notice.inner_text()
    assert "far above" in text and "at a learning rate of 1,000" in text
    stopped = re.search(r"(\d) of 6 hidden neurons are saturated", text)
    assert stopped and int(stopped.group(1)) >= 3, text
    page.locator(".notices").screenshot(path=str(SCREENSHOTS / "lesson-rate-notice-en.png"))

    page.get_by_test_id("language-select").select_option("id")
    expect(notice).to_contain_text(f"{stopped.group(1)} dari 6 neuron tersembunyi jenuh")
    expect(notice).to_contain_text("jauh di atas")
    page.locator(".notices").screenshot(path=str(SCREENSHOTS / "lesson-rate-notice-id.png"))
    watch.assert_clean()


def test_dead_relus_at_a_huge_rate_are_explained_too(open_page):
    page, watch = open_page(chart=False)
    base, sid = watch.base, session_id(page)
    api(base, "PATCH", f"/api/v1/sessions/{sid}/config", {"activation": "relu", "learning_rate": 1000})
    page.wait_for_function("() => window.__backpropLab.store.config.activation === 'relu'")
    api(base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 300})
    page.wait_for_function("() => window.__backpropLab.store.step === 300")
    notice = page.get_by_test_id("rate-notice")
    expect(notice).to_be_visible()
    assert notice.get_attribute("data-kinds").startswith("blown")
    watch.assert_clean()


# --- the lab's charts keep what matters on them -------------------------------------------------


def tick_labels(page, selector: str) -> list[str]:
    return page.locator(selector).all_text_contents()


def test_the_u_curve_shows_the_current_rate_and_its_minimum_on_readable_log_ticks(open_page):
    page, watch = open_page(width=1366, height=768)
    page.get_by_test_id("lr-lab-view").scroll_into_view_if_needed()
    chart = page.locator("#lr-line-chart")
    page.wait_for_selector("#lr-line-chart[data-best-on-chart]", timeout=30_000)
    # step 0 of the default classifier: a plateau, the bottom of the U ~100 × the rate away
    assert chart.get_attribute("data-best-on-chart") == "true"
    assert chart.get_attribute("data-axis") == "log"
    labels = tick_labels(page, "#lr-line-chart .xtick text")
    readable = {f"{m * 10.0**k:g}" for m in (1, 2, 5) for k in range(-3, 4)}
    assert len(labels) >= 4 and set(labels) <= readable and "0.1" in labels and "1" in labels, labels
    # the arrow of the current rate (0.03) is inside the plot, left of the minimum
    arrow = page.locator("#lr-line-chart .annotation-arrow-g path").first.bounding_box()
    plot = page.locator("#lr-line-chart .bglayer rect").first.bounding_box()
    assert plot["x"] < arrow["x"] < plot["x"] + plot["width"] / 2
    chart.screenshot(path=str(SCREENSHOTS / "lesson-u-curve-en.png"))
    watch.assert_clean()


def test_the_race_marks_a_curve_that_leaves_the_chart_with_its_value(open_page):
    page, watch = open_page(width=1366, height=768)
    page.get_by_test_id("lr-lab-view").scroll_into_view_if_needed()
    rates = page.get_by_test_id("lr-race-rates")
    rates.fill("0.03 3 1000")
    page.get_by_test_id("lr-race-steps").fill("200")
    page.get_by_test_id("lr-race-start").click()
    page.wait_for_selector('#lr-race-copies[data-status="finished"]', timeout=60_000)
    race = page.evaluate("() => window.__backpropLab.store.race")
    huge = race["copies"][2]
    assert huge["diverged_at"] is None and huge["loss"] > 100, "η = 1000: stuck far up, finite"
    texts = page.locator("#lr-race-chart .annotation-text").all_text_contents()
    marks = [text for text in texts if text.startswith("↑")]
    assert any(mark.replace("↑", "").strip().startswith(str(int(huge["loss"]))[:2]) for mark in marks), marks
    labels = tick_labels(page, "#lr-race-chart .ytick text")
    assert all(label.replace(".", "").replace(",", "").isdigit() for label in labels), labels
    assert not {"2", "5"} & set(labels) or "1" in labels, labels  # mantissas only beside their decade
    page.locator("#lr-race-chart").screenshot(path=str(SCREENSHOTS / "lesson-race-en.png"))
    watch.assert_clean()


def test_a_regression_loss_that_zigzags_is_explained_as_oscillation(open_page):
    page, watch = open_page("#dataset=plane&learning_rate=1", chart=False)
    base, sid = watch.base, session_id(page)
    notice = page.get_by_test_id("rate-notice")
    for chunk in range(1, 31):  # one point of the loss curve per chunk of 10 steps
        api(base, "POST", f"/api/v1/sessions/{sid}/step", {"steps": 10})
        page.wait_for_function(f"() => window.__backpropLab.store.step === {10 * chunk}")
    assert page.evaluate("() => window.__backpropLab.store.config.loss") == "mse"
    expect(notice).to_be_visible()
    expect(notice).to_have_attribute("data-kinds", "oscillating")
    expect(notice).to_contain_text("goes up and down")
    expect(notice).to_contain_text("at a learning rate of 1, with batches of 10 samples")
    watch.assert_clean()
