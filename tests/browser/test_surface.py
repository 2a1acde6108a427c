"""The loss-surface panel: the surface draws when the panel comes into view, the current point
moves while training, switching directions redraws (PCA with its explained variance), the 3-D
toggle switches the view, two edges clicked in the network view become the axes, and all of it
works from the keyboard without a console error."""

from __future__ import annotations

from browser_helpers import api, drawn, screenshot, session_id
from playwright.sync_api import expect

PLOT = "#surface-plot"


def surface_id(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator(PLOT).get_attribute("data-surface-id") or 0)


def wait_surface(page, after: int = 0, kind: str | None = None) -> int:  # type: ignore[no-untyped-def]
    """Waits until a surface newer than `after` (of `kind`) is drawn; returns its id."""
    condition = f"Number(document.querySelector('{PLOT}').dataset.surfaceId || 0) > {after}"
    if kind:
        condition += f" && window.__backpropLab.store.surface.result?.kind === '{kind}'"
    page.wait_for_function(f"() => {condition}", timeout=60_000)
    return surface_id(page)


def contours_drawn(page) -> None:  # type: ignore[no-untyped-def]
    """Waits until Plotly has drawn contour lines (paths in its contour layer)."""
    page.wait_for_function(f"() => document.querySelectorAll('{PLOT} .contourlayer path').length > 10")


