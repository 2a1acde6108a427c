"""Data the class draws: the `draw-points` toggle turns the output plane into a drawing surface;
clicks add points of the chosen class, Shift+click and the eraser remove them, the network trains
on the drawn set, and a viewer of the shared session sees the drawing."""

from __future__ import annotations

from typing import Any

from browser_helpers import screenshot, wait_connected
from playwright.sync_api import expect

STORE_POINTS = """() => { const d = window.__backpropLab.store.dataset;
    return [...d.train.points.map((p, i) => [p[0], p[1], d.train.labels[i]]),
            ...d.test.points.map((p, i) => [p[0], p[1], d.test.labels[i]])]; }"""


def click_plane(page: Any, u: float, v: float, shift: bool = False) -> None:
    """Clicks the output plane at (u, v): 0 … 1 across the plot, left to right and bottom to top."""
    plane = page.locator("#decision-boundary")
    box = plane.bounding_box()
    assert box is not None
    # the plot's margins (render/boundary.js MARGIN): 26 px left, 20 bottom, 4 top and right
    position = {"x": 26 + u * (box["width"] - 30), "y": 4 + (1 - v) * (box["height"] - 24)}
    plane.click(position=position, modifiers=["Shift"] if shift else [])


def drawn_at(page: Any, u: float, v: float) -> bool:
    """Whether a point is drawn on the plane at (u, v) (an opaque pixel of the points' canvas)."""
    box = page.locator("#decision-boundary").bounding_box()
    assert box is not None
    x, y = 26 + u * (box["width"] - 30), 4 + (1 - v) * (box["height"] - 24)
    return bool(page.evaluate(
        """([x, y]) => { const c = document.getElementById('points-canvas'); const r = window.devicePixelRatio || 1;
            return c.getContext('2d').getImageData(Math.round(x * r), Math.round(y * r), 1, 1).data[3] > 200; }""",
        [x, y]))


def drawn_rows(page: Any) -> int:
    return int(page.evaluate("() => { const d = window.__backpropLab.store.dataset;"
                             " return d.train.points.length + d.test.points.length; }"))


def test_a_class_draws_two_clusters_erases_one_point_and_the_network_learns_them(open_page, server):
    page, watch = open_page(chart=False)
    toggle = page.get_by_test_id("draw-points")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(page.get_by_test_id("draw-tools")).to_be_visible()
    page.get_by_test_id("draw-clear").click()
    expect(page.get_by_test_id("draw-status")).to_contain_text("at least 4")
    for index in range(5):  # class 0 on the left
        click_plane(page, 0.15 + 0.03 * index, 0.2 + 0.15 * index)
    page.locator("#draw-classes button[data-class='1']").click()
    for index in range(5):  # class 1 on the right
        click_plane(page, 0.8 + 0.03 * index, 0.2 + 0.15 * index)
    page.wait_for_function("() => window.__backpropLab.store.dataset.name.startsWith('csv_')")
    page.wait_for_function("() => { const d = window.__backpropLab.store.dataset;"
                           " return d.train.points.length + d.test.points.length === 10; }")
    expect(page.get_by_test_id("draw-status")).to_contain_text("10 drawn points")
    points = page.evaluate(STORE_POINTS)
    left = sorted(points)[:5]
    assert {label for _, _, label in left} == {0}, f"the left cluster is not class 0: {points}"
    # the plane held its frame while drawing: Shift+click where the top right point was drawn removes it
    click_plane(page, 0.8 + 0.03 * 4, 0.2 + 0.15 * 4, shift=True)
    page.wait_for_function("() => { const d = window.__backpropLab.store.dataset;"
                           " return d.train.points.length + d.test.points.length === 9; }")
    # the eraser removes one more, where the first point was drawn
    page.get_by_test_id("draw-erase").click()
    click_plane(page, 0.15, 0.2)
    page.wait_for_function("() => { const d = window.__backpropLab.store.dataset;"
                           " return d.train.points.length + d.test.points.length === 8; }")
    assert sorted(page.evaluate(STORE_POINTS))[0][2] == 0 and len({p[2] for p in page.evaluate(STORE_POINTS)}) == 2
    page.get_by_test_id("play-button").click()
    page.wait_for_function("() => window.__backpropLab.store.metrics?.train_accuracy === 1", timeout=30_000)
    page.get_by_test_id("play-button").click()
    screenshot(page, "30-drawn-data")

    page.get_by_test_id("share-button").click()
    expect(page.get_by_test_id("share-code")).not_to_be_empty()
    code = page.get_by_test_id("share-code").inner_text().replace(" ", "")
    viewer = page.context.new_page()
    viewer.goto(f"{server}/watch/{code}")
    wait_connected(viewer)
    assert drawn_rows(viewer) == 8
    assert sorted(viewer.evaluate(STORE_POINTS)) == sorted(page.evaluate(STORE_POINTS))
    expect(viewer.get_by_test_id("draw-points")).to_be_hidden()
    watch.assert_clean()


