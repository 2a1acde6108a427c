"""The page takes every name, formula and range from `GET /api/v1/options` and every number from
the engine: the inspector's f′(z) is the probe's, the controls' limits are the options', and a
server that cannot give its options gets a translated error, not a blank page."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from browser_helpers import PLOTLY_STAND_IN, ROOT, api, session_id, wait_connected
from playwright.sync_api import expect

INSPECTOR = '[data-testid="neuron-inspector"]'
ID = json.loads((ROOT / "static/i18n/id.json").read_text())


def shown_value(page: Any, name: str) -> float:
    return float(page.locator(f'{INSPECTOR} [data-name="{name}"]').first.get_attribute("data-value"))


@pytest.mark.parametrize("lang", ["en", "id"])
def test_the_inspector_shows_f_prime_from_the_probe_and_the_engine_s_formulas(open_page, lang):
    page, watch = open_page(f"#activation=sigmoid&hidden_layers=3&lang={lang}", reduced_motion=True, chart=False)
    assert page.evaluate("() => document.documentElement.lang") == lang
    options = api(watch.base, "GET", "/api/v1/options")
    field = page.locator("#sample-index")
    field.fill("5")
    field.press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.probe.index === 5")
    page.locator('.neuron-hit[data-column="1"][data-index="2"]').click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="f-prime"]')
    trace = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}/trace?split=train&index=5")
    hidden = trace["layers"][0]
    assert shown_value(page, "f-prime") == hidden["derivatives"][2]
    assert "derivatives" not in trace["layers"][1]  # the softmax output has no f′ vector
    text = page.locator(INSPECTOR).inner_text()
    sigmoid = options["formulas"]["activations"]["sigmoid"]
    assert f"f′(z) = {sigmoid['derivative']};" in text
    assert "a = σ(w₁·x₁ + w₂·x₂ + b)" in text  # the engine's σ(z) with the neuron's sum for z

    # the output neuron: the loss's delta through softmax, as the engine writes it
    page.locator('.neuron-hit[data-column="2"][data-index="1"]').click()
    page.wait_for_function(f"() => document.querySelector('{INSPECTOR} [data-name=target]') !== null")
    assert "δ = ∂L/∂z = ŷ₂ − y₂" in page.locator(INSPECTOR).inner_text()
    assert shown_value(page, "delta") == trace["layers"][1]["deltas"][1]
    watch.assert_clean()


def test_the_controls_offer_the_ranges_the_options_give(open_page):
    page, watch = open_page(chart=False)
    ranges = api(watch.base, "GET", "/api/v1/options")["ranges"]
    rate = page.get_by_test_id("learning-rate")
    assert float(rate.get_attribute("max")) == ranges["learning_rate"]["ui"]["max"]
    assert float(rate.get_attribute("min")) == ranges["learning_rate"]["ui"]["min"]
    presets = page.locator("#learning-rate-presets option").evaluate_all("(os) => os.map(o => Number(o.value))")
    assert presets == ranges["learning_rate"]["ui"]["presets"]
    assert float(page.locator("#momentum").get_attribute("max")) == ranges["momentum"]["ui"]["max"]
    assert float(page.locator("#noise").get_attribute("max")) == 100 * ranges["noise"]["ui"]["max"]
    assert float(page.locator("#train-ratio").get_attribute("min")) == 100 * ranges["train_ratio"]["ui"]["min"]
    assert float(page.locator("#samples").get_attribute("min")) == ranges["samples"]["ui"]["min"]
    speeds = page.locator("#speed option").evaluate_all("(os) => os.map(o => Number(o.value))")
    assert speeds == ranges["steps_per_second"]["ui"]["presets"]

    # a typed rate above the options' maximum is refused by the page with the options' numbers
    rate.fill(str(ranges["learning_rate"]["ui"]["max"] * 2))
    rate.press("Enter")
    page.locator("#toasts .toast").first.wait_for()
    assert f"at most {ranges['learning_rate']['ui']['max']:,.0f}" in page.locator("#toasts .toast").first.inner_text()
    assert rate.get_attribute("aria-invalid") == "true"

    # as many hidden layers as the options' UI maximum, then the add button stops
    layers = ranges["hidden_layers"]["ui"]["max"]
    for count in range(3, layers + 1):  # the default network has 2
        page.locator("#add-layer").click()
        page.wait_for_function(f"() => window.__backpropLab.store.config.hidden_layers.length === {count}")
    page.wait_for_selector("#add-layer:disabled")


def test_a_regression_set_is_named_by_the_options_and_its_loss_follows_it(open_page):
    page, _ = open_page(chart=False)
    page.get_by_test_id("dataset").select_option("plane")
    page.wait_for_function("() => window.__backpropLab.store.config.loss === 'mse'")
    # the form is redrawn in the render loop's next frame after the store has the config
    expect(page.locator("#loss option[value=cross_entropy]")).to_be_disabled()
    page.get_by_test_id("dataset").select_option("xor")
    page.wait_for_function("() => window.__backpropLab.store.config.loss === 'cross_entropy'")
    expect(page.locator("#loss option[value=cross_entropy]")).to_be_enabled()


def test_a_server_that_cannot_give_its_options_gets_a_translated_error_then_the_page_starts(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        failing = {"on": True}

        def answer(route: Any) -> None:
            if failing["on"]:
                route.fulfill(status=503, body='{"detail": "down for a moment"}', content_type="application/json")
            else:
                route.continue_()

        context.route("**/api/v1/options", answer)
        page = context.new_page()
        page.goto(f"{server}/#lang=id")
        badge = page.get_by_test_id("connection-status")
        page.wait_for_selector('[data-testid="connection-status"][data-status="offline"]', timeout=15_000)
        toast = page.locator("#toasts .toast").first
        toast.wait_for()
        expected = ID["error.options"].split("{message}")[0]
        assert toast.inner_text().startswith(expected), toast.inner_text()
        assert ID["error.status.503"] in toast.inner_text()  # in Indonesian, not the server's English
        assert "down for a moment" not in toast.inner_text()
        assert badge.inner_text() == ID["connection.offline"]
        # not a blank page: the labels are there, in Indonesian
        assert page.locator("label[for=learning-rate]").inner_text() == ID["hyper.learning_rate"]
        assert page.evaluate("() => window.__backpropLab.store.sessionId") is None

        failing["on"] = False  # the server answers again: the page loads its options and starts
        wait_connected(page, timeout=20_000)
        assert re.fullmatch(r"[\d.]+", page.locator("#learning-rate").get_attribute("max"))
    finally:
        context.close()


def test_the_connection_is_a_state_machine_whose_state_the_badge_shows(open_page):
    page, _ = open_page(chart=False)
    machine = page.evaluate(
        """async () => {
            const session = await import('/static/js/session.js');
            const error = new session.ConnectionStateError('open', 'connecting');
            return {
                states: Object.values(session.ConnectionState),
                frozen: Object.isFrozen(session.ConnectionState),
                state: session.connectionState(),
                badge: document.querySelector('[data-testid=connection-status]').dataset.status,
                message: error.message,
            };
        }"""
    )
    assert machine["states"] == ["connecting", "open", "reconnecting", "offline"] and machine["frozen"]
    assert machine["state"] == machine["badge"] == "open"
    assert machine["message"] == 'the connection cannot go from "open" to "connecting"'


def test_the_analyses_forms_take_their_limits_from_the_options_not_from_a_copy(browser, server):
    """A server that decided other numbers (fewer race copies, a shorter race, a narrower span,
    other resolutions, shorter run names) gets a page that offers exactly those."""

    def other_numbers(route: Any) -> None:
        response = route.fetch()
        options = response.json()
        analyses = options["analyses"]
        analyses["race"]["copies"]["max"] = 3
        analyses["race"]["steps"].update({"max": 500, "default": 250})
        analyses["surface"]["span"]["max"] = 7
        analyses["surface"]["resolution"].update({"presets": [5, 9], "default": 9})
        options["runs"]["name_length"] = 20
        options["jobs"]["max_rates"] = 5  # more rates than a live race takes run as a sweep job
        route.fulfill(response=response, json=options)

    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        context.route("**/vendor/plotly.min.js",
                      lambda route: route.fulfill(body=PLOTLY_STAND_IN, content_type="text/javascript"))
        context.route("**/api/v1/options", other_numbers)
        page = context.new_page()
        page.goto(f"{server}/#lang=en")
        wait_connected(page)
        steps = page.get_by_test_id("lr-race-steps")
        assert (steps.get_attribute("max"), steps.input_value()) == ("500", "250")
        expect(page.locator("#lr-race-rates-hint")).to_have_text(
            "Up to 3 rates race live, separated by spaces; more, up to 5, run as a sweep job with a progress bar.")
        page.get_by_test_id("lr-race-rates").fill("0.01 0.1 1 3 5 7")
        page.get_by_test_id("lr-race-start").click()
        # the rates' bounds as a sentence writes numbers: grouped from 1000
        expect(page.get_by_text("Give 1 to 5 learning rates above 0 and at most 1,000")).to_be_visible()
        assert page.get_by_test_id("surface-span").get_attribute("max") == "7"
        resolution = page.get_by_test_id("surface-resolution")
        assert resolution.locator("option").evaluate_all("(os) => os.map((o) => o.value)") == ["5", "9"]
        assert resolution.input_value() == "9"
        assert page.get_by_test_id("run-name-input").get_attribute("maxlength") == "20"
    finally:
        context.close()
