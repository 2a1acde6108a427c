"""Classroom mode in the browser: the teacher link makes a browser the teacher, every other
browser is a student with runs of its own; the teacher publishes a run to the class, a student
then sees it without Rename or Delete, and a viewer's page shows no control a viewer cannot use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import PLOTLY_STAND_IN, TEACHER_KEY, screenshot, wait_connected
from playwright.sync_api import expect


@pytest.fixture
def browse(browser: Any, classroom_server: str) -> Iterator[Any]:
    """`browse(path, width, height)` → a page of a new browser (its own cookies: its own identity)."""
    contexts = []

    def _open(path: str = "/", width: int = 1366, height: int = 768) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.route("**/vendor/plotly.min.js",
                      lambda route: route.fulfill(body=PLOTLY_STAND_IN, content_type="text/javascript"))
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{classroom_server}{path}")
        return page

    yield _open
    for context in contexts:
        context.close()


def identity(page: Any) -> dict:
    return page.evaluate("() => fetch('/api/v1/identity').then((answer) => answer.json())")


def save_run(page: Any, name: str) -> Any:
    page.get_by_test_id("run-name-input").fill(name)
    page.get_by_test_id("save-run-button").click()
    item = page.get_by_test_id("run-item").filter(has_text=name)
    expect(item).to_be_visible()
    return item


def test_the_teacher_publishes_a_students_run_and_the_class_sees_it_read_only(browse):
    teacher = browse(f"/teacher?key={TEACHER_KEY}")
    wait_connected(teacher)
    assert "/teacher" not in teacher.url and TEACHER_KEY not in teacher.url  # the key left the address bar
    assert identity(teacher)["role"] == "teacher"

    student = browse()
    wait_connected(student)
    assert identity(student)["role"] == "student"
    own = save_run(student, "Budi's circle")
    expect(own.locator("[data-action=rename]")).to_be_visible()  # their own: rename and delete
    expect(own.get_by_test_id("run-delete")).to_be_visible()
    expect(own.get_by_test_id("run-publish")).to_have_count(0)  # only the teacher publishes

    classmate = browse()
    wait_connected(classmate)
    expect(classmate.get_by_test_id("run-item").filter(has_text="Budi's circle")).to_have_count(0)

    teacher.reload()
    wait_connected(teacher)
    listed = teacher.get_by_test_id("run-item").filter(has_text="Budi's circle")
    listed.get_by_test_id("run-publish").click()
    expect(listed.get_by_test_id("run-published")).to_be_visible()

    classmate.reload()
    wait_connected(classmate)
    shared = classmate.get_by_test_id("run-item").filter(has_text="Budi's circle")
    expect(shared.get_by_test_id("run-published")).to_be_visible()
    expect(shared.get_by_test_id("run-open")).to_be_visible()
    expect(shared.locator("[data-action=export]")).to_be_visible()
    expect(shared.get_by_test_id("run-delete")).to_have_count(0)
    expect(shared.locator("[data-action=rename]")).to_have_count(0)
    for width, height in ((1366, 768), (1024, 768)):
        classmate.set_viewport_size({"width": width, "height": height})
        classmate.get_by_test_id("runs-panel").scroll_into_view_if_needed()
        screenshot(classmate, f"classroom-student-runs-{width}-en")
        classmate.get_by_test_id("language-select").select_option("id")
        expect(shared.get_by_test_id("run-published")).to_have_text("dibagikan ke kelas")
        screenshot(classmate, f"classroom-student-runs-{width}-id")
        classmate.get_by_test_id("language-select").select_option("en")


def test_a_viewers_page_offers_no_save_open_or_delete(browse):
    presenter = browse()
    wait_connected(presenter)
    save_run(presenter, "presenter's own")
    presenter.get_by_test_id("share-button").click()
    expect(presenter.get_by_test_id("share-code")).not_to_be_empty()
    code = presenter.get_by_test_id("share-code").inner_text().replace(" ", "")

    viewer = browse(f"/watch/{code}")
    wait_connected(viewer)
    expect(viewer.get_by_test_id("save-run-button")).to_be_hidden()
    expect(viewer.get_by_test_id("run-item").filter(has_text="presenter's own")).to_have_count(0)
    for item in viewer.get_by_test_id("run-item").all():  # the class's published runs, if any
        expect(item.get_by_test_id("run-open")).to_be_hidden()
        expect(item.get_by_test_id("run-delete")).to_have_count(0)
    screenshot(viewer, "classroom-viewer-1366-en")