def test_drawing_regression_values_and_the_tools_in_indonesian(open_page):
    page, watch = open_page("#dataset=plane&lang=id", chart=False)
    page.get_by_test_id("draw-points").click()
    expect(page.get_by_test_id("draw-value")).to_be_visible()
    expect(page.locator("#draw-classes")).to_be_hidden()
    expect(page.get_by_test_id("draw-erase")).to_have_text("Penghapus")
    page.get_by_test_id("draw-clear").click()
    for index, value in enumerate(["0,5", "-0,25", "0,75", "-0,5", "0,1"]):  # the Indonesian decimal comma
        page.get_by_test_id("draw-value").fill(value)
        click_plane(page, 0.1 + 0.2 * index, 0.5)
    page.wait_for_function("() => window.__backpropLab.store.dataset.name.startsWith('csv_')"
                           " && window.__backpropLab.store.dataset.classes === null")
    page.wait_for_function("() => { const d = window.__backpropLab.store.dataset;"  # the last upload, of all five
                           " return d.train.values.length + d.test.values.length === 5; }")
    values = page.evaluate("() => { const d = window.__backpropLab.store.dataset;"
                           " return [...d.train.values, ...d.test.values].sort((a, b) => a - b); }")
    assert values == [-0.5, -0.25, 0.1, 0.5, 0.75]
    watch.assert_clean()


def test_drawn_points_stay_where_they_were_clicked_while_the_server_reframes_its_data(open_page):
    page, watch = open_page("#dataset=xor", chart=False)
    page.get_by_test_id("draw-points").click()
    page.get_by_test_id("draw-clear").click()
    square = [(0.4, 0.4), (0.55, 0.4), (0.4, 0.55), (0.55, 0.55)]  # a small square in the middle
    for index, (u, v) in enumerate(square):
        page.locator(f"#draw-classes button[data-class='{index % 2}']").click()
        click_plane(page, u, v)
    page.wait_for_function("() => { const s = window.__backpropLab.store; return s.dataset.name.startsWith('csv_')"
                           " && s.dataset.train.points.length + s.dataset.test.points.length === 4"
                           " && s.heatmaps && s.heatmaps.extent.join() === s.dataset.extent.join(); }")
    page.wait_for_function("() => document.querySelector('[data-testid=draw-status]').textContent.includes('4')")
    # the uploaded set is standardised and framed to its own points (min … max with a margin), but
    # on the plane each point is where it was clicked, not spread to the corners of that frame
    for u, v in square:
        assert drawn_at(page, u, v), f"no point where ({u}, {v}) was clicked"
    assert not drawn_at(page, 1 / 12, 1 / 12), "the plane re-framed itself to the drawn points"
    screenshot(page, "31-drawn-data-held-frame")
    watch.assert_clean()
