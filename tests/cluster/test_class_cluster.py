"""The teacher's class over two workers (issue 21), each a real `backprop-lab` process sharing a
real redis-server, in classroom mode: the class opened on worker 1; student A joins there and
trains on worker 1, student B joins through worker 2 and trains there. The class page on either
worker sees both students live, pausing stops both, a pushed config reaches both, and ending the
class leaves none of its names in Redis. The tests share the workers and the class, in the order
a lesson goes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis
import server_helpers
from cluster_helpers import Worker, free_port, start_worker
from server_helpers import Reader

from backprop_lab.server.classes.view import VIEW_SECONDS
from backprop_lab.server.classroom.identity import COOKIE
from backprop_lab.server.cluster.classes import ANSWER_SECONDS
from backprop_lab.server.wire.class_models import ClassOut

pytestmark = pytest.mark.anyio
TEACHER_KEY = "a-teacher-key-for-the-cluster-tests"
SESSION = {"dataset": "circle", "samples": 100, "hidden_layers": [4], "learning_rate": 0.03}
SECONDS = 30.0  # for anything to show, on two cores shared with other test processes
reading = functools.partial(server_helpers.reading, seconds=SECONDS)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def pair(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Worker]]:
    """Workers w1 and w2 in classroom mode, sharing `redis_url`."""
    folder = tmp_path_factory.mktemp("class-cluster")
    started: list[Worker] = []
    try:
        for name in ("w1", "w2"):
            started.append(start_worker(name, free_port(), redis_url, str(folder / f"{name}.db"), classroom=True,
                                        teacher_key=TEACHER_KEY))
        yield started
    finally:
        for worker in started:
            worker.stop()


def client(base: str, address: str, **options: Any) -> httpx.Client:
    """An HTTP client from `address` (127.0.0.x), keeping its cookies like a browser."""
    return httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=address), timeout=60, **options)


@dataclass
class Student:
    worker: Worker
    http: httpx.Client
    session: str

    @property
    def cookie(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.http.cookies[COOKIE]}"}

    def read(self) -> dict[str, Any]:
        answer = self.http.get(f"/api/v1/sessions/{self.session}")
        assert answer.status_code == 200, answer.text
        return answer.json()


@dataclass
class Lesson:
    code: str
    teachers: list[httpx.Client]  # the teacher's client on each worker
    students: list[Student]  # A on w1, B on w2


@pytest.fixture(scope="module")
def lesson(pair: list[Worker]) -> Iterator[Lesson]:
    with contextlib.ExitStack() as stack:
        teachers = [stack.enter_context(client(worker.base, "127.0.0.1",
                                               headers={"Authorization": f"Bearer {TEACHER_KEY}"}))
                    for worker in pair]
        opened = teachers[0].post("/api/v1/classes")
        assert opened.status_code == 201, opened.text
        code = opened.json()["code"]
        again = teachers[1].post("/api/v1/classes")
        assert again.status_code == 200 and again.json()["code"] == code, "one class, whichever worker is asked"
        students = []
        for number, (worker, name) in enumerate(zip(pair, ("Ayu", "Budi"), strict=True), start=1):
            http = stack.enter_context(client(worker.base, f"127.0.0.{number + 1}"))
            joined = http.post("/api/v1/join", json={"code": code, "name": name})
            assert joined.status_code == 200 and joined.json()["number"] == number, joined.text
            created = http.post("/api/v1/sessions", json=SESSION)
            assert created.status_code == 201, created.text
            assert created.json()["id"].startswith(f"{worker.name}.")
            students.append(Student(worker, http, created.json()["id"]))
        yield Lesson(code, teachers, students)


@contextlib.asynccontextmanager
async def pages(lesson: Lesson) -> AsyncIterator[list[Reader]]:
    """Each student's page open on their session, on their own worker."""
    async with contextlib.AsyncExitStack() as stack:
        readers = [await stack.enter_async_context(reading(f"{s.worker.ws}/ws/sessions/{s.session}", s.worker.base,
                                                           s.cookie))
                   for s in lesson.students]
        for reader in readers:
            await reader.until(lambda m: m["type"] == "hello", "hello")
        yield readers


