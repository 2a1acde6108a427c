"""Classroom benchmark (docs/budgets.md), on loopback, bounded in time, run by hand; prints one table.

    python bench/classroom.py                     # a fresh server, one training thread per core
    python bench/classroom.py --seconds 4 --viewers 100 --class-size 30
    python bench/classroom.py --base http://127.0.0.1:8000   # a running server instead

Four scenarios on one server, one after the other (each about `--seconds` of measuring), in
pairs whose only difference is the audience, so the cost of viewers is a ratio measured side by
side (this shared machine's load drifts from minute to minute; see docs/budgets.md):
1. **presenter alone**: one session playing at full speed with its own client;
2. **audience**: the same, watched by `--viewers` viewers through its share code
   (`/ws/watch/{code}`): every client's frames/s and p95 gap between frames, KB/s per client,
   the session's epochs/s, the server's CPU;
3. **class, no audience**: the presenter and `--class-size` students' own sessions (each with
   one client) playing at full speed beside it;
4. **class**: the same with `--class-size` viewers watching the presenter: the figures per
   client (the presenter's clients and the students' apart), the students' epochs/s each.
Viewers cost the presenter's session no second encoding (the same bytes go to every client), so
what they add is sending; the frame budget is per playing session, not per client.

Targets (docs/budgets.md, "Classroom"): every client ≥ 20 frames/s with p95 gap ≤ 100 ms; each
student's session ≥ 100 epochs/s. The clients run in this one Python process beside the server
on the same cores, so a loaded machine shows here first as fewer frames read.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from pathlib import Path

import httpx
from stream import Watch, health, open_client, percentile, reader, start_server, steps_per_epoch
from websockets.asyncio.client import ClientConnection, connect

Figures = dict[str, float]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of the server process so far (Linux /proc), NaN when unknown."""
    if pid is None:
        return float("nan")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


async def open_viewer(base: str, code: str) -> ClientConnection:
    ws_base = base.replace("http://", "ws://")
    ws = await connect(f"{ws_base}/ws/watch/{code}", origin=base, max_size=2**24, close_timeout=1)
    await ws.recv()  # hello
    return ws


def client_figures(prefix: str, watches: list[Watch], window: float) -> Figures:
    rates = [w.fps() for w in watches]
    gaps = [gap for w in watches for gap in w.gaps()]
    kilobytes = [w.bytes / window / 1000 for w in watches]
    return {
        f"{prefix}_fps_min": min(rates),
        f"{prefix}_fps_median": statistics.median(rates),
        f"{prefix}_p95_gap_ms": percentile(gaps, 0.95) * 1000,
        f"{prefix}_kb_median": statistics.median(kilobytes),
        f"{prefix}_kb_max": max(kilobytes),
    }


