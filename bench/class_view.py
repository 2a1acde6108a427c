"""A class of 50 with the teacher's class page open (issue 19; docs/budgets.md), on loopback, run
by hand; prints one table.

    python bench/class_view.py                        # 50 students, at 100 steps/s and at full speed
    python bench/class_view.py --students 30 --seconds 4
    python bench/class_view.py --rounds 3             # with and without the page in alternating order

Starts a fresh `python -m backprop_lab --classroom --training-threads 2` from this checkout
(bench/hall.py's `start_server`). The teacher opens the class; 50 students, each an identity of
their own (a cookie), join it and create a session each; each student's page is a WebSocket
client that plays (bench/hall.py's clients, in several processes, each socket with its
student's cookie). Each scenario (`N@PACE`, as in bench/hall.py) is measured twice, side by
side: without the class page, and with it open in headless Chromium (/usr/bin/chromium, the
browser tests' flags) on `/class`, logged in through the teacher link. The ratio is what the
class view costs the students.

What is measured, over each window:
- every student's frames/s (min, median) and, at full speed, epochs/s (min, median), from the
  frames their clients receive;
- with the class page: each student's thumbnail refresh rate on the page, the new thumbnails
  that reached the page (counted from the class socket's messages as the page receives them,
  over Chrome's DevTools protocol), min and median over the students; the page's frames per
  second (requestAnimationFrame callbacks) and its long tasks (> 50 ms);
- the server's CPU (process, event loop).

Each scenario also runs with the class socket alone (read by a thread of this process, no
browser): on this machine Chromium renders the page on the same two cores as the server, which a
teacher's laptop does not, so that variant is what the view itself costs the students.

Targets (issue 19): every student ≥ 20 frames/s, every thumbnail refreshed ≥ 2 Hz on the class
page, the class page ≥ 50 fps, each student ≥ 100 epochs/s at full speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, WebSocket, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hall  # noqa: E402  (bench/hall.py: the server, the clients, the CPU counters)

ROOT = hall.ROOT
TEACHER_KEY = "a-teacher-key-for-the-class-bench"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
COOKIE = "lab_identity"
Figures = dict[str, float]

# Runs in the class page: counts animation frames and long tasks, apart from the page's own loop.
PROBE = """
() => {
  window.__classBench = { frames: 0, longTasks: 0, longTaskMs: 0 };
  const result = window.__classBench;
  function tick() { result.frames++; requestAnimationFrame(tick); }
  requestAnimationFrame(tick);
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) { result.longTasks++; result.longTaskMs += entry.duration; }
    }).observe({ type: "longtask", buffered: false });
  } catch (e) {}
}
"""


class Lesson:
    """The class: its code, and each student's session id and cookie."""

    def __init__(self, base: str, students: int) -> None:
        self.base = base
        teacher = {"Authorization": f"Bearer {TEACHER_KEY}"}
        self.code = httpx.post(f"{base}/api/v1/classes", headers=teacher, timeout=60).raise_for_status().json()["code"]
        self.sessions: list[str] = []
        self.headers: list[dict[str, str]] = []
        for number in range(students):
            with httpx.Client(base_url=base, timeout=60) as student:
                student.get("/api/v1/identity").raise_for_status()
                student.post("/api/v1/join", json={"code": self.code, "name": f"Student {number + 1}"}
                             ).raise_for_status()
                self.sessions.append(student.post("/api/v1/sessions", json={}).raise_for_status().json()["id"])
                self.headers.append({"Cookie": f"{COOKIE}={student.cookies[COOKIE]}"})
        session = httpx.get(f"{base}/api/v1/sessions/{self.sessions[0]}", headers=teacher, timeout=60).json()
        train = httpx.get(f"{base}/api/v1/sessions/{self.sessions[0]}/dataset", headers=teacher, timeout=60).json()
        self.epoch = math.ceil(len(train["train"]["points"]) / session["config"]["batch_size"])  # steps an epoch