async def play_all(readers: list[Reader]) -> None:
    for reader in readers:
        await reader.send({"type": "speed", "steps_per_second": 200})
        await reader.send({"type": "play"})


def view(teacher: httpx.Client, code: str) -> dict[str, Any]:
    response = teacher.get(f"/api/v1/classes/{code}")
    assert response.status_code == 200, response.text
    ClassOut.model_validate(response.json())
    return response.json()


def steps(current: dict[str, Any]) -> list[int | None]:
    return [student["session"]["step"] if student["session"] else None for student in current["students"]]


def advancing(views: Callable[[], dict[str, Any]], what: str) -> dict[str, Any]:
    """Views until every student's step has grown past the first view's: the view is live."""
    first = steps(views())
    deadline = time.monotonic() + SECONDS
    while time.monotonic() < deadline:
        current = views()
        if all(now is not None and then is not None and now > then for now, then in zip(steps(current), first,
                                                                                         strict=True)):
            return current
        time.sleep(0.05)
    raise AssertionError(f"{what}: the steps never advanced past {first}")


async def test_the_class_page_on_either_worker_sees_both_students_live(lesson: Lesson) -> None:
    sessions = [student.session for student in lesson.students]
    async with pages(lesson) as readers:
        await play_all(readers)
        for teacher in lesson.teachers:
            current = await asyncio.to_thread(advancing, lambda t=teacher: view(t, lesson.code), "REST view")
            assert [s["number"] for s in current["students"]] == [1, 2]
            assert [s["session"]["id"] for s in current["students"]] == sessions
            assert all(s["online"] for s in current["students"])
        worker = lesson.students[1].worker  # the class socket on the worker that does not hold the class's start
        headers = {"Authorization": f"Bearer {TEACHER_KEY}"}
        async with reading(f"{worker.ws}/ws/classes/{lesson.code}", worker.base, headers) as page:
            first = await page.until(lambda m: m["type"] == "class" and all(steps(m)), "a view with both")
            assert [s["session"]["id"] for s in first["students"]] == sessions
            await page.until(lambda m: m["type"] == "class" and all(
                now is not None and now > then for now, then in zip(steps(m), steps(first), strict=True)),
                "both students' steps advancing on the class socket")


async def test_pausing_the_class_stops_the_students_on_both_workers(lesson: Lesson) -> None:
    async with pages(lesson) as readers:
        await play_all(readers)
        for student in lesson.students:
            await asyncio.to_thread(lambda s=student: _until(lambda: s.read()["state"] == "running", "playing"))
        paused = lesson.teachers[1].post(f"/api/v1/classes/{lesson.code}/pause")
        assert paused.status_code == 200 and paused.json()["paused"] is True, paused.text
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["paused"] is True, "the class paused notice")
        before = [student.read() for student in lesson.students]
        assert [read["state"] for read in before] == ["paused", "paused"]
        await asyncio.sleep(0.5)  # long enough for a playing session to take dozens of steps
        assert [student.read()["step"] for student in lesson.students] == [read["step"] for read in before]
        for reader, student in zip(readers, lesson.students, strict=True):
            await reader.send({"type": "play", "id": "again"})
            refused = await reader.until(lambda m: m.get("reply_to") == "again", "an answer to play")
            assert refused["type"] == "error" and refused["code"] == "class_paused", student.worker.name
            rest = student.http.post(f"/api/v1/sessions/{student.session}/step", json={"steps": 5})
            assert rest.status_code == 409 and rest.json()["code"] == "class_paused", student.worker.name
        resumed = lesson.teachers[0].post(f"/api/v1/classes/{lesson.code}/resume")
        assert resumed.status_code == 200 and resumed.json()["paused"] is False
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["paused"] is False, "the class resumed notice")
        for student in lesson.students:
            rest = student.http.post(f"/api/v1/sessions/{student.session}/step", json={"steps": 5})
            assert rest.status_code == 200, (student.worker.name, rest.text)


