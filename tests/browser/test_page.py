"""The page loads clean, carries every test hook of docs/product.md, and lays out from a 1280×720
laptop to a 2560×1440 projector without overflow."""

from __future__ import annotations

import re

from browser_helpers import screenshot
from playwright.sync_api import expect

NUMBER = re.compile(r"^\d+(\.\d+)?(e[-+]?\d+)?$")  # what a counter or a loss cell shows once drawn

TEST_IDS = [
    "loss-surface-view",
    "play-button",
    "step-button",
    "reset-button",
    "phase-step-button",
    "train-loss",
    "test-loss",
    "step-counter",
    "learning-rate",
    "batch-size",
    "activation",
    "dataset",
    "network-view",
    "loss-chart",
    "decision-boundary",
    "neuron-inspector",
    "gradient-check-button",
    "gradient-check-result",
    "lr-lab-view",
    "language-select",
    "connection-status",
]


def test_the_page_loads_with_no_console_error_and_no_request_outside_the_app(open_page):
    page, watch = open_page()
    page.wait_for_function("() => document.querySelector('#loss-chart .main-svg') !== null")
    page.wait_for_function("() => window.__backpropLab.store.heatmaps !== null")
    page.wait_for_timeout(300)  # an absence takes a wait: no late console error or outside request
    watch.assert_clean()
    screenshot(page, "01-loaded-1280x720")


def test_every_test_hook_is_there(open_page):
    page, _ = open_page(chart=False)
    for test_id in TEST_IDS:
        assert page.get_by_test_id(test_id).count() == 1, test_id
    options = page.get_by_test_id("language-select").locator("option").evaluate_all("(os) => os.map(o => o.value)")
    assert options == ["en", "id"]
    expect(page.get_by_test_id("step-counter")).to_have_text("0")
    for test_id in ["train-loss", "test-loss"]:  # "–" until the render loop draws the first metrics
        expect(page.get_by_test_id(test_id)).to_have_text(NUMBER)
        assert float(page.get_by_test_id(test_id).inner_text()) > 0

    # the network view: default 2 inputs, hidden 4 and 2, 2 softmax outputs
    expect(page.locator(".neuron-hit")).to_have_count(2 + 4 + 2 + 2)
    expect(page.locator(".layer-head")).to_have_count(4)


def test_the_layout_resizes_cleanly_from_a_laptop_to_a_projector(open_page):
    page, watch = open_page()
    page.wait_for_function("() => window.__backpropLab.store.heatmaps !== null")
    for width, height in [(1280, 720), (1920, 1080), (2560, 1440), (1280, 720)]:
        page.set_viewport_size({"width": width, "height": height})
        # a ResizeObserver marks the layout dirty, the next frame resizes the canvas: wait for it
        page.wait_for_function(
            "() => Math.abs(document.getElementById('network-view').getBoundingClientRect().width"
            " - document.getElementById('network-canvas').clientWidth) <= 1"
        )
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"horizontal overflow of {overflow}px at {width}×{height}"
        boxes = page.evaluate(
            """() => ['data-panel', 'network-panel', 'output-panel'].map(id => {
                const r = document.getElementById(id).getBoundingClientRect();
                return [r.left, r.right];
            })"""
        )
        (_, data_right), (net_left, net_right), (out_left, _) = boxes
        assert data_right <= net_left + 0.5 and net_right <= out_left + 0.5, (width, boxes)
        # the network, the output and the controls are on the first screen
        for test_id in ["network-view", "decision-boundary", "play-button", "learning-rate"]:
            box = page.get_by_test_id(test_id).bounding_box()
            assert box is not None and box["y"] < height and box["height"] > 0, (test_id, width)
        # the canvas follows its box
        canvas = page.evaluate(
            "() => { const v = document.getElementById('network-view').getBoundingClientRect();"
            " const c = document.getElementById('network-canvas'); return [v.width, c.clientWidth]; }"
        )
        assert abs(canvas[0] - canvas[1]) <= 1, canvas
        screenshot(page, f"02-layout-{width}x{height}")
    watch.assert_clean()