def show_panel(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id("loss-surface-view").scroll_into_view_if_needed()


def test_the_surface_draws_and_the_current_point_moves_while_training(open_page):
    page, watch = open_page()
    show_panel(page)
    first = wait_surface(page)
    result = page.evaluate("() => window.__backpropLab.store.surface.result")
    # PCA by default; at step 0 there is no trajectory yet, so two random directions stand in
    assert len(result["loss"]) == 41 and len(result["loss"][0]) == 41 and result["kind"] == "random"
    contours_drawn(page)
    expect(page.get_by_test_id("surface-status")).to_contain_text("0")  # centred on step 0
    # the page shows the server's own numbers: the centre is the session's training loss
    state = api(watch.base, "GET", f"/api/v1/sessions/{session_id(page)}")
    assert result["center_loss"] == state["metrics"]["train_loss"]
    point = page.get_by_test_id("surface-point")
    expect(point).to_be_visible()
    start = point.get_attribute("data-alpha"), point.get_attribute("data-beta")
    transform = page.evaluate("() => document.querySelector('[data-testid=surface-point]').style.transform")
    page.get_by_test_id("play-button").click()
    page.wait_for_function(
        "([a, b]) => { const m = document.querySelector('[data-testid=surface-point]');"
        " return m.dataset.alpha !== a || m.dataset.beta !== b; }",
        arg=list(start),
    )
    # and the marker is drawn where it now is (or, past the edge, on a new slice centred there)
    page.wait_for_function(
        "([start, first]) => { const m = document.querySelector('[data-testid=surface-point]');"
        " return m.style.transform !== start || window.__backpropLab.store.surface.result.surface_id !== first; }",
        arg=[transform, first],
    )
    page.get_by_test_id("play-button").click()
    page.wait_for_selector('[data-testid="play-button"][aria-pressed="false"]')
    screenshot(page, "surface-contours")
    watch.assert_clean()


def test_switching_directions_redraws_and_pca_shows_its_explained_variance(open_page):
    page, watch = open_page()
    api(watch.base, "POST", f"/api/v1/sessions/{session_id(page)}/step", {"steps": 200})
    show_panel(page)
    first = wait_surface(page)
    page.get_by_test_id("surface-directions").select_option("random")
    second = wait_surface(page, first, "random")
    expect(page.locator("#surface-seed")).to_be_visible()
    page.locator("#surface-seed").fill("5")
    page.locator("#surface-seed").press("Enter")
    third = wait_surface(page, second, "random")
    assert page.evaluate("() => window.__backpropLab.store.surface.result.seed") == 5
    page.get_by_test_id("surface-directions").select_option("pca")
    wait_surface(page, third, "pca")
    expect(page.locator("#surface-variance")).to_be_visible()
    shares = page.evaluate("() => window.__backpropLab.store.surface.result.explained_variance")
    assert 1 >= shares[0] >= shares[1] > 0
    expect(page.locator("#surface-axes")).to_contain_text("moved most")
    # a narrow slice leaves most of the walk outside: one click widens the slice to it
    latest = surface_id(page)
    page.get_by_test_id("surface-span").fill("0.05")
    page.get_by_test_id("surface-span").press("Enter")
    latest = wait_surface(page, latest, "pca")
    assert page.evaluate("() => window.__backpropLab.store.surface.result.span") == 0.05
    page.get_by_test_id("surface-fit").click()
    wait_surface(page, latest, "pca")
    result = page.evaluate("() => window.__backpropLab.store.surface.result")
    assert result["span"] > 0.05 and all(abs(c) <= result["span"] for point in result["trajectory"] for c in point)
    expect(page.get_by_test_id("surface-fit")).to_be_hidden()
    watch.assert_clean()


def test_the_3d_toggle_switches_to_a_surface_and_back(open_page):
    page, watch = open_page()
    show_panel(page)
    wait_surface(page)
    page.get_by_test_id("surface-3d").check()
    page.wait_for_function(f"() => document.querySelector('{PLOT}').dataset.view === '3d'")
    expect(page.locator(f"{PLOT} .gl-container")).to_have_count(1)
    expect(page.get_by_test_id("surface-point")).to_be_hidden()  # the point is a trace of the 3-D scene
    # the walk since the slice extends the 3-D path too
    path_length = f"() => document.querySelector('{PLOT}').data[1].x.length"
    before = page.evaluate(path_length)
    for step in (2, 4):
        api(watch.base, "POST", f"/api/v1/sessions/{session_id(page)}/step", {"steps": 2})
        page.wait_for_function(f"() => window.__backpropLab.store.step === {step}")
    page.wait_for_function(f"(before) => ({path_length})() >= before + 2", arg=before)
    screenshot(page, "surface-3d")
    page.get_by_test_id("surface-3d").uncheck()
    page.wait_for_function(f"() => document.querySelector('{PLOT}').dataset.view === 'contour'")
    contours_drawn(page)
    expect(page.get_by_test_id("surface-point")).to_be_visible()
    watch.assert_clean()


def edge_midpoint(page, column: int, i: int, j: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """The middle of the edge from neuron i of `column` to neuron j of the next: halfway between
    the two neurons' centres (they are drawn the same size, so it lies on the edge)."""
    a = page.locator(f'.neuron-hit[data-column="{column}"][data-index="{i}"]').bounding_box()
    b = page.locator(f'.neuron-hit[data-column="{column + 1}"][data-index="{j}"]').bounding_box()
    x = (a["x"] + a["width"] / 2 + b["x"] + b["width"] / 2) / 2
    y = (a["y"] + a["height"] / 2 + b["y"] + b["height"] / 2) / 2
    return x, y


def test_two_edges_clicked_in_the_network_view_become_the_axes(open_page):
    page, watch = open_page(chart=False)
    page.evaluate("() => document.querySelector('#loss-surface-view').scrollIntoView()")
    first = wait_surface(page)
    page.get_by_test_id("surface-directions").select_option("weights")
    first = wait_surface(page, first, "weights")
    page.get_by_test_id("surface-weight-mode").select_option("picked")
    second = wait_surface(page, first)  # until two are picked: the largest gradient's
    expect(page.locator("#surface-pick-toggle")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("network-view").scroll_into_view_if_needed()
    for column, i, j in [(2, 0, 0), (2, 1, 1)]:
        x, y = edge_midpoint(page, column, i, j)
        page.mouse.click(x, y)
        drawn(page)
    wait_surface(page, second)
    assert page.evaluate("() => window.__backpropLab.store.surface.result.weights") == [[2, 0, 0], [2, 1, 1]]
    expect(page.locator("#surface-picked")).to_contain_text("α")
    watch.assert_clean()


def test_the_panel_works_from_the_keyboard(open_page):
    page, watch = open_page(chart=False)
    page.evaluate("() => document.querySelector('#loss-surface-view').scrollIntoView()")
    first = wait_surface(page)
    page.get_by_test_id("surface-directions").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # PCA → random → two weights
    expect(page.get_by_test_id("surface-directions")).to_have_value("weights")
    first = wait_surface(page, first, "weights")
    # pick two edges from the inspector's list with the keyboard, then use each
    page.get_by_test_id("surface-weight-mode").focus()
    page.keyboard.press("ArrowDown")  # "two edges I pick"
    expect(page.get_by_test_id("surface-weight-mode")).to_have_value("picked")
    for nth in (0, 1):
        page.locator('.neuron-hit[data-column="3"][data-index="0"]').focus()
        page.keyboard.press("Enter")
        page.locator("#neuron-inspector .edge-list button").nth(nth).focus()
        page.keyboard.press("Enter")
        expect(page.locator("#surface-use-selected")).to_be_enabled()  # an edge is selected now
        page.locator("#surface-use-selected").focus()
        page.keyboard.press("Enter")
    wait_surface(page, first)
    page.wait_for_function(
        "() => JSON.stringify(window.__backpropLab.store.surface.result.weights) === '[[2,0,0],[2,1,0]]'",
        timeout=60_000,
    )
    page.get_by_test_id("surface-resolution").focus()
    page.keyboard.press("ArrowUp")  # 41 → 21
    # a slice asked for before the change (the second pick's) may still be computing: the 21-point
    # one is asked for when it ends, so wait for that one rather than for the next id
    page.wait_for_function("() => window.__backpropLab.store.surface.result?.x.length === 21", timeout=60_000)
    page.get_by_test_id("surface-recompute").focus()
    latest = surface_id(page)
    page.keyboard.press("Enter")
    wait_surface(page, latest)
    watch.assert_clean()
