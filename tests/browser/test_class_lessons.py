"""The class follows the teacher (issue 20, point 4) in the browser: the teacher, on the class
page, moves three students to a lesson step; every student's page goes there; one student does
the step's task (selecting a neuron, lesson 1); the class page marks who did it and counts them.
Moving the class on moves the lesson panels in place. Screenshots of the class page with the
lesson step and the done marks are kept under test-output/screenshots/ to be looked at."""

from __future__ import annotations

from typing import Any

from browser_helpers import screenshot, wait_connected
from playwright.sync_api import expect
from test_class_page import NAMES, browse, card, lesson  # noqa: F401 (fixtures)


def move_class(teacher: Any, step: str) -> None:
    teacher.get_by_test_id("class-lesson-step").select_option(step)
    teacher.get_by_test_id("class-move-to-step").click()


def test_the_teacher_moves_the_class_to_a_step_and_sees_who_did_its_task(lesson):  # noqa: F811
    teacher, students = lesson["teacher"], lesson["students"]
    expect(teacher.get_by_test_id("class-lesson-shown")).to_be_hidden()
    move_class(teacher, "neurons/1")
    for student in students:  # each page follows, from the lab's own page to the step's
        student.wait_for_url("**/lessons/neurons/1*")
        wait_connected(student)
        expect(student.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "1")
        expect(student.get_by_test_id("lesson-task-done")).to_have_count(0)
    shown = teacher.get_by_test_id("class-lesson-shown")
    expect(shown).to_contain_text("Neurons, weights and biases")
    expect(shown).to_have_attribute("data-done", "0")

    ayu = students[0]
    ayu.locator(".neuron-hit[data-column='1']").first.click()  # the step's task: select a neuron
    expect(ayu.get_by_test_id("lesson-task-done")).to_be_visible()
    expect(card(teacher, NAMES[0]).get_by_test_id("class-student-task-done")).to_be_visible()
    expect(shown).to_have_attribute("data-done", "1")
    expect(shown).to_contain_text("1 of 3")
    for name in NAMES[1:]:
        expect(card(teacher, name).get_by_test_id("class-student-task-done")).to_have_count(0)
    teacher.get_by_test_id("class-table-toggle").click()
    expect(teacher.get_by_test_id("class-table").locator("tr", has_text=NAMES[0])).to_contain_text("done ✓")
    teacher.get_by_test_id("class-table-toggle").click()
    for lang in ("en", "id"):
        teacher.get_by_test_id("language-select").select_option(lang)
        teacher.wait_for_function("(lang) => document.documentElement.lang === lang", arg=lang)
        expect(shown).to_contain_text("1 dari 3" if lang == "id" else "1 of 3")
        expect(card(teacher, NAMES[0]).get_by_test_id("class-student-task-done")).to_have_text(
            "selesai ✓" if lang == "id" else "done ✓")
        screenshot(teacher, f"class-lesson-1366-{lang}")
    teacher.get_by_test_id("language-select").select_option("en")

    move_class(teacher, "neurons/2")  # within the same lesson: the panels move in place
    for student in students:
        student.wait_for_url("**/lessons/neurons/2*")
        expect(student.get_by_test_id("lesson-progress")).to_have_attribute("data-step", "2")
    expect(shown).to_have_attribute("data-done", "0")
    expect(teacher.get_by_test_id("class-student-task-done")).to_have_count(0)
