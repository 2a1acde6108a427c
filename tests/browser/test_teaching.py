"""Teaching mode: one step walked phase by phase — forward 1…L, loss, backward L…1, update — and
the inspector's numbers are the engine's, equal to the REST trace of the chosen sample."""

from __future__ import annotations

import math

from browser_helpers import api, screenshot, session_id, step_count
from playwright.sync_api import expect

INSPECTOR = '[data-testid="neuron-inspector"]'


def shown_value(page, name: str) -> float:
    return float(page.locator(f'{INSPECTOR} [data-name="{name}"]').first.get_attribute("data-value"))


def current_phase(page) -> tuple[str, int | None, int]:
    item = page.locator("#phase-track li.current")
    layer = item.get_attribute("data-layer")
    return item.get_attribute("data-kind"), (int(layer) if layer else None), int(item.get_attribute("data-index"))


def choose_sample(page, index: int) -> None:
    field = page.locator("#sample-index")
    field.fill(str(index))
    field.press("Enter")
    page.wait_for_function(f"() => window.__backpropLab.store.probe.index === {index}")


def press_phase(page, expected_index: int) -> tuple[str, int | None, int]:
    page.get_by_test_id("phase-step-button").click()
    page.wait_for_selector(f'#phase-track li.current[data-index="{expected_index}"]')
    return current_phase(page)


def test_phases_come_in_order_and_the_inspector_shows_the_traced_numbers(open_page):
    page, watch = open_page(reduced_motion=True, chart=False)
    base = watch.base
    choose_sample(page, 7)
    depth = 3  # hidden 4, 2 and the output layer
    expected = (
        [("forward", layer) for layer in range(depth)]
        + [("loss", None)]
        + [("backward", layer) for layer in reversed(range(depth))]
        + [("update", None)]
    )
    seen = []
    for index in range(len(expected) - 1):  # every phase but the update
        kind, layer, _ = press_phase(page, index)
        seen.append((kind, layer))
    assert seen == expected[:-1]
    assert step_count(page) == 0, "the phases before the update change nothing"
    # prefers-reduced-motion: the numbers appear at once, nothing flows
    assert page.evaluate("() => window.__backpropLab.store.teaching.animationMs") == 0
    screenshot(page, "05-teaching-backward")

    # hidden layer 1, neuron 2: its forward and backward numbers against the REST trace
    trace = api(base, "GET", f"/api/v1/sessions/{session_id(page)}/trace?split=train&index=7")
    page.locator('.neuron-hit[data-column="1"][data-index="1"]').click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="z"]')
    hidden = trace["layers"][0]
    assert shown_value(page, "z") == hidden["pre_activations"][1]
    assert shown_value(page, "a") == hidden["activations"][1]
    assert shown_value(page, "delta") == hidden["deltas"][1]
    assert shown_value(page, "bias-gradient") == hidden["bias_gradients"][1]
    assert shown_value(page, "weight-gradient1") == hidden["weight_gradients"][0][1]
    equation = page.locator(f"{INSPECTOR} .eq").first.inner_text()
    assert equation.startswith("a = tanh(w₁·x₁ + w₂·x₂ + b)")
    # its chain rule, term by term, uses the next layer's deltas
    assert shown_value(page, "delta-out1") == trace["layers"][1]["deltas"][0]

    # the output neuron: δ = ŷ − y and the sample's loss
    page.locator('.neuron-hit[data-column="3"][data-index="0"]').click()
    page.wait_for_function(f"() => document.querySelector('{INSPECTOR} [data-name=target]') !== null")
    output = trace["layers"][2]
    assert shown_value(page, "delta") == output["deltas"][0]
    assert shown_value(page, "loss") == trace["loss"]

    # an edge, opened from the neuron's list of incoming weights: ∂L/∂w = a·δ
    page.locator(f"{INSPECTOR} .edge-list button").nth(1).click()
    page.wait_for_selector(f'{INSPECTOR} [data-name="weight-gradient"]')
    assert shown_value(page, "weight-gradient") == output["weight_gradients"][1][0]
    assert math.isclose(shown_value(page, "input") * shown_value(page, "delta"), output["weight_gradients"][1][0])

    # the update: one step taken, and the inspector follows the new weights exactly
    kind, _, _ = press_phase(page, len(expected) - 1)
    assert kind == "update"
    page.wait_for_function("() => document.querySelector('[data-testid=step-counter]').dataset.value === '1'")
    params = api(base, "GET", f"/api/v1/sessions/{session_id(page)}/params")
    page.wait_for_function(
        f"() => Number(document.querySelector('{INSPECTOR} [data-name=value]').dataset.value)"
        f" === {params['layers'][2]['weights'][1][0]!r}"
    )
    after = api(base, "GET", f"/api/v1/sessions/{session_id(page)}/trace?split=train&index=7")
    page.wait_for_function(
        f"() => Number(document.querySelector('{INSPECTOR} [data-name=weight-gradient]').dataset.value)"
        f" === {after['layers'][2]['weight_gradients'][1][0]!r}"
    )
    watch.assert_clean()


def test_the_phases_play_by_themselves_at_the_chosen_pace(open_page):
    page, _ = open_page(chart=False)
    page.select_option("#teach-pace", "600")
    page.locator("#teach-auto").click()
    page.wait_for_function("() => window.__backpropLab.store.teaching.phases.length >= 3", timeout=10_000)
    kinds = page.evaluate("() => window.__backpropLab.store.teaching.phases.map(p => p.kind + ':' + p.layer)")
    assert kinds[:3] == ["forward:0", "forward:1", "forward:2"]
    screenshot(page, "06-teaching-auto")
    page.locator("#teach-auto").click()
    page.wait_for_selector('#teach-auto[aria-pressed="false"]')


def test_clicking_a_point_chooses_the_sample_and_the_softmax_bars_sum_to_one(open_page):
    page, _ = open_page("#dataset=five_class&hidden_layers=6", chart=False)
    point = page.evaluate(
        """() => {
            const s = window.__backpropLab.store;
            const [x1, x2] = s.dataset.train.points[3];
            const [a, b, c, d] = s.heatmaps ? s.heatmaps.extent : s.dataset.extent;
            const box = document.getElementById('decision-boundary').getBoundingClientRect();
            const w = box.width - 26 - 4, h = box.height - 20 - 4;
            return [box.left + 26 + (x1 - a) / (b - a) * w, box.top + 4 + (1 - (x2 - c) / (d - c)) * h];
        }"""
    )
    page.mouse.click(point[0], point[1])
    page.wait_for_function("() => window.__backpropLab.store.probe.index === 3")
    bars = page.locator("#softmax-view .softmax-value")
    expect(bars).to_have_count(5)
    total = sum(float(value) for value in bars.evaluate_all("(els) => els.map(e => e.dataset.value)"))
    assert math.isclose(total, 1.0, abs_tol=1e-9)
    screenshot(page, "07-five-class-softmax")
