"""Accessibility: axe-core (served to the page by the installed axe-playwright-python package,
never a CDN) finds no serious or critical violation on the main page, a viewer's page, in
projector mode, and on the page where a student types a share code."""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from browser_helpers import api, drawn, session_id, wait_connected


def serious_violations(page: Any) -> list[str]:
    results = Axe().run(page)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:5]
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}")
    return found


def test_the_main_page_has_no_serious_violation_also_with_its_share_panel_open(open_page):
    page, watch = open_page(chart=False)
    drawn(page)
    assert serious_violations(page) == []
    page.get_by_test_id("share-button").click()
    page.get_by_test_id("share-code").wait_for()
    drawn(page)
    assert serious_violations(page) == []
    watch.assert_clean()


def test_projector_mode_has_no_serious_violation(open_page):
    page, watch = open_page("#projector=1", chart=False)
    page.wait_for_selector("html.projector")
    drawn(page)
    assert serious_violations(page) == []
    watch.assert_clean()


def test_a_viewer_s_page_has_no_serious_violation_in_either_mode(open_page, server):
    presenter, _ = open_page(chart=False)
    code = api(server, "POST", f"/api/v1/sessions/{session_id(presenter)}/share")["code"]
    viewer = presenter.context.new_page()
    viewer.goto(f"{server}/watch/{code}")
    wait_connected(viewer)
    drawn(viewer)
    assert serious_violations(viewer) == []
    viewer.get_by_test_id("projector-toggle").click()
    viewer.wait_for_selector("html.projector")
    drawn(viewer)
    assert serious_violations(viewer) == []


def test_the_join_page_has_no_serious_violation(browser, server):
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{server}/watch/XXXXXX")
        page.wait_for_selector("#join-unknown")
        assert serious_violations(page) == []
    finally:
        context.close()