async def scenario(base: str, pid: int | None, viewers: int, students: int, seconds: float) -> Figures:
    """A presenter (its own client and `viewers` viewers) and `students` sessions of their own,
    every session playing at full speed; figures over `seconds` after a second's settling."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        presenter_id = (await http.post("/api/v1/sessions", json={})).json()["id"]
        code = (await http.post(f"/api/v1/sessions/{presenter_id}/share")).json()["code"]
        student_ids = [(await http.post("/api/v1/sessions", json={})).json()["id"] for _ in range(students)]
        epoch = await steps_per_epoch(http, presenter_id)
    presenter = await open_client(base, presenter_id)
    audience = [await open_viewer(base, code) for _ in range(viewers)]
    own = [await open_client(base, sid) for sid in student_ids]
    sockets = [presenter, *audience, *own]
    watches = [Watch() for _ in sockets]
    started = time.monotonic() + 1.0
    reads = [
        asyncio.create_task(reader(ws, w, started, started + seconds)) for ws, w in zip(sockets, watches, strict=True)
    ]
    for ws in (presenter, *own):
        await ws.send(json.dumps({"type": "play"}))
    await asyncio.sleep(max(0.0, started - time.monotonic()))
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    await asyncio.gather(*reads)
    window = min(time.monotonic() - started, seconds)
    cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
    for ws in (presenter, *own):
        with contextlib.suppress(Exception):
            await ws.send(json.dumps({"type": "pause"}))
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.close()
    async with httpx.AsyncClient(base_url=base) as http:
        for sid in (presenter_id, *student_ids):
            await http.delete(f"/api/v1/sessions/{sid}")
    presenter_watch, viewer_watches, student_watches = watches[0], watches[1 : 1 + viewers], watches[1 + viewers :]
    figures = {
        **client_figures("all", watches, window),
        **client_figures("viewers", [presenter_watch, *viewer_watches], window),
        "presenter_epochs": presenter_watch.steps_per_second() / epoch,
        "server_cpu_percent": cpu * 100,
    }
    if student_watches:
        figures.update(client_figures("students", student_watches, window))
        student_epochs = [w.steps_per_second() / epoch for w in student_watches]
        figures["students_epochs_min"] = min(student_epochs)
        figures["students_epochs_median"] = statistics.median(student_epochs)
    return figures


ROWS = [  # (key, label, target)
    ("all_fps_min", "every client: frames/s, min", "≥ 20"),
    ("all_p95_gap_ms", "every client: p95 gap, ms", "≤ 100"),
    ("viewers_fps_min", "presenter's clients: frames/s, min", "≥ 20"),
    ("viewers_fps_median", "presenter's clients: frames/s, median", ""),
    ("viewers_p95_gap_ms", "presenter's clients: p95 gap, ms", "≤ 100"),
    ("viewers_kb_median", "presenter's clients: KB/s, median", ""),
    ("viewers_kb_max", "presenter's clients: KB/s, max", ""),
    ("presenter_epochs", "presenter's session: epochs/s", ""),
    ("students_fps_min", "students' clients: frames/s, min", "≥ 20"),
    ("students_fps_median", "students' clients: frames/s, median", ""),
    ("students_p95_gap_ms", "students' clients: p95 gap, ms", "≤ 100"),
    ("students_kb_median", "students' clients: KB/s, median", ""),
    ("students_epochs_min", "students' sessions: epochs/s, min", "≥ 100"),
    ("students_epochs_median", "students' sessions: epochs/s, median", ""),
    ("server_cpu_percent", "server CPU, % of one core", ""),
]


RATIOS = [  # (label, scenario, baseline, key): what an audience costs, side by side
    ("presenter's epochs/s: {v} viewers ÷ none", "audience", "alone", "presenter_epochs"),
    ("presenter's client fps: {v} viewers ÷ none", "audience", "alone", "viewers_fps_min"),
    ("students' epochs/s, min: class ÷ no audience", "class", "class_alone", "students_epochs_min"),
    ("students' fps, min: class ÷ no audience", "class", "class_alone", "students_fps_min"),
]


def report(results: dict[str, Figures], labels: dict[str, str], viewers: int) -> None:
    names = list(results)
    print(f"{'':40}" + "".join(f"{labels[name]:>20}" for name in names) + f"{'target':>10}")
    for key, label, target in ROWS:
        cells = [f"{results[name].get(key, float('nan')):20.1f}" for name in names]
        print(f"{label:40}" + "".join(cells) + f"{target:>10}")
    for label, scenario_name, baseline, key in RATIOS:
        ratio = results[scenario_name].get(key, float("nan")) / results[baseline].get(key, float("nan"))
        print(f"{label.format(v=viewers):48}{ratio:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a running server; default: start one (its CPU is measured)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--viewers", type=int, default=100, help="viewers of the presenter in the audience scenario")
    parser.add_argument("--class-size", type=int, default=30, help="viewers, and students' own sessions, in the class")
    args = parser.parse_args()
    process, base = (None, args.base) if args.base else start_server(os.cpu_count() or 1)
    pid = process.pid if process is not None else None
    try:
        threads = asyncio.run(health(base)).get("training_threads", 1)
        print(f"{threads} training thread(s), {os.cpu_count()} cores …", flush=True)
        plan = {  # name: (label, viewers, students)
            "alone": ("presenter alone", 0, 0),
            "audience": (f"+ {args.viewers} viewers", args.viewers, 0),
            "class_alone": (f"+ {args.class_size} students", 0, args.class_size),
            "class": (f"class of {args.class_size}", args.class_size, args.class_size),
        }
        results = {}
        for name, (_, viewers, students) in plan.items():
            results[name] = asyncio.run(scenario(base, pid, viewers, students, args.seconds))
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)
    report(results, {name: label for name, (label, _, _) in plan.items()}, args.viewers)


if __name__ == "__main__":
    main()
