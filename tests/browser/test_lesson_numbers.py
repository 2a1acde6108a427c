"""Numbers a class can trust (issue 23): every gradient in the inspector says what it is of, and
its finite-difference check compares like with like, each scope beside backprop's derivative of
the same function; plain decimals, in both languages."""

from __future__ import annotations

import math

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
    for cell in table.locator("td:nth-child(2), td:nth-child(3)").all_inner_texts():
        assert "e" not in cell, cell
    page.locator(INSPECTOR).scroll_into_view_if_needed()
    page.locator(INSPECTOR).screenshot(path=str(SCREENSHOTS / "lesson-numbers-inspector-en.png"))
    watch.assert_clean()


def test_the_scopes_read_in_indonesian_with_decimal_commas(open_page):
    page, watch = open_page("#lang=id", width=1024, height=768, reduced_motion=True, chart=False)
    open_edge_after_training(page, watch.base)
    text = page.get_by_test_id("parameter-check-table").inner_text()
    assert "sampel ini: sampel pelatihan nomor 7" in text and "seluruh data pelatihan, 250 sampel" in text
    assert "," in page.locator(f'{INSPECTOR} [data-name="check-backprop"]').inner_text()
    page.locator(INSPECTOR).screenshot(path=str(SCREENSHOTS / "lesson-numbers-inspector-id.png"))
    watch.assert_clean()
