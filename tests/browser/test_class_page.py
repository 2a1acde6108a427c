"""The teacher's class page (issue 19) in the browser: a teacher and three students, each in a
browser context of their own (their own cookies: their own identity), on a classroom-mode server.
Students join at /join with a name and train; the teacher's /class grid shows their live
thumbnails and steps, pauses and resumes the class, sets a learning rate for everyone, hides the
names (on the grid and in the side-by-side view), and plots the class's scatter. A student can
open neither the class page nor a classmate's session. Screenshots of /class and /join are kept
under test-output/screenshots/ to be looked at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import PLOTLY_STAND_IN, TEACHER_KEY, screenshot, session_id, step_count, wait_connected
from playwright.sync_api import expect
from test_accessibility import serious_violations
from test_csp import COLLECT_VIOLATIONS

NAMES = ["Ayu", "Budi", "Citra"]


@pytest.fixture
def browse(browser: Any, classroom_server: str) -> Iterator[Any]:
    """`browse(path, width, height, chart)` → a page of a new browser context (its own identity).
    `chart=False` serves plotly's stand-in (the students' pages do not need the real charts)."""
    contexts = []

    def _open(path: str = "/", width: int = 1366, height: int = 768, chart: bool = False) -> Any:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.add_init_script(COLLECT_VIOLATIONS)  # the pages keep to the lab's strict CSP (test_csp.py)
        if not chart:
            context.route("**/vendor/plotly.min.js",
                          lambda route: route.fulfill(body=PLOTLY_STAND_IN, content_type="text/javascript"))
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{classroom_server}{path}")
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def lesson(browse: Any) -> Iterator[dict[str, Any]]:
    """A teacher on /class with a class open, and three students who joined it by name, each on
    their own network: {"teacher": page, "code": "KXM4TR", "students": [page, page, page]}. The
    class ends afterwards (one open class per server)."""
    teacher = browse(f"/teacher?key={TEACHER_KEY}", chart=True)
    wait_connected(teacher)
    teacher.get_by_test_id("share-button").click()  # the teacher finds the class page beside the share code
    teacher.get_by_test_id("class-page-link").click()
    teacher.wait_for_url("**/class")
    teacher.get_by_test_id("class-open").click()
    code_element = teacher.get_by_test_id("class-code")
    expect(code_element).not_to_be_empty()
    code = code_element.get_attribute("data-code")
    assert code and len(code) == 6
    hide = teacher.get_by_test_id("class-anonymise")
    expect(hide).to_have_attribute("aria-pressed", "true")  # a new class hides names until the teacher shows them
    hide.click()
    expect(hide).to_have_attribute("aria-pressed", "false")
    students = []
    for name in NAMES:
        student = browse(f"/join?code={code}")
        expect(student.get_by_test_id("join-code")).to_have_value(code)
        student.get_by_test_id("join-name").fill(name)
        student.get_by_test_id("join-button").click()
        student.wait_for_url("**/")
        wait_connected(student)
        expect(student.get_by_test_id("class-note")).to_be_visible()
        students.append(student)
    yield {"teacher": teacher, "code": code, "students": students}
    teacher.evaluate("(code) => fetch(`/api/v1/classes/${code}`, {method: 'DELETE'})", code)


def card(teacher: Any, text: str) -> Any:
    return teacher.get_by_test_id("class-student").filter(has_text=text)


def card_step(teacher: Any, text: str) -> int:
    return int(card(teacher, text).get_by_test_id("class-student-step").get_attribute("data-value") or 0)


def wait_steps_pass(teacher: Any, text: str, step: int) -> None:
    teacher.wait_for_function(
        """([name, step]) => [...document.querySelectorAll('[data-testid=class-student]')]
             .some((card) => card.textContent.includes(name)
               && Number(card.querySelector('[data-testid=class-student-step]').dataset.value) > step)""",
        arg=[text, step],
    )


def play(student: Any) -> None:
    student.get_by_test_id("play-button").click()
    student.wait_for_function("() => Number(document.querySelector('[data-testid=step-counter]').dataset.value) > 0")


def test_the_teacher_sees_pauses_and_sets_the_learning_rate_of_the_whole_class(lesson):
    teacher, students = lesson["teacher"], lesson["students"]
    for student in students:
        play(student)
    expect(teacher.get_by_test_id("class-student")).to_have_count(3)
    for name in NAMES:  # every card: the name, a drawn thumbnail, a step that advances
        expect(card(teacher, name)).to_be_visible()
        teacher.wait_for_function(
            "(name) => [...document.querySelectorAll('[data-testid=class-student]')].find((card) => "
            "card.textContent.includes(name))?.querySelector('canvas.student-thumbnail').width > 1",
            arg=name,
        )
        wait_steps_pass(teacher, name, card_step(teacher, name))

    teacher.get_by_test_id("class-pause-all").click()
    for student in students:
        expect(student.get_by_test_id("class-paused-notice")).to_be_visible()
        expect(student.get_by_test_id("play-button")).to_be_disabled()
        student.wait_for_function("() => window.__backpropLab.store.state === 'paused'")
    stopped = [step_count(student) for student in students]
    for name, step in zip(NAMES, stopped, strict=True):  # the class view catches up with the last step
        expect(card(teacher, name).get_by_test_id("class-student-step")).to_have_attribute("data-value", str(step))
    students[0].keyboard.press("Space")  # the shortcut waits too
    time.sleep(1.0)  # long enough for several steps at the students' pace: none is taken
    assert [step_count(student) for student in students] == stopped
    assert [card_step(teacher, name) for name in NAMES] == stopped
    expect(teacher.get_by_test_id("class-paused-badge")).to_be_visible()
    screenshot(students[0], "class-student-paused-1366-en")

    teacher.get_by_test_id("class-resume-all").click()
    for student in students:
        expect(student.get_by_test_id("class-paused-notice")).to_be_hidden()
        expect(student.get_by_test_id("play-button")).to_be_enabled()

    push = teacher.get_by_test_id("class-push-config")
    push.get_by_test_id("class-push-rate").fill("0.3")
    push.get_by_test_id("class-push-button").click()
    expect(teacher.get_by_test_id("class-status")).to_contain_text("3")
    for student in students:
        expect(student.get_by_test_id("learning-rate")).to_have_value("0.3")
    for name in NAMES:
        expect(card(teacher, name).get_by_test_id("class-student-rate")).to_have_attribute("data-value", "0.3")


def test_hiding_names_hides_them_on_the_grid_and_in_the_side_by_side_view(lesson):
    teacher = lesson["teacher"]
    expect(teacher.get_by_test_id("class-student")).to_have_count(3)
    teacher.get_by_test_id("class-student").nth(0).get_by_test_id("class-student-pick").check()
    teacher.get_by_test_id("class-student").nth(1).get_by_test_id("class-student-pick").check()
    teacher.get_by_test_id("class-compare").click()
    view = teacher.get_by_test_id("class-compare-view")
    expect(view).to_be_visible()
    expect(view).to_contain_text(NAMES[0])
    expect(view.get_by_test_id("class-compare-pane")).to_have_count(2)
    view.get_by_test_id("class-compare-close").click()
    expect(view).to_be_hidden()

    teacher.get_by_test_id("class-anonymise").click()
    expect(teacher.get_by_test_id("class-anonymise")).to_have_attribute("aria-pressed", "true")
    grid = teacher.get_by_test_id("class-grid")
    for number, name in enumerate(NAMES, start=1):
        expect(grid).not_to_contain_text(name)
        expect(grid).to_contain_text(f"Student {number}")
    teacher.get_by_test_id("class-compare").click()
    expect(view).to_be_visible()
    for name in NAMES:
        expect(view).not_to_contain_text(name)
    expect(view).to_contain_text("Student 1")
    for name in NAMES:
        expect(teacher.get_by_test_id("class-table")).not_to_contain_text(name)
    teacher.keyboard.press("Escape")
    expect(view).to_be_hidden()

    teacher.get_by_test_id("class-anonymise").click()  # names back; projector mode hides them again
    expect(grid).to_contain_text(NAMES[0])
    teacher.keyboard.press("p")
    expect(teacher.get_by_test_id("class-anonymise")).to_have_attribute("aria-pressed", "true")
    expect(grid).not_to_contain_text(NAMES[0])


def scatter_rates(teacher: Any) -> list[float]:
    return sorted(teacher.evaluate("() => [...(document.getElementById('class-scatter').data?.[0]?.x ?? [])]"))


def test_the_scatter_shows_one_point_per_student_that_moves_with_their_rate(lesson):
    teacher, students = lesson["teacher"], lesson["students"]
    for student in students:
        play(student)
    teacher.wait_for_function("() => document.getElementById('class-scatter').dataset.points === '3'", timeout=60_000)
    expect(teacher.locator("#class-scatter .scatterlayer .point")).to_have_count(3)
    before = scatter_rates(teacher)
    rate = students[1].get_by_test_id("learning-rate")
    rate.fill("0.1")
    rate.press("Enter")
    teacher.wait_for_function(
        "() => (document.getElementById('class-scatter').data?.[0]?.x ?? []).includes(0.1)", timeout=30_000
    )
    after = scatter_rates(teacher)
    assert after != before and 0.1 in after and len(after) == 3

    teacher.get_by_test_id("class-sort").select_option("loss")  # the lowest training loss first
    teacher.wait_for_function("""() => {
      const cells = [...document.querySelectorAll('[data-testid=class-student-loss]')];
      const losses = cells.map((cell) => Number(cell.dataset.value));
      return losses.length === 3 && losses.every((loss, index) => index === 0 || losses[index - 1] <= loss);
    }""")
    teacher.get_by_test_id("class-needs-help").check()  # only the stuck, diverged and idle students
    teacher.wait_for_function("""() => [...document.querySelectorAll('[data-testid=class-student]')].every((card) =>
      card.hidden === !['stuck', 'diverged', 'idle'].includes(card.dataset.badge))""")


def test_a_challenge_reaches_every_student_and_ending_the_class_tells_them(lesson):
    teacher, students = lesson["teacher"], lesson["students"]
    teacher.locator("summary", has_text="Challenge").click()
    form = teacher.get_by_test_id("class-challenge-form")
    form.get_by_test_id("class-challenge-metric").select_option("test_accuracy")
    form.get_by_test_id("class-challenge-target").fill("95")
    form.get_by_test_id("class-challenge-neurons").fill("8")
    form.get_by_test_id("class-challenge-set").click()
    expect(teacher.get_by_test_id("class-challenge-shown")).to_contain_text("Test accuracy ≥ 95 %")
    for student in students:
        expect(student.get_by_test_id("class-challenge")).to_contain_text("Test accuracy ≥ 95 %")
        expect(student.get_by_test_id("class-challenge")).to_contain_text("at most 8 hidden neurons")

    csv = teacher.evaluate(
        "() => fetch(document.querySelector('[data-testid=class-export]').href).then((r) => r.text())"
    )
    assert csv.splitlines()[0].startswith("name,step,dataset") and all(name in csv for name in NAMES)

    teacher.locator("summary", has_text="End the class").click()
    teacher.get_by_test_id("class-end").click()
    expect(teacher.get_by_test_id("class-open")).to_be_visible()
    for student in students:
        expect(student.get_by_test_id("class-ended")).to_be_visible()
        expect(student.get_by_test_id("class-note")).to_be_hidden()


def test_a_student_cannot_open_the_class_page_or_a_classmates_session(lesson, classroom_server):
    students = lesson["students"]
    students[0].get_by_test_id("share-button").click()
    expect(students[0].get_by_test_id("share-code")).not_to_be_empty()
    expect(students[0].get_by_test_id("class-page-link")).to_be_hidden()  # the teacher's link alone
    other = session_id(students[1])
    answer = students[0].evaluate(
        "(id) => fetch(`/api/v1/sessions/${id}`).then((response) => response.status)", other
    )
    assert answer in (403, 404)
    view = students[0].evaluate(
        "(code) => fetch(`/api/v1/classes/${code}`).then((r) => r.json().then((body) => [r.status, body.code]))",
        lesson["code"],
    )
    assert view == [403, "teacher_only"]
    response = students[0].goto(f"{classroom_server}/class")
    assert response is not None and response.status == 403
    expect(students[0].get_by_test_id("class-forbidden")).to_be_visible()
    expect(students[0].get_by_test_id("class-grid")).to_have_count(0)


def test_a_wrong_code_or_an_empty_name_is_explained_on_the_join_page(browse, lesson):
    page = browse("/join#lang=id")
    page.wait_for_function("() => document.documentElement.lang === 'id'")
    page.get_by_test_id("join-code").fill("AAAAAA")
    page.get_by_test_id("join-name").fill("Dewi")
    page.get_by_test_id("join-button").click()
    expect(page.get_by_test_id("join-problem")).to_contain_text("Tidak ada kelas dengan kode ini")
    page.get_by_test_id("join-code").fill(lesson["code"].lower())
    page.get_by_test_id("join-name").fill("   ")
    page.get_by_test_id("join-button").click()
    expect(page.get_by_test_id("join-problem")).to_contain_text("nama depan atau nama panggilan, 1 sampai 24")
    expect(page.get_by_test_id("join-name")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "class-join-refused-1366-id")


def test_the_class_page_in_the_rooms_of_a_lesson(lesson, browse):
    """Screenshots of /class with three students training: a laptop and an old projector, in
    English and in Indonesian, and projector mode on a classroom screen; and /join. No CSP
    violation and no serious accessibility problem on either page."""
    teacher, students = lesson["teacher"], lesson["students"]
    for student, rate in zip(students, ("0.01", "0.3", "10"), strict=True):  # three points apart on the scatter
        student.get_by_test_id("learning-rate").fill(rate)
        student.get_by_test_id("learning-rate").press("Enter")
        play(student)
    teacher.wait_for_function("() => document.getElementById('class-scatter').dataset.points === '3'", timeout=60_000)
    for name in NAMES[:2]:
        card(teacher, name).get_by_test_id("class-student-pick").check()
    teacher.get_by_test_id("class-compare").click()
    expect(teacher.get_by_test_id("class-compare-view").locator(".differs")).not_to_have_count(0)
    screenshot(teacher, "class-compare-1366-en")
    assert serious_violations(teacher) == []  # axe-core, as the lab's own pages (test_accessibility.py)
    teacher.keyboard.press("Escape")
    for width, height in ((1366, 768), (1024, 768)):
        teacher.set_viewport_size({"width": width, "height": height})
        for lang in ("en", "id"):
            teacher.get_by_test_id("language-select").select_option(lang)
            teacher.wait_for_function("(lang) => document.documentElement.lang === lang", arg=lang)
            expect(card(teacher, NAMES[0])).to_contain_text("Langkah" if lang == "id" else "Step")
            screenshot(teacher, f"class-page-{width}-{lang}")
    teacher.get_by_test_id("language-select").select_option("en")
    teacher.get_by_test_id("class-table-toggle").click()  # the table, for the eye too
    expect(teacher.get_by_test_id("class-table").locator("tbody tr")).to_have_count(3)
    expect(teacher.get_by_test_id("class-table")).to_contain_text(NAMES[0])
    screenshot(teacher, "class-page-table-1024-en")
    teacher.get_by_test_id("class-table-toggle").click()
    assert teacher.evaluate("() => document.documentElement.scrollWidth") <= 1024  # nothing wider than the room
    teacher.set_viewport_size({"width": 1920, "height": 1080})
    teacher.get_by_test_id("projector-toggle").click()
    expect(teacher.get_by_test_id("class-grid")).not_to_contain_text(NAMES[0])
    screenshot(teacher, "class-page-1920-projector-en")
    join = browse(f"/join?code={lesson['code']}")
    expect(join.get_by_test_id("join-name")).to_be_focused()
    screenshot(join, "class-join-1366-en")
    for page in (teacher, join, *students):
        assert page.evaluate("() => window.__cspViolations") == []
    assert serious_violations(teacher) == []
    assert serious_violations(join) == []