def test_a_pushed_config_reaches_the_students_on_both_workers(lesson: Lesson) -> None:
    pushed = lesson.teachers[0].post(f"/api/v1/classes/{lesson.code}/config", json={"learning_rate": 0.3})
    assert pushed.status_code == 200 and pushed.json() == {"applied": 2, "refused": []}, pushed.text
    assert [student.read()["config"]["learning_rate"] for student in lesson.students] == [0.3, 0.3]
    student = lesson.students[1]
    regression = student.http.post("/api/v1/sessions", json={"dataset": "plane"})
    assert regression.status_code == 201, regression.text
    try:
        pushed = lesson.teachers[0].post(f"/api/v1/classes/{lesson.code}/config", json={"loss": "cross_entropy"})
        assert pushed.status_code == 200, pushed.text
        assert pushed.json()["applied"] == 2 and pushed.json()["refused"] == [{
            "student": "st_2", "code": "needs_classification", "field": "loss", "params": {"dataset": "plane"},
            "detail": "loss: cross_entropy needs a classification data set; this one is regression, use mse",
        }], "worker 2's refusal, heard on worker 1"
    finally:
        student.http.delete(f"/api/v1/sessions/{regression.json()['id']}")


async def test_a_lesson_step_and_a_challenge_reach_both_workers_and_progress_comes_back(lesson: Lesson) -> None:
    step = {"id": "neurons", "step": 2}
    challenge = {"metric": "test_accuracy", "target": 0.9, "dataset": None, "max_hidden_neurons": None}
    async with pages(lesson) as readers:
        moved = lesson.teachers[1].patch(f"/api/v1/classes/{lesson.code}", json={"lesson": step})
        assert moved.status_code == 200, moved.text
        set_goal = lesson.teachers[0].patch(f"/api/v1/classes/{lesson.code}", json={"challenge": challenge})
        assert set_goal.status_code == 200, set_goal.text
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["lesson"] == step and m["challenge"] == challenge,
                               "the lesson step and the challenge")
    reported = lesson.students[1].http.post("/api/v1/join/progress", json={"lesson": "neurons", "step": 2,
                                                                            "done": True})
    assert reported.status_code == 204, reported.text
    for teacher in lesson.teachers:
        assert [s["task_done"] for s in view(teacher, lesson.code)["students"]] == [False, True]


def test_a_student_joining_on_either_worker_gets_the_next_number(lesson: Lesson, pair: list[Worker]) -> None:
    with client(pair[1].base, "127.0.0.4") as third:
        joined = third.post("/api/v1/join", json={"code": lesson.code, "name": "Citra"})
        assert joined.status_code == 200 and joined.json()["number"] == 3, joined.text
        with client(pair[0].base, "127.0.0.4", cookies=third.cookies) as same:  # the same student on worker 1
            again = same.post("/api/v1/join", json={"code": lesson.code, "name": "Citra W."})
        assert again.status_code == 200 and again.json()["number"] == 3, "rejoining on another worker keeps the place"
    for teacher in lesson.teachers:
        students = view(teacher, lesson.code)["students"]
        assert [s["key"] for s in students] == ["st_1", "st_2", "st_3"] and students[2]["session"] is None
    shown = lesson.teachers[1].patch(f"/api/v1/classes/{lesson.code}", json={"anonymous": False})
    assert shown.status_code == 200, shown.text
    assert [s["name"] for s in view(lesson.teachers[0], lesson.code)["students"]] == ["Ayu", "Budi", "Citra W."]