class ClassPage:
    """The teacher's /class page in headless Chromium, and the class views it receives."""

    def __init__(self, browser: Browser, base: str) -> None:
        self.context = browser.new_context(viewport={"width": 1600, "height": 1000})
        self.page: Page = self.context.new_page()
        self.views: list[tuple[float, dict[str, str]]] = []  # (arrival, student key → thumbnail values)
        self.page.on("websocket", self._socket)
        self.page.goto(f"{base}/teacher?key={TEACHER_KEY}")
        self.page.goto(f"{base}/class")
        self.page.get_by_test_id("class-open").click()  # a fresh browser: the page asks (it gets the open class)
        self.page.get_by_test_id("class-student").first.wait_for(timeout=60_000)
        self.page.evaluate(PROBE)

    def _socket(self, socket: WebSocket) -> None:
        if "/ws/classes/" in socket.url:
            socket.on("framereceived", self._view)

    def _view(self, payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith('{"type":"class"'):
            self.views.append((time.monotonic(), thumbnails_of(payload)))

    def counters(self) -> dict[str, float]:
        return self.page.evaluate("() => ({...window.__classBench})")

    def wait(self, seconds: float) -> None:
        """Let the page run (Playwright delivers its events meanwhile)."""
        self.page.wait_for_timeout(seconds * 1000)

    def close(self) -> None:
        self.context.close()


class ClassSocket:
    """The class socket alone, read by a thread of this process: what the view costs the server
    without a browser rendering it on the same cores (a teacher's laptop is another machine)."""

    def __init__(self, base: str, code: str) -> None:
        self.views: list[tuple[float, dict[str, str]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._read(base, code),), daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.views and time.monotonic() < deadline:
            time.sleep(0.05)

    async def _read(self, base: str, code: str) -> None:
        from websockets.asyncio.client import connect

        url = base.replace("http://", "ws://") + f"/ws/classes/{code}"
        async with connect(url, origin=base, max_size=2**24, additional_headers={
                "Authorization": f"Bearer {TEACHER_KEY}"}) as ws:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                    if isinstance(raw, str):
                        self.views.append((time.monotonic(), thumbnails_of(raw)))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def thumbnails_of(text: str) -> dict[str, str]:
    """Each student's thumbnail (its base64 values) in a class view."""
    view = json.loads(text)
    return {student["key"]: ((student["session"] or {}).get("thumbnail") or {}).get("values", "")
            for student in view["students"]}


def refresh_rates(views: list[tuple[float, dict[str, str]]], since: float, until: float) -> list[float]:
    """Each student's new thumbnails a second that reached the page within [since, until)."""
    inside = [shown for at, shown in views if since <= at < until]
    keys = set().union(*(shown.keys() for shown in inside)) if inside else set()
    rates = []
    for key in sorted(keys):
        changes, last = 0, None
        for shown in inside:
            values = shown.get(key, "")
            if last is not None and values and values != last:
                changes += 1
            last = values or last
        rates.append(changes / (until - since))
    return rates


def window(lesson: Lesson, pid: int, pace: float, seconds: float, processes: int,
           page: ClassPage | None, socket: ClassSocket | None = None) -> Figures:
    """Every student plays at `pace` (0: full speed); their clients count frames over the window."""
    share = [list(range(index, len(lesson.sessions), processes)) for index in range(processes)]
    jobs = [{"base": lesson.base, "pace": pace, "sessions": [lesson.sessions[i] for i in indices],
             "headers": [lesson.headers[i] for i in indices]} for indices in share]
    workers, since, until = hall.start_clients(hall.__file__, "--worker", jobs, 1.5, seconds)
    if page is not None:
        page.wait(max(0.0, since - time.monotonic()))
        before_page = page.counters()
    else:
        time.sleep(max(0.0, since - time.monotonic()))
    before, started = hall.cpu_seconds(pid), time.monotonic()
    if page is not None:
        page.wait(max(0.0, until - time.monotonic()))
        after_page = page.counters()
    else:
        time.sleep(max(0.0, until - time.monotonic()))
    after, elapsed = hall.cpu_seconds(pid), time.monotonic() - started
    clients: list[dict[str, Any]] = []
    for process in workers:
        assert process.stdout is not None
        clients += json.loads(process.stdout.read())
        process.wait(30)
    rates, epochs = [], []
    for client in clients:
        times, steps = client["times"], client["steps"]
        rates.append((len(times) - 1) / seconds if len(times) > 1 else 0.0)
        epochs.append((steps[-1] - steps[0]) / (times[-1] - times[0]) / lesson.epoch if len(times) > 1 else 0.0)
    figures = {"fps_min": min(rates), "fps_median": statistics.median(rates),
               "epochs_min": min(epochs), "epochs_median": statistics.median(epochs),
               "cpu_cores": (after["process"] - before["process"]) / elapsed,
               "loop_cores": (after["loop"] - before["loop"]) / elapsed}
    if socket is not None:
        thumbnails = refresh_rates(socket.views, since, until)
        figures |= {"thumbnail_hz_min": min(thumbnails, default=0.0),
                    "thumbnail_hz_median": statistics.median(thumbnails) if thumbnails else 0.0}
    if page is not None:
        thumbnails = refresh_rates(page.views, since, until)
        figures |= {"thumbnail_hz_min": min(thumbnails, default=0.0),
                    "thumbnail_hz_median": statistics.median(thumbnails) if thumbnails else 0.0,
                    "page_fps": (after_page["frames"] - before_page["frames"]) / elapsed,
                    "page_long_tasks": after_page["longTasks"] - before_page["longTasks"]}
    pause_all(lesson)
    return figures


def pause_all(lesson: Lesson) -> None:
    """Between windows: every student's session paused (their clients have gone), so the next
    window starts from rest."""
    deadline = time.monotonic() + 30
    teacher = {"Authorization": f"Bearer {TEACHER_KEY}"}
    while time.monotonic() < deadline:
        view = httpx.get(f"{lesson.base}/api/v1/classes/{lesson.code}", headers=teacher, timeout=60).json()
        if all(s["session"]["state"] != "running" for s in view["students"]):
            return
        time.sleep(0.2)


@contextmanager
def lab_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with tempfile.TemporaryDirectory() as folder:
        server, base = hall.start_server(ROOT, Path(folder) / "runs.sqlite3",
                                         ["--classroom", "--teacher-key", TEACHER_KEY])
        try:
            yield server, base
        finally:
            server.terminate()
            server.wait(15)


# what each scenario runs beside the students: nothing; the class socket read by this process (the
# view's cost to the server); the class page in Chromium (on the same cores: the browser's cost too)
VARIANTS = ("no class page", "class socket only", "class page open")
ROWS = [  # (key, label, target)
    ("fps_min", "frames/s per student, min", "≥ 20"),
    ("fps_median", "frames/s per student, median", ""),
    ("epochs_min", "epochs/s per student, min", "≥ 100 (full)"),
    ("epochs_median", "epochs/s per student, median", ""),
    ("thumbnail_hz_min", "thumbnail refreshes/s received, min", "≥ 2"),
    ("thumbnail_hz_median", "thumbnail refreshes/s, median", ""),
    ("page_fps", "class page fps (rAF)", "≥ 50"),
    ("page_long_tasks", "class page long tasks (> 50 ms)", ""),
    ("cpu_cores", "server CPU, cores", ""),
    ("loop_cores", "  event loop, cores", ""),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--scenarios", nargs="+", default=["100", "full"], metavar="PACE",
                        help="steps/s each student plays at ('full': as fast as the engine goes)")
    parser.add_argument("--seconds", type=float, default=6.0, help="each window")
    parser.add_argument("--rounds", type=int, default=1, help="turns of both (their order alternates)")
    parser.add_argument("--client-processes", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[Figures]] = {}
    with lab_server() as (server, base), sync_playwright() as playwright:
        lesson = Lesson(base, args.students)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for round_index in range(args.rounds):
            for pace_text in args.scenarios:
                pace = 0.0 if pace_text == "full" else float(pace_text)
                name = f"{args.students}@{pace_text}"
                for variant in VARIANTS if round_index % 2 == 0 else VARIANTS[::-1]:
                    label = f"{name}, {variant}"
                    print(f"round {round_index + 1}: {label} …", flush=True)
                    page = ClassPage(browser, base) if variant == "class page open" else None
                    socket = ClassSocket(base, lesson.code) if variant == "class socket only" else None
                    try:
                        figures = window(lesson, server.pid, pace, args.seconds, args.client_processes, page, socket)
                    finally:
                        if page is not None:
                            page.close()
                        if socket is not None:
                            socket.close()
                    results.setdefault(label, []).append(figures)
        browser.close()
    names = sorted(results, key=lambda label: (label.split(",")[0], VARIANTS.index(label.split(", ")[1])))
    print(f"\n(median of {args.rounds} round(s))")
    print(f"{'':42}" + "".join(f"{name:>30}" for name in names) + f"{'target':>14}")
    for key, label, target in ROWS:
        cells = []
        for name in names:
            values = [figures[key] for figures in results[name] if key in figures]
            cells.append(f"{statistics.median(values):>30.1f}" if values else f"{'':>30}")
        print(f"{label:42}" + "".join(cells) + f"{target:>14}")


if __name__ == "__main__":
    main()
