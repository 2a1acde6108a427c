"""Robustness: reconnecting restores the view, the URL reproduces a setup, the architecture
buttons work, refused input is shown, the gradient check and hand-set parameters work from the
page."""

from __future__ import annotations

import re

from browser_helpers import api, screenshot, session_id
from playwright.sync_api import expect


def test_a_dropped_connection_reconnects_to_the_same_session_and_restores_the_view(open_page):
    page, watch = open_page(chart=False)
    page.get_by_test_id("step-button").click()
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '1'")
    sid = session_id(page)
    page.locator("#sample-index").fill("5")
    page.locator("#sample-index").press("Enter")
    page.wait_for_function("() => window.__backpropLab.store.probe.index === 5")
    page.evaluate("() => window.__backpropLab.dropConnection()")
    page.wait_for_selector('[data-testid="connection-status"]:not([data-status="open"])')
    page.wait_for_selector('[data-testid="connection-status"][data-status="open"]', timeout=10_000)
    page.wait_for_function("() => window.__backpropLab.store.probe.index === 5")
    assert session_id(page) == sid
    expect(page.get_by_test_id("step-counter")).to_have_text("1")
    watch.assert_clean()


def test_the_url_carries_the_whole_config_and_reproduces_it(open_page):
    page, watch = open_page(
        "#dataset=xor&hidden_layers=3&activation=relu&learning_rate=0.1&batch_size=1&seed=7", chart=False
    )
    config = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")["config"]
    assert (config["dataset"], config["hidden_layers"], config["activation"]) == ("xor", [3], "relu")
    assert (config["learning_rate"], config["batch_size"], config["seed"]) == (0.1, 1, 7)
    # what the controls show is drawn by the render loop: wait for it, as a user's eye would
    expect(page.get_by_test_id("activation")).to_have_value("relu")
    expect(page.locator("#batch-mode")).to_contain_text("stochastic")
    page.get_by_test_id("activation").select_option("sigmoid")
    page.wait_for_function("() => location.hash.includes('activation=sigmoid')")
    for field in ["dataset=xor", "hidden_layers=3", "learning_rate=0.1", "features=x1,x2", "init=xavier"]:
        assert field in page.url


def test_architecture_buttons_add_and_remove_layers_and_neurons(open_page):
    page, _ = open_page(chart=False)
    page.locator("#add-layer").click()
    page.wait_for_function("() => window.__backpropLab.store.network.layer_sizes.length === 5")
    page.locator(".layer-head button[aria-label^='Add a neuron']").first.click()
    page.wait_for_function("() => window.__backpropLab.store.config.hidden_layers[0] === 5")
    page.locator("#remove-layer").click()
    page.wait_for_function("() => window.__backpropLab.store.config.hidden_layers.length === 2")
    # the store has the new config before the snapshot redraws the diagram: wait for the diagram
    expect(page.locator(".neuron-hit")).to_have_count(2 + 5 + 2 + 2)


def test_refused_input_is_shown_not_swallowed(open_page):
    page, _ = open_page(chart=False)
    field = page.get_by_test_id("learning-rate")
    field.fill("5000")
    field.press("Enter")
    expect(page.locator(".toast").first).to_contain_text(re.compile("learning rate", re.IGNORECASE))
    assert field.get_attribute("aria-invalid") == "true" or field.input_value() == "0.03"


def test_the_gradient_check_compares_backprop_with_finite_differences(open_page):
    page, _ = open_page(chart=False)
    page.get_by_test_id("gradient-check-button").click()
    result = page.get_by_test_id("gradient-check-result")
    page.wait_for_selector('[data-testid="gradient-check-result"] [data-name="ratio"]')
    parameters = int(result.locator('[data-name="parameters"]').get_attribute("data-value"))
    assert parameters == 2 * 4 + 4 + 4 * 2 + 2 + 2 * 2 + 2
    passes = int(result.locator('[data-name="numerical-passes"]').get_attribute("data-value"))
    assert passes == 2 * parameters
    assert float(result.locator('[data-name="max-relative-error"]').get_attribute("data-value")) < 1e-5
    assert "2,000,000" in result.inner_text()
    screenshot(page, "11-gradient-check")


def test_a_bias_set_by_hand_reaches_the_engine_and_its_check_agrees(open_page):
    page, watch = open_page(chart=False)
    page.locator('.neuron-hit[data-column="3"][data-index="1"]').click()
    field = page.get_by_test_id("parameter-input")
    field.fill("0.5")
    field.press("Enter")
    page.wait_for_function(
        "() => document.querySelector('[data-testid=neuron-inspector] [data-name=value]').dataset.value === '0.5'"
    )
    params = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}/params")
    assert params["layers"][2]["biases"][1] == 0.5
    page.get_by_test_id("parameter-check-button").click()
    page.wait_for_selector('[data-testid="neuron-inspector"] [data-name="check-error"]')
    error = float(
        page.locator('[data-testid="neuron-inspector"] [data-name="check-error"]').get_attribute("data-value")
    )
    assert error < 1e-6


def test_a_hash_edited_in_the_address_bar_is_applied_live(open_page):
    page, _ = open_page(chart=False)
    page.evaluate(
        "() => { location.hash = location.hash.replace('activation=tanh', 'activation=relu') + '&learning_rate=0.1'; }"
    )
    page.wait_for_function("() => window.__backpropLab.store.config.activation === 'relu'")
    page.wait_for_function("() => window.__backpropLab.store.config.learning_rate === 0.1")
    # the store changes first, the render loop redraws the select on its next frame
    expect(page.get_by_test_id("activation")).to_have_value("relu")