def test_the_workers_publish_cards_only_while_a_class_page_watches(lesson: Lesson, redis_url: str) -> None:
    store = redis.Redis.from_url(redis_url)
    view(lesson.teachers[0], lesson.code)  # watched from now, for a moment
    cards, watched = f"lab:class:{lesson.code}:cards", f"lab:class:{lesson.code}:watched"
    assert set(store.hgetall(cards)) == {b"w1", b"w2"}
    _until(lambda: not store.exists(watched), "unwatched")
    published = store.hgetall(cards)
    time.sleep(3 * VIEW_SECONDS)  # three rounds of a worker's publishing, were it watched
    assert store.hgetall(cards) == published, "cards published with no class page watching"
    view(lesson.teachers[0], lesson.code)
    _until(lambda: store.hgetall(cards)[b"w2"] != published[b"w2"], "cards published again once watched")
    store.close()


async def test_ending_the_class_removes_its_names_from_redis(lesson: Lesson, redis_url: str) -> None:
    store = redis.Redis.from_url(redis_url)
    assert store.keys("lab:class*"), "the open class lives in Redis"
    worker = lesson.students[0].worker  # the class page on worker 1, the class ended through worker 2
    headers = {"Authorization": f"Bearer {TEACHER_KEY}"}
    async with pages(lesson) as readers, reading(f"{worker.ws}/ws/classes/{lesson.code}", worker.base,
                                                 headers) as page:
        await page.until(lambda m: m["type"] == "class", "the class view")
        ended = lesson.teachers[1].delete(f"/api/v1/classes/{lesson.code}")
        assert ended.status_code == 204
        for reader in readers:
            await reader.until(lambda m: m["type"] == "class" and m["ended"] is True, "the class ended notice")
        await page.until(lambda m: m.get("ended") is True, "the class page told the class ended")
    deadline = time.monotonic() + SECONDS
    while store.keys("lab:class*") and time.monotonic() < deadline:  # the code's own key is freed by a task
        time.sleep(0.05)
    assert store.keys("lab:class*") == []
    for teacher in lesson.teachers:
        gone = teacher.get(f"/api/v1/classes/{lesson.code}")
        assert gone.status_code == 404 and gone.json()["code"] == "unknown_class"
    for student in lesson.students:
        status = student.http.get("/api/v1/join")
        assert status.status_code == 404 and status.json()["code"] == "not_in_class", student.worker.name
    store.close()


def test_a_dead_worker_does_not_hold_up_the_class_on_the_others(lesson: Lesson, pair: list[Worker]) -> None:
    """Runs last: it kills worker 2. Its students' cards leave the view once stale, and the
    teacher's controls answer at once: a command waits only for the workers that heard it."""
    opened = lesson.teachers[0].post("/api/v1/classes")
    assert opened.status_code == 201, opened.text
    code = opened.json()["code"]
    for student in lesson.students:
        assert student.http.post("/api/v1/join", json={"code": code, "name": "Ayu"}).status_code == 200
    assert [s["session"]["id"] for s in view(lesson.teachers[0], code)["students"]] == \
        [student.session for student in lesson.students]
    pair[1].kill()
    started = time.monotonic()
    paused = lesson.teachers[0].post(f"/api/v1/classes/{code}/pause")
    assert paused.status_code == 200 and time.monotonic() - started < ANSWER_SECONDS, "waited for the dead worker"
    alive = lesson.students[0]
    refused = alive.http.post(f"/api/v1/sessions/{alive.session}/step", json={"steps": 5})
    assert refused.status_code == 409 and refused.json()["code"] == "class_paused"
    _until(lambda: view(lesson.teachers[0], code)["students"][1]["session"] is None, "the dead worker's card gone")
    assert view(lesson.teachers[0], code)["students"][0]["session"]["id"] == lesson.students[0].session


def _until(ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SECONDS
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"never {what} within {SECONDS} s")
        time.sleep(0.05)
