"""Classroom soak (docs/budgets.md, "Classroom abuse and soak"), on loopback, bounded in time;
prints a time series and a verdict, and exits non-zero when the verdict fails.

    python bench/soak.py                     # 600 s on a fresh classroom server (`--classroom`, 127.0.0.1)
    python bench/soak.py --seconds 60        # a quick run
    python bench/soak.py --base http://127.0.0.1:8000 --teacher-key KEY [--pid PID]   # a running one

A lesson, compressed: `--students` students (30), each with an identity of their own and a
laptop of their own (source address 127.0.0.10, .11, …), each playing a session of their own with
one client — every third at full speed, the others at 100 steps a second, as a class clicking
about would — and each watching the presenter through the share code: the teacher (the key as a
bearer token) plays a session at full speed and shares it with the class (30 viewers). Every
`--action-every` seconds (30; staggered over the class) each student does the next of four
things a student does: change the learning rate (a live `config`), reset and play again, save a
run (REST), compute a small loss surface (21 × 21, REST).

Every `--sample-every` seconds (10) one line: the server's RSS, threads and open file descriptors
(/proc/<pid>/status, /proc/<pid>/fd, when the server is this script's or `--pid`), its CPU and
this script's, every client's frames/s over the interval (students' own sessions and the presenter's clients apart,
min and median), actions done, errors so far: any `error` message, any socket the server
closed, any HTTP failure (the first few are printed).

Verdict (targets): RSS after the warm-up (the first 60 s, or 20 % of a shorter run) grows by
less than 10 % to the end; no error; frames steady: the slowest client's frames/s over the last
third of the run ≥ 0.8 × the slowest client's over the first third. All the clients run in this
one Python process, beside the server, on the same cores: on a loaded machine it reads fewer
frames than the server sends (latest wins), so frame rates here are a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field

import httpx
from classroom import cpu_seconds
from stream import loads
from students import ClassroomServer, ProcessStatus, Student
from websockets.asyncio.client import ClientConnection

SLOW_PACE = 100.0  # steps a second of two students in three; the others play at full speed
ACTIONS = ("learning rate", "reset", "save", "surface")
SHOWN_ERRORS = 5  # errors printed as they come; the rest are counted
GROWTH_TARGET, STEADY_TARGET = 0.10, 0.8


@dataclass
class Client:
    """One socket read all along: its frames counted, and their counts at each sample."""

    name: str
    group: str  # "students" (their own sessions) or "presenter" (the presenter's own client and its viewers)
    ws: ClientConnection
    frames: int = 0
    at_samples: list[int] = field(default_factory=list)

    def fps(self, start: int, end: int, times: list[float]) -> float:
        """Frames a second between samples `start` and `end`."""
        return (self.at_samples[end] - self.at_samples[start]) / (times[end] - times[start])


@dataclass
class Sample:
    t: float
    status: ProcessStatus | None
    cpu_percent: float  # the server's, of one core
    own_cpu_percent: float  # this process's: its clients read every frame
    fps: dict[str, tuple[float, float]]  # group: (min, median) over its clients, this interval
    actions: int
    errors: int


class Lesson:
    """The class, the presenter, their clients, their actions and every error any of them met."""

    def __init__(self, base: str, teacher_key: str, students: int, action_every: float) -> None:
        self.base = base
        self.teacher = Student(base, "127.0.0.1", teacher_key, teacher=True)
        self.class_size = students
        self.action_every = action_every
        self.students: list[tuple[Student, str, ClientConnection]] = []  # (student, their session's id, its socket)
        self.clients: list[Client] = []
        self.readers: list[asyncio.Task[None]] = []
        self.errors: list[str] = []
        self.actions = 0
        self.ending = False  # sockets closing from here on are closed by us
        self.started = 0.0

    def error(self, what: str) -> None:
        if len(self.errors) < SHOWN_ERRORS:
            print(f"  error at {time.monotonic() - self.started:5.0f} s: {what}", flush=True)
        self.errors.append(what)

    def follow(self, name: str, group: str, ws: ClientConnection) -> ClientConnection:
        client = Client(name, group, ws)
        self.clients.append(client)
        self.readers.append(asyncio.create_task(self._read(client)))
        return ws

    async def _read(self, client: Client) -> None:
        """Counts frames without parsing them (61 sockets share this process); any `error`, and a
        socket that closes before the end, is an error."""
        try:
            async for message in client.ws:
                if isinstance(message, bytes):
                    continue
                if message.startswith('{"type":"frame"'):
                    client.frames += 1
                elif message.startswith('{"type":"error"'):
                    error = loads(message)
                    self.error(f"{client.name}: error {error['code']}: {error['message'][:100]}")
        except Exception as problem:  # any way a socket ends is an error, unless we ended it
            if not self.ending:
                self.error(f"{client.name}: {type(problem).__name__}: {problem}")
            return
        if not self.ending:
            self.error(f"{client.name}: socket closed by the server ({client.ws.close_code})")

    async def request(self, http: httpx.AsyncClient, who: str, method: str, path: str, **kwargs: object) -> dict:
        """An HTTP request whose failure (an exception or any status but 2xx) is an error."""
        try:
            answer = await http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as problem:
            self.error(f"{who}: {method} {path}: {type(problem).__name__}: {problem}")
            return {}
        if not answer.is_success:
            self.error(f"{who}: {method} {path}: {answer.status_code} {answer.text[:100]}")
            return {}
        return answer.json() if answer.content else {}

    async def gather(self) -> None:
        """The presenter plays and shares; each student joins, plays their own session at their
        pace and watches the presenter's."""
        async with self.teacher.http() as http:
            presenter = await self.request(http, "presenter", "POST", "/api/v1/sessions", json={})
            code = (await self.request(http, "presenter", "POST", f"/api/v1/sessions/{presenter['id']}/share"))["code"]
        ws = self.follow("presenter", "presenter", await self.teacher.connect(f"/ws/sessions/{presenter['id']}"))
        await ws.send(json.dumps({"type": "play"}))
        for number in range(self.class_size):
            student = await Student.join(self.base, f"127.0.0.{10 + number}")
            name = f"student {number + 1}"
            async with student.http() as http:
                session_id = (await self.request(http, name, "POST", "/api/v1/sessions", json={}))["id"]
            own = self.follow(name, "students", await student.connect(f"/ws/sessions/{session_id}"))
            self.students.append((student, session_id, own))
            if number % 3:
                await own.send(json.dumps({"type": "speed", "steps_per_second": SLOW_PACE}))
            await own.send(json.dumps({"type": "play"}))
            self.follow(f"{name} (viewer)", "presenter", await student.connect(f"/ws/watch/{code}"))

    async def act(self, number: int, until: float) -> None:
        """Student `number`'s actions, one every `action_every` seconds, staggered over the class."""
        student, session_id, own = self.students[number]
        name = f"student {number + 1}"
        await asyncio.sleep(self.action_every * (number + 1) / self.class_size)
        async with student.http() as http:
            turn = 0
            while time.monotonic() < until:
                action = ACTIONS[turn % len(ACTIONS)]
                if action == "learning rate":
                    await own.send(json.dumps({"type": "config", "changes": {"learning_rate": 0.01 + turn % 9 / 100}}))
                elif action == "reset":
                    await own.send(json.dumps({"type": "reset"}))
                    await own.send(json.dumps({"type": "play"}))
                elif action == "save":
                    await self.request(http, name, "POST", "/api/v1/runs",
                                       json={"session_id": session_id, "name": f"{name}, save {turn // 4 + 1}"})
                else:
                    await self.request(http, name, "POST", f"/api/v1/sessions/{session_id}/loss-surface",
                                       json={"resolution": 21})
                self.actions += 1
                turn += 1
                await asyncio.sleep(max(0.0, min(self.action_every, until - time.monotonic())))

    async def leave(self) -> None:
        self.ending = True
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.ws.close()
        for reader in self.readers:
            reader.cancel()


