"""The class follows the teacher (issue 20, point 4) against a real uvicorn in classroom mode:
the teacher moves the class to a lesson step (checked against the lesson files), every student's
page hears it, students report the step's task met, and the class view and export say who did.
The tests share one server and one class of three students."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from server_helpers import client_from
from test_classes import Lesson, pages, view

from backprop_lab.server.wire.class_models import JoinStatusOut

pytestmark = pytest.mark.anyio
STEP = {"id": "neurons", "step": 2}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def lesson(classroom, teacher) -> Iterator[Lesson]:  # type: ignore[no-untyped-def]
    """The class open, three students joined, each with one session."""
    code = teacher.post("/api/v1/classes").json()["code"]
    with contextlib.ExitStack() as stack:
        students = [stack.enter_context(client_from(classroom.base, f"127.0.0.{n + 2}")) for n in range(3)]
        sessions = []
        for student, name in zip(students, ("Ayu", "Budi", "Citra"), strict=True):
            assert student.post("/api/v1/join", json={"code": code, "name": name}).status_code == 200
            created = student.post("/api/v1/sessions", json={"dataset": "circle", "samples": 100})
            assert created.status_code == 201, created.text
            sessions.append(created.json()["id"])
        yield Lesson(code, students, sessions)


def move(teacher: httpx.Client, code: str, step: dict[str, Any] | None) -> httpx.Response:
    return teacher.patch(f"/api/v1/classes/{code}", json={"lesson": step})


def report(student: httpx.Client, step: dict[str, Any], done: bool = True) -> httpx.Response:
    return student.post("/api/v1/join/progress", json={"lesson": step["id"], "step": step["step"], "done": done})


def refused_field(response: httpx.Response) -> str:
    assert response.status_code == 422, response.text
    return str(response.json()["detail"][0]["field"])


async def test_moving_the_class_reaches_every_students_page_and_their_status(classroom, teacher, lesson):
    async with pages(classroom, lesson) as readers:
        moved = move(teacher, lesson.code, STEP)
        assert moved.status_code == 200 and moved.json()["lesson"] == STEP
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["lesson"] == STEP, "the lesson step")
        status = lesson.students[1].get("/api/v1/join")
        assert JoinStatusOut.model_validate(status.json()).lesson is not None and status.json()["lesson"] == STEP
        assert move(teacher, lesson.code, None).json()["lesson"] is None
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["lesson"] is None, "the step lifted")
    assert view(teacher, lesson.code)["lesson"] is None


def test_a_lesson_step_not_in_the_catalogue_is_refused_naming_the_field(teacher, lesson):
    assert refused_field(move(teacher, lesson.code, {"id": "alchemy", "step": 1})) == "lesson.id"
    past = move(teacher, lesson.code, {"id": "neurons", "step": 99})
    assert refused_field(past) == "lesson.step" and past.json()["detail"][0]["code"] == "unknown_step"
    assert refused_field(move(teacher, lesson.code, {"id": "neurons", "step": 0})) == "lesson.step"
    assert refused_field(report(lesson.students[0], {"id": "alchemy", "step": 1})) == "lesson"
    assert refused_field(report(lesson.students[0], {"id": "neurons", "step": 99})) == "step"
    assert move(lesson.students[0], lesson.code, STEP).status_code == 403
    assert view(teacher, lesson.code)["lesson"] is None  # nothing refused moved the class


def test_the_view_and_export_say_who_reported_the_steps_task_done(teacher, lesson):
    move(teacher, lesson.code, STEP)
    assert not any(student["task_done"] for student in view(teacher, lesson.code)["students"])
    assert report(lesson.students[0], STEP).status_code == 204
    assert report(lesson.students[2], {"id": "neurons", "step": 1}).status_code == 204  # another step
    done = {student["number"]: student["task_done"] for student in view(teacher, lesson.code)["students"]}
    assert done == {1: True, 2: False, 3: False}
    exported = teacher.get(f"/api/v1/classes/{lesson.code}/export.csv")
    rows = {row["name"]: row["task_done"] for row in csv.DictReader(io.StringIO(exported.text))}
    assert rows == {"Ayu": "true", "Budi": "false", "Citra": "false"}
    move(teacher, lesson.code, {"id": "neurons", "step": 1})  # Citra did this one already
    done = {student["number"]: student["task_done"] for student in view(teacher, lesson.code)["students"]}
    assert done == {1: False, 2: False, 3: True}
    assert report(lesson.students[2], {"id": "neurons", "step": 1}, done=False).status_code == 204
    assert not any(student["task_done"] for student in view(teacher, lesson.code)["students"])


def test_someone_not_in_the_class_cannot_report(classroom, teacher, lesson):
    step = {"id": "neurons", "step": 3}  # no student reported this one
    move(teacher, lesson.code, step)
    with client_from(classroom.base, "127.0.0.9") as outsider:
        refused = report(outsider, step)
        assert refused.status_code == 404 and refused.json()["code"] == "not_in_class"
    assert report(teacher, step).json()["code"] == "not_in_class"
    assert not any(student["task_done"] for student in view(teacher, lesson.code)["students"])
