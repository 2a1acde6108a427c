"""The class (issue 19) against a real uvicorn in classroom mode: a teacher and three students
(separate cookies, separate addresses). The teacher opens a class, the students join with its
code and a name, and the teacher sees every student's session live, pauses and resumes them all,
pushes a config, anonymises, sets a challenge, exports, and ends the class, which forgets the
names. The tests share one server and one class, in the order a lesson goes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import csv
import io
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from server_helpers import TEACHER_KEY, Reader, client_from, reading
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.classroom.identity import COOKIE
from backprop_lab.server.wire.class_models import ClassOut, JoinStatusOut

pytestmark = pytest.mark.anyio
NAMES = ("Ayu", "Budi", "=HYPERLINK(\"http://x\")")  # the third a spreadsheet would run, unescaped
SESSION = {"dataset": "circle", "samples": 100, "hidden_layers": [4], "learning_rate": 0.03}
SECONDS = 20.0  # for anything to show, on two cores shared with other test processes


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Lesson:
    code: str
    students: list[httpx.Client]
    sessions: list[str]  # each student's session, in joining order

    def cookie(self, number: int) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.students[number].cookies[COOKIE]}"}


@pytest.fixture(scope="module")
def lesson(classroom, teacher) -> Iterator[Lesson]:  # type: ignore[no-untyped-def]
    """The class open, three students joined (in order), each with one session."""
    opened = teacher.post("/api/v1/classes")
    assert opened.status_code == 201, opened.text
    code = opened.json()["code"]
    with contextlib.ExitStack() as stack:
        students = [stack.enter_context(client_from(classroom.base, f"127.0.0.{n + 2}")) for n in range(3)]
        sessions = []
        for student, name in zip(students, NAMES, strict=True):
            assert student.post("/api/v1/join", json={"code": code, "name": name}).status_code == 200
            created = student.post("/api/v1/sessions", json=SESSION)
            assert created.status_code == 201, created.text
            sessions.append(created.json()["id"])
        yield Lesson(code, students, sessions)


@contextlib.asynccontextmanager
async def pages(classroom, lesson: Lesson) -> AsyncIterator[list[Reader]]:  # type: ignore[no-untyped-def]
    """Every student's page open on their session (a session nobody's page holds pauses)."""
    async with contextlib.AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(reading(f"{classroom.ws}/ws/sessions/{sid}", classroom.base,
                                                           lesson.cookie(n)))
                   for n, sid in enumerate(lesson.sessions)]
        for reader in readers:
            await reader.until(lambda m: m["type"] == "hello", "hello")
        yield readers


def view(teacher: httpx.Client, code: str) -> dict[str, Any]:
    response = teacher.get(f"/api/v1/classes/{code}")
    assert response.status_code == 200, response.text
    ClassOut.model_validate(response.json())
    return response.json()


def poll(teacher: httpx.Client, code: str, ready: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        current = view(teacher, code)
        if ready(current):
            return current
        time.sleep(0.05)
    raise AssertionError(f"the class view never showed {what}: {current}")


def steps(current: dict[str, Any]) -> list[int]:
    return [student["session"]["step"] for student in current["students"]]


async def play_all(readers: list[Reader]) -> None:
    for reader in readers:
        await reader.send({"type": "speed", "steps_per_second": 200})
        await reader.send({"type": "play"})


# --- joining ---------------------------------------------------------------------------------
def test_opening_again_gives_the_open_class(teacher, lesson):
    again = teacher.post("/api/v1/classes")
    assert again.status_code == 200 and again.json()["code"] == lesson.code
    assert again.json()["spoken"] == f"{lesson.code[:3]} {lesson.code[3:]}"
    assert again.json()["join_url"].endswith(f"/join?code={lesson.code}")


def test_joining_checks_the_code_and_the_name(classroom, teacher, lesson):
    with client_from(classroom.base, "127.0.0.5") as newcomer:
        for name in ("", "   ", "x" * 25, "bell\x07"):
            refused = newcomer.post("/api/v1/join", json={"code": lesson.code, "name": name})
            assert refused.status_code == 422 and refused.json()["detail"][0]["field"] == "name", refused.text
        unknown = newcomer.post("/api/v1/join", json={"code": "XXXXXX", "name": "Citra"})
        assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_class"
        assert newcomer.get("/api/v1/join").json()["code"] == "not_in_class"
    answer = teacher.post("/api/v1/join", json={"code": lesson.code, "name": "Teacher"})
    assert answer.status_code == 409 and answer.json()["code"] == "teacher_cannot_join"


def test_joining_again_keeps_the_students_place_and_takes_the_new_name(lesson):
    second = lesson.students[1]
    typed = f" {lesson.code[:3].lower()}-{lesson.code[3:]} "
    again = second.post("/api/v1/join", json={"code": typed, "name": "  Budi   S. "})
    assert again.status_code == 200 and again.json()["number"] == 2 and again.json()["name"] == "Budi S."
    status = second.get("/api/v1/join")
    assert status.status_code == 200
    JoinStatusOut.model_validate(status.json())
    assert status.json() | {"paused": False} == {"code": lesson.code, "spoken": status.json()["spoken"],
                                                 "name": "Budi S.", "number": 2, "paused": False,
                                                 "challenge": None, "lesson": None}
    assert second.post("/api/v1/join", json={"code": lesson.code, "name": NAMES[1]}).status_code == 200


async def test_a_student_is_refused_every_teacher_route_and_the_class_socket(classroom, lesson):
    student = lesson.students[0]
    code = lesson.code
    for method, path, body in (("POST", "/api/v1/classes", None), ("GET", f"/api/v1/classes/{code}", None),
                               ("PATCH", f"/api/v1/classes/{code}", {"anonymous": False}),
                               ("POST", f"/api/v1/classes/{code}/pause", None),
                               ("POST", f"/api/v1/classes/{code}/resume", None),
                               ("POST", f"/api/v1/classes/{code}/config", {"learning_rate": 3}),
                               ("GET", f"/api/v1/classes/{code}/export.csv", None),
                               ("DELETE", f"/api/v1/classes/{code}", None)):
        answer = student.request(method, path, json=body)
        assert answer.status_code == 403 and answer.json()["code"] == "teacher_only", (method, path, answer.text)
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{classroom.ws}/ws/classes/{code}", origin=classroom.base, additional_headers=lesson.cookie(0))
    assert refused.value.response.status_code == 403


# --- watching --------------------------------------------------------------------------------
async def test_the_class_view_shows_every_students_session_live_with_a_thumbnail(classroom, teacher, lesson):
    first = view(teacher, lesson.code)
    assert [s["number"] for s in first["students"]] == [1, 2, 3]
    assert all(s["name"] is None for s in first["students"]), "anonymous by default"
    assert {s["key"] for s in first["students"]} == {"st_1", "st_2", "st_3"}
    assert [s["session"]["id"] for s in first["students"]] == lesson.sessions
    async with pages(classroom, lesson) as readers:
        for reader in readers:
            hello_then_class = await reader.until(lambda m: m["type"] == "class", "class message")
            assert hello_then_class["paused"] is False and hello_then_class["ended"] is False
        assert [m["type"] for m in readers[0].messages].index("hello") < \
            [m["type"] for m in readers[0].messages].index("class")
        await play_all(readers)
        started = poll(teacher, lesson.code, lambda v: min(steps(v)) > 0, "every student training")
        later = poll(teacher, lesson.code, lambda v: all(a > b for a, b in zip(steps(v), steps(started),
                                                                              strict=True)), "steps advancing")
        for student in later["students"]:
            session = student["session"]
            assert student["online"] and session["state"] == "running"
            assert session["config"]["dataset"] == "circle" and session["config"]["hidden_layers"] == [4]
            assert session["config"]["problem"] == "classification"
            assert session["badge"] in ("learning", "converged", "stuck")
            assert 0 < len(session["losses"]) <= 60
            thumbnail = session["thumbnail"]
            assert thumbnail["kind"] == "classification" and thumbnail["size"] <= 32
            assert len(base64.b64decode(thumbnail["values"])) == thumbnail["size"] ** 2


async def test_the_class_socket_sends_the_view_at_least_twice_a_second(classroom, teacher, lesson):
    bearer = {"Authorization": f"Bearer {TEACHER_KEY}"}
    async with pages(classroom, lesson) as readers:
        await play_all(readers)
        async with reading(f"{classroom.ws}/ws/classes/{lesson.code}", classroom.base, bearer) as page:
            await page.until(lambda m: m["type"] == "class", "the first view")
            started = time.monotonic()
            await asyncio.sleep(2.0)
            views = [m for m in page.messages if m["type"] == "class"]
            elapsed = time.monotonic() - started
    assert len(views) - 1 >= 2 * elapsed, f"{len(views)} views in {elapsed:.1f} s"
    for student in views[-1]["students"]:
        assert student["session"]["thumbnail"] is not None
    seen = [[s["session"]["step"] for s in v["students"]] for v in views]
    assert seen[-1] != seen[0], "the views did not follow the training"


# --- teacher controls ------------------------------------------------------------------------
async def test_pause_stops_every_student_and_refuses_their_training_until_resumed(classroom, teacher, lesson):
    async with pages(classroom, lesson) as readers:
        await play_all(readers)
        poll(teacher, lesson.code, lambda v: all(s["session"]["state"] == "running" for s in v["students"]),
             "everyone running")
        paused = teacher.post(f"/api/v1/classes/{lesson.code}/pause")
        assert paused.status_code == 200 and paused.json()["paused"] is True
        stopped = poll(teacher, lesson.code, lambda v: all(s["session"]["state"] == "paused" for s in v["students"]),
                       "everyone paused")
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["paused"], "the pause")
            await reader.send({"type": "play", "id": "again"})
            refused = await reader.until(lambda m: m.get("reply_to") == "again", "an answer to play")
            assert refused["type"] == "error" and refused["code"] == "class_paused"
            await reader.send({"type": "step", "steps": 5, "id": "one"})
            assert (await reader.until(lambda m: m.get("reply_to") == "one", "an answer to step"))["code"] == \
                "class_paused"
        rest = lesson.students[0].post(f"/api/v1/sessions/{lesson.sessions[0]}/step", json={"steps": 5})
        assert rest.status_code == 409 and rest.json()["code"] == "class_paused"
        job = lesson.students[1].post("/api/v1/jobs", json={"kind": "training", "session_id": lesson.sessions[1],
                                                             "steps": 100})
        assert job.status_code == 409 and job.json()["code"] == "class_paused"
        await asyncio.sleep(0.5)
        assert steps(view(teacher, lesson.code)) == steps(stopped), "a paused student trained"
        resumed = teacher.post(f"/api/v1/classes/{lesson.code}/resume")
        assert resumed.status_code == 200 and resumed.json()["paused"] is False
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and not m["paused"], "the resume")
        assert all(s["session"]["state"] == "paused" for s in view(teacher, lesson.code)["students"]), \
            "resuming played by itself"
        await play_all(readers)
        poll(teacher, lesson.code, lambda v: all(a > b for a, b in zip(steps(v), steps(stopped), strict=True)),
             "training again after the resume")


async def test_a_pushed_config_reaches_every_students_page(classroom, teacher, lesson):
    async with pages(classroom, lesson) as readers:
        pushed = teacher.post(f"/api/v1/classes/{lesson.code}/config", json={"learning_rate": 3})
        assert pushed.status_code == 200 and pushed.json() == {"applied": 3, "refused": []}
        for reader in readers:
            await reader.until(lambda m: m["type"] == "config" and m["config"]["learning_rate"] == 3, "the config")
    assert all(s["session"]["config"]["learning_rate"] == 3 for s in view(teacher, lesson.code)["students"])
    bad = teacher.post(f"/api/v1/classes/{lesson.code}/config", json={"learning_rate": -1})
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "learning_rate"


def test_a_session_that_cannot_take_a_pushed_config_is_named_with_the_words_of_its_refusal(teacher, lesson):
    student = lesson.students[2]
    regression = student.post("/api/v1/sessions", json={"dataset": "plane"})
    assert regression.status_code == 201, regression.text
    try:
        pushed = teacher.post(f"/api/v1/classes/{lesson.code}/config", json={"loss": "cross_entropy"})
        assert pushed.status_code == 200, pushed.text
        key = view(teacher, lesson.code)["students"][2]["key"]
        assert pushed.json()["applied"] == 3 and pushed.json()["refused"] == [{
            "student": key, "code": "needs_classification", "field": "loss", "params": {"dataset": "plane"},
            "detail": "loss: cross_entropy needs a classification data set; this one is regression, use mse",
        }]
    finally:
        student.delete(f"/api/v1/sessions/{regression.json()['id']}")


async def test_anonymising_hides_the_names_in_the_view_and_on_the_class_socket(classroom, teacher, lesson):
    shown = teacher.patch(f"/api/v1/classes/{lesson.code}", json={"anonymous": False})
    assert shown.status_code == 200 and [s["name"] for s in shown.json()["students"]] == list(NAMES)
    bearer = {"Authorization": f"Bearer {TEACHER_KEY}"}
    async with reading(f"{classroom.ws}/ws/classes/{lesson.code}", classroom.base, bearer) as page:
        await page.until(lambda m: [s["name"] for s in m["students"]] == list(NAMES), "the names")
        hidden = teacher.patch(f"/api/v1/classes/{lesson.code}", json={"anonymous": True})
        assert hidden.status_code == 200 and all(s["name"] is None for s in hidden.json()["students"])
        await page.until(lambda m: all(s["name"] is None for s in m["students"]), "the names hidden")
        for name in NAMES:
            assert name not in json.dumps(page.messages[-1])


async def test_a_challenge_reaches_the_students_and_the_view_says_who_met_it(classroom, teacher, lesson):
    async with pages(classroom, lesson) as readers:
        easy = {"metric": "train_loss", "target": 100.0, "dataset": "circle", "max_hidden_neurons": 8}
        set_ = teacher.patch(f"/api/v1/classes/{lesson.code}", json={"challenge": easy})
        assert set_.status_code == 200 and set_.json()["challenge"] == easy
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["challenge"] == easy, "the challenge")
        assert all(s["session"]["reached_challenge"] for s in set_.json()["students"])
        too_small = teacher.patch(f"/api/v1/classes/{lesson.code}", json={"challenge": {**easy,
                                                                                        "max_hidden_neurons": 3}})
        assert not any(s["session"]["reached_challenge"] for s in too_small.json()["students"])
        wrong = teacher.patch(f"/api/v1/classes/{lesson.code}", json={"challenge": {"metric": "test_accuracy",
                                                                                    "target": 95}})
        assert wrong.status_code == 422
        ended = teacher.patch(f"/api/v1/classes/{lesson.code}", json={"challenge": None})
        assert ended.json()["challenge"] is None
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["challenge"] is None, "the challenge's end")


def test_the_export_has_a_row_per_student_and_no_formula(teacher, lesson):
    answer = teacher.get(f"/api/v1/classes/{lesson.code}/export.csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    assert header[0] == "name" and header[-3:] == ["badge", "reached_challenge", "task_done"] and len(rows) == 3
    assert [row[0] for row in rows] == ["Ayu", "Budi", "'" + NAMES[2]], "names in order, the formula made inert"
    assert all(row[header.index("dataset")] == "circle" and float(row[header.index("learning_rate")]) == 3
               for row in rows)


# --- the end ---------------------------------------------------------------------------------
async def test_ending_the_class_tells_the_students_and_forgets_the_names(classroom, teacher, lesson):
    bearer = {"Authorization": f"Bearer {TEACHER_KEY}"}
    async with pages(classroom, lesson) as readers, \
            reading(f"{classroom.ws}/ws/classes/{lesson.code}", classroom.base, bearer) as page:
        await page.until(lambda m: m["type"] == "class", "the first view")
        assert teacher.delete(f"/api/v1/classes/{lesson.code}").status_code == 204
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["ended"], "the end")
        last = await page.until(lambda m: m.get("ended") is True, "the class page told")
        assert last["students"] == []
        await asyncio.wait_for(page.ws.wait_closed(), SECONDS)
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{classroom.ws}/ws/classes/{lesson.code}", origin=classroom.base, additional_headers=bearer)
    assert refused.value.response.status_code == 404
    gone = teacher.get(f"/api/v1/classes/{lesson.code}")
    assert gone.status_code == 404 and gone.json()["code"] == "unknown_class"
    assert lesson.students[0].get("/api/v1/join").json()["code"] == "not_in_class"
    registry = classroom.lab.classes
    assert registry.current is None
    reopened = teacher.post("/api/v1/classes")
    assert reopened.status_code == 201 and reopened.json()["students"] == []
    assert not any(name in repr(vars(registry.current)) for name in NAMES)
    assert teacher.delete(f"/api/v1/classes/{reopened.json()['code']}").status_code == 204
    # their sessions go on as their own, no longer paused by any class
    assert lesson.students[0].post(f"/api/v1/sessions/{lesson.sessions[0]}/step", json={"steps": 3}).status_code \
        == 200