def interval_fps(clients: list[Client], times: list[float]) -> dict[str, tuple[float, float]]:
    rates: dict[str, list[float]] = {}
    for client in clients:
        rates.setdefault(client.group, []).append(client.fps(-2, -1, times))
    return {group: (min(values), statistics.median(values)) for group, values in rates.items()}


def print_sample(sample: Sample) -> None:
    status = sample.status
    memory = f"{status.rss_mb:8.1f}{status.threads:8}{status.open_files:6}" if status else f"{'n/a':>8}{'':14}"
    cells = "".join(f"{low:9.1f} /{middle:5.1f}" for low, middle in sample.fps.values())
    cpu = f"{sample.cpu_percent:7.0f}{sample.own_cpu_percent:7.0f}"
    print(f"{sample.t:6.0f}{memory}{cpu}{cells}{sample.actions:9}{sample.errors:8}", flush=True)


async def soak(lesson: Lesson, pid: int | None, seconds: float, every: float) -> tuple[list[Sample], list[float]]:
    await lesson.gather()
    print(f"{'t, s':>6}{'RSS MB':>8}{'threads':>8}{'fds':>6}{'CPU %':>7}{'ours %':>7}{'students fps min/med':>22}"
          f"{'presenter fps min/med':>22}{'actions':>9}{'errors':>8}", flush=True)
    lesson.started = started = time.monotonic()
    until = started + seconds
    actors = [asyncio.create_task(lesson.act(number, until)) for number in range(lesson.class_size)]
    times: list[float] = []
    samples: list[Sample] = []
    cpu_before, own_before = cpu_seconds(pid), time.process_time()
    try:
        for tick in range(int(seconds // every) + 1):
            await asyncio.sleep(max(0.0, started + tick * every - time.monotonic()))
            times.append(time.monotonic() - started)
            for client in lesson.clients:
                client.at_samples.append(client.frames)
            cpu_now, own_now = cpu_seconds(pid), time.process_time()
            if tick > 0:
                sample = Sample(times[-1], ProcessStatus.of(pid), (cpu_now - cpu_before) / every * 100,
                                (own_now - own_before) / every * 100, interval_fps(lesson.clients, times),
                                lesson.actions, len(lesson.errors))
                samples.append(sample)
                print_sample(sample)
            cpu_before, own_before = cpu_now, own_now
    finally:
        for actor in actors:
            actor.cancel()
        await lesson.leave()
    return samples, times


def verdict(lesson: Lesson, samples: list[Sample], times: list[float], seconds: float) -> bool:
    """Prints the three checks; True when all pass."""
    warm_up = min(60.0, 0.2 * seconds)
    after_warm_up = next((s for s in samples if s.t >= warm_up), samples[0])
    checks = []
    if after_warm_up.status is not None and samples[-1].status is not None:
        first, last = after_warm_up.status.rss_mb, samples[-1].status.rss_mb
        growth = last / first - 1
        checks.append((growth < GROWTH_TARGET, f"memory: RSS {first:.1f} MB at {after_warm_up.t:.0f} s → "
                       f"{last:.1f} MB at {samples[-1].t:.0f} s, {growth:+.1%} (target < {GROWTH_TARGET:.0%})"))
    else:
        print("memory: not measured (the server's process id is unknown: --pid)")
    checks.append((not lesson.errors, f"errors: {len(lesson.errors)} (target none)"))
    third = (len(times) - 1) // 3
    if third >= 1:
        first_third = min(c.fps(0, third, times) for c in lesson.clients)
        last_third = min(c.fps(len(times) - 1 - third, len(times) - 1, times) for c in lesson.clients)
        checks.append((last_third >= STEADY_TARGET * first_third, f"frames: slowest client {first_third:.1f} fps "
                       f"over the first third, {last_third:.1f} over the last, ×{last_third / first_third:.2f} "
                       f"(target ≥ {STEADY_TARGET})"))
    for passed, line in checks:
        print(f"{'pass' if passed else 'FAIL'}  {line}")
    return all(passed for passed, _ in checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a running classroom server (needs --teacher-key); default: start one")
    parser.add_argument("--teacher-key", help="with --base: its teacher key (the presenter's bearer token)")
    parser.add_argument("--pid", type=int, help="with --base: the server's process id, to read its memory and CPU")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--sample-every", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--action-every", type=float, default=30.0, metavar="SECONDS",
                        help="each student's pause between two actions")
    args = parser.parse_args()
    if args.base and not args.teacher_key:
        parser.error("--base needs --teacher-key: the presenter is the teacher")
    server = None if args.base else ClassroomServer(teacher_key=secrets.token_urlsafe(18))
    base = args.base or server.base  # type: ignore[union-attr]
    pid = server.pid if server is not None else args.pid
    lesson = Lesson(base, args.teacher_key or server.teacher_key, args.students, args.action_every)  # type: ignore[union-attr]
    try:
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.students} students, "
              f"{args.seconds:.0f} s …", flush=True)
        samples, times = asyncio.run(soak(lesson, pid, args.seconds, args.sample_every))
    except KeyboardInterrupt:
        raise SystemExit("interrupted: the server was stopped") from None
    finally:
        if server is not None:
            server.stop()
    print(f"load average at the end {os.getloadavg()[0]:.1f}; {lesson.actions} actions")
    sys.exit(0 if verdict(lesson, samples, times, args.seconds) else 1)


if __name__ == "__main__":
    main()
