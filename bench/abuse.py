"""Abuse benchmark (docs/budgets.md, "Classroom abuse and soak"), on loopback, bounded in time;
prints one table and exits non-zero when a ratio misses its target.

    python bench/abuse.py                      # a fresh classroom server (`--classroom`, 127.0.0.1)
    python bench/abuse.py --seconds 4 --scenarios messages races
    python bench/abuse.py --base http://127.0.0.1:8000 [--pid PID]   # a running classroom server

Can one student, staying within every quota, take the server from another? A GOOD student
(its own identity, connecting from 127.0.0.2) plays one session at full speed over its WebSocket
for the whole run; in windows of `--seconds` we count its frames/s, the p95 gap between its
frames and its steps/s (from the frames' `step`). Each scenario is a pair of windows, side by
side: the good student ALONE, then while ANOTHER student (one identity, from 127.0.0.3) floods
within its shares, read from `/api/v1/options` (`quotas`):

- **neighbour** (the reference): the other student only plays one session at full speed, as any
  student may. It is what a fair neighbour costs: when the server has fewer free cores than
  busy training threads (a loaded machine), each gets a part of a core and this ratio falls too,
  so read the others against it;
- **messages**: the flooder's session share, and as many control sockets on them as its socket
  share allows, sending a mix of legal messages (probe, check_parameter, set_parameter, speed,
  step, config, phase, play) as fast as its message rate share lets through;
- **messages ×10**: the same sent 10× faster than the share: the excess must be dropped cheaply;
- **races**: its session share playing at full speed, its race share (one) restarted 10 times a
  second (8 copies each, full speed), and a race asked for on another session once a second
  (refused: over the share);
- **surfaces**: its surface share computing 101 × 101 loss surfaces one after another, and its
  sweep share running 8-rate sweeps of 100,000 steps that record only their end (the longest
  turns a sweep may take), each with one more client loop than the share (refused).
The flooder is a process of its own (another laptop, in a classroom), so its client work does
not slow the good student's reading; it shares the machine's two cores with the server, though.

Per scenario: the good student's frames/s and steps/s alone and under flood and their ratios
(target ≥ `--target`, 0.8), p95 gaps; the flooder's accepted and refused counts (refused: HTTP
and handshake 429s, `error` messages with a quota's reason, and `rate_limited` warnings, at most
one a second per socket, so the messages it accepted are estimated from the replies to its
probes and checks); the server's RSS before the pair, at the end of the flood and after the
flooder left (from /proc/<pid>/status); and where the server's CPU went in both windows: its
event-loop thread, its training (and other) threads, its surface threads (/proc/<pid>/task),
and the training threads' own split from `/api/v1/health` (`training_thread_seconds`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection

import httpx
from classroom import cpu_seconds
from stream import Watch, health, loads, percentile
from students import ClassroomServer, ProcessStatus, Student, thread_cpu_seconds
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import InvalidStatus

Figures = dict[str, float]
GOOD_ADDRESS, FLOODER_ADDRESS = "127.0.0.2", "127.0.0.3"
SETTLE_SECONDS = 1.0  # between the flood's start and its window: sockets open, queues fill
QUOTA_REASONS = ("student_quota", "address_quota", "server_reserve")
RACE_RATES = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0]
MESSAGE_MIX = ("play", "probe", "check_parameter", "set_parameter", "speed", "step", "config", "phase")
ANSWERED = ('{"type":"probe"', '{"type":"parameter_check"')  # the replies every probe and check gets
SCENARIOS = ("neighbour", "messages", "messages ×10", "races", "surfaces")


# --- the flooder (a process of its own) -------------------------------------------------------


@dataclass(frozen=True)
class FloodPlan:
    base: str
    token: str  # the flooder's identity: one student for every scenario
    scenario: str
    shares: dict[str, int]  # a student's share of each resource (`/api/v1/options`, `quotas`)
    seconds: float  # of flooding, after the settling second


class Flooder:
    """One student taking everything its shares allow, counting what the server accepts and
    refuses."""

    def __init__(self, plan: FloodPlan) -> None:
        self.plan = plan
        self.student = Student(plan.base, FLOODER_ADDRESS, plan.token)
        self.http = self.student.http()
        self.counts: Counter[str] = Counter()
        self.sessions: list[str] = []
        self.sockets: list[ClientConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.leaving = False  # sockets closing from here on are closed by us
        self.races_started: set[int] = set()  # their numbers (a race's first message can come twice)

    async def request(self, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        """An HTTP request, counted as accepted (2xx), refused (429) or failed."""
        try:
            answer = await self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError:
            self.counts["HTTP failed"] += 1
            return None
        if answer.is_success:
            self.counts["HTTP accepted"] += 1
        elif answer.status_code == 429:
            self.counts[f"HTTP 429 {answer.json().get('code', '')}"] += 1
        else:
            self.counts[f"HTTP {answer.status_code}"] += 1
        return answer

    async def open_sessions(self, count: int, one_more: bool = False) -> None:
        """`count` sessions (`one_more`: then one more, which its share should refuse)."""
        for _ in range(count + one_more):
            answer = await self.request("POST", "/api/v1/sessions", json={})
            if answer is not None and answer.is_success:
                self.sessions.append(answer.json()["id"])

    async def open_sockets(self, count: int, one_more: bool = False) -> None:
        """`count` control sockets spread over its sessions (`one_more`: then one more, refused)."""
        for number in range(count + one_more):
            try:
                ws = await self.student.connect(f"/ws/sessions/{self.sessions[number % len(self.sessions)]}")
            except InvalidStatus as refused:
                self.counts[f"handshake {refused.response.status_code}"] += 1
                continue
            self.counts["handshake accepted"] += 1
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self.drain(ws)))

    async def drain(self, ws: ClientConnection) -> None:
        """Reads everything (a socket that stops reading is closed as stuck); counts replies,
        refusals and started races, skips frames unparsed."""
        with contextlib.suppress(Exception):
            async for message in ws:
                if isinstance(message, bytes) or message.startswith('{"type":"frame"'):
                    continue
                if message.startswith(ANSWERED):
                    self.counts["answered"] += 1
                elif message.startswith('{"type":"error"'):
                    error = loads(message)
                    self.counts[f"error {error['code']} {error.get('reason', '')}".strip()] += 1
                elif message.startswith('{"type":"race"') and '"status":"started"' in message:
                    self.races_started.add(loads(message)["race"])
        if not self.leaving:
            self.counts["sockets closed by the server"] += 1

    async def send(self, ws: ClientConnection, message: dict) -> None:
        with contextlib.suppress(Exception):
            await ws.send(json.dumps(message))
            self.counts["messages sent"] += 1
            if message["type"] in ("probe", "check_parameter"):
                self.counts["answerable sent"] += 1

    async def messages(self, factor: float, until: float) -> None:
        """The mix of legal messages, round-robin over the sockets, `factor` × the rate share."""
        rate = self.plan.shares["messages_per_second"] * factor
        started, sent = time.monotonic(), 0
        while time.monotonic() < until:
            due = int((time.monotonic() - started) * rate) + 1
            while sent < due:
                await self.send(self.sockets[sent % len(self.sockets)], legal_message(sent))
                sent += 1
            await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))

    async def races(self, until: float) -> None:
        """Its one race restarted 10 times a second on its first session; once a second a race on
        its second session too, which the race share refuses."""
        race = {"type": "race_start", "learning_rates": RACE_RATES, "steps": 100_000, "steps_per_second": 0}
        tick = 0
        while time.monotonic() < until:
            await self.send(self.sockets[0], race)
            if tick % 10 == 5 and len(self.sockets) > 1:
                await self.send(self.sockets[1], race)
            tick += 1
            await asyncio.sleep(0.1)

    async def surfaces(self, until: float) -> None:
        """One 101 × 101 surface after another, from one loop more than its share allows."""
        body = {"directions": "random", "resolution": 101}
        path = f"/api/v1/sessions/{self.sessions[0]}/loss-surface"
        seed = 0
        while time.monotonic() < until:
            seed += 1
            answer = await self.request("POST", path, json={**body, "seed": seed})
            if answer is None or not answer.is_success:
                await asyncio.sleep(0.1)

    async def sweeps(self, until: float) -> None:
        """8-rate sweeps one after another, each recording one history point at its end (the
        largest legal `record_every`: the fewest, longest turns); when one would be too long for
        a request, shorter."""
        steps = 100_000
        while time.monotonic() < until:
            answer = await self.request("POST", "/api/v1/lr-sweep", json={
                "learning_rates": RACE_RATES, "steps": steps, "record_every": steps})
            if answer is not None and answer.status_code == 429 and answer.json().get("code") not in QUOTA_REASONS:
                steps //= 2
            if answer is None or not answer.is_success:
                await asyncio.sleep(0.1)

    async def run(self, conn: Connection) -> None:
        """Set up, say "ready" (with the monotonic clock, which both processes share), flood for
        the settling second and the window, tear down, send the counts."""
        shares, scenario = self.plan.shares, self.plan.scenario
        cpu_before = time.process_time()
        try:
            if scenario == "neighbour":
                await self.open_sessions(1)
                await self.open_sockets(1)
                await self.send(self.sockets[0], {"type": "play"})
            elif scenario.startswith("messages"):
                await self.open_sessions(shares["sessions"], one_more=True)
                await self.open_sockets(shares["sockets"], one_more=True)
            elif scenario == "races":
                await self.open_sessions(shares["sessions"], one_more=True)
                await self.open_sockets(len(self.sessions))
                for ws in self.sockets:
                    await self.send(ws, {"type": "play"})
            else:
                await self.open_sessions(1)
            started = time.monotonic()
            conn.send(("ready", started))
            until = started + SETTLE_SECONDS + self.plan.seconds + 0.5
            if scenario == "neighbour":
                floods = [asyncio.sleep(until - time.monotonic())]
            elif scenario == "messages":
                floods = [self.messages(1, until)]
            elif scenario == "messages ×10":
                floods = [self.messages(10, until)]
            elif scenario == "races":
                floods = [self.races(until)]
            else:
                floods = [self.surfaces(until) for _ in range(shares["surfaces"] + 1)]
                floods += [self.sweeps(until) for _ in range(shares["sweeps"] + 1)]
            await asyncio.gather(*floods)
        finally:
            await self.leave()
        if self.races_started:
            self.counts["races started"] = len(self.races_started)
        self.counts["client CPU seconds"] = round(time.process_time() - cpu_before, 2)
        conn.send(("counts", dict(self.counts)))

    async def leave(self) -> None:
        self.leaving = True
        for ws in self.sockets:
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self.tasks:
            task.cancel()
        for session_id in self.sessions:
            with contextlib.suppress(httpx.HTTPError):
                await self.http.delete(f"/api/v1/sessions/{session_id}")
        await self.http.aclose()


def legal_message(number: int) -> dict:
    """Message `number` of the mix: every field within its documented range (docs/protocol.md)."""
    kind = MESSAGE_MIX[number % len(MESSAGE_MIX)]
    message: dict[str, object] = {"type": kind, "id": number}
    weight = {"layer": 0, "kind": "weight", "i": number % 2, "j": number % 4}  # the default network's first layer
    if kind == "probe":
        message.update(split="train", index=number % 250)
    elif kind == "check_parameter":
        message.update(weight)
    elif kind == "set_parameter":
        message.update(weight, value=(number % 200 - 100) / 100)
    elif kind == "speed":
        message.update(steps_per_second=0 if number % 3 else 1000)
    elif kind == "step":
        message.update(steps=10_000)
    elif kind == "config":
        message.update(changes={"learning_rate": 0.01 + number % 50 / 1000})
    return message


def flood_process(plan: FloodPlan, conn: Connection) -> None:
    """The flooder's process: its own event loop, and a session of its own, so that on Linux
    (autogroup scheduling) its client work takes its own share of the cores, as another laptop
    would, not the good student's; this script ends it."""
    os.setsid()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Flooder(plan).run(conn))


# --- the good student and the server's meters ---------------------------------------------------


class GoodStudent:
    """One session playing at full speed, read all the time; `window` counts what one window saw."""

    def __init__(self, student: Student, session_id: str, ws: ClientConnection) -> None:
        self.student = student
        self.session_id = session_id
        self.ws = ws
        self.watch = Watch()
        self.since = float("inf")
        self.errors: Counter[str] = Counter()
        self.reading = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, base: str) -> GoodStudent:
        student = await Student.join(base, GOOD_ADDRESS)
        async with student.http() as http:
            answer = await http.post("/api/v1/sessions", json={})
            answer.raise_for_status()
            session_id = answer.json()["id"]
        ws = await student.connect(f"/ws/sessions/{session_id}")
        good = cls(student, session_id, ws)
        await ws.send(json.dumps({"type": "play"}))
        return good

    async def _read(self) -> None:
        async for message in self.ws:
            if isinstance(message, str) and message.startswith('{"type":"error"'):
                self.errors[loads(message)["code"]] += 1
            self.watch.count(message, time.monotonic(), self.since)

    async def window(self, seconds: float) -> Watch:
        self.watch, self.since = Watch(), time.monotonic()
        await asyncio.sleep(seconds)
        watch, self.watch, self.since = self.watch, Watch(), float("inf")
        if self.reading.done():
            raise SystemExit("the good student's socket closed")
        return watch

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send(json.dumps({"type": "pause"}))
            await self.ws.close()
        self.reading.cancel()
        async with self.student.http() as http:
            await http.delete(f"/api/v1/sessions/{self.session_id}")


@dataclass
class Meter:
    """The server's CPU between two moments, as % of one core: the whole process, its thread
    groups (/proc), the training threads' kinds of work (`/api/v1/health`), and this process."""

    base: str
    pid: int | None
    started: float = 0.0
    cpu: float = 0.0
    threads: dict[str, float] | None = None
    spent: dict[str, float] | None = None
    own: float = 0.0

    async def start(self) -> None:
        self.spent = (await health(self.base))["training_thread_seconds"]
        self.started, self.cpu, self.threads = time.monotonic(), cpu_seconds(self.pid), thread_cpu_seconds(self.pid)
        self.own = time.process_time()

    async def read(self) -> Figures:
        elapsed = time.monotonic() - self.started
        figures = {"server": (cpu_seconds(self.pid) - self.cpu) / elapsed * 100,
                   "this process": (time.process_time() - self.own) / elapsed * 100}
        threads_now = thread_cpu_seconds(self.pid)
        for group, seconds in threads_now.items():
            figures[group] = (seconds - (self.threads or {}).get(group, 0.0)) / elapsed * 100
        spent_now = (await health(self.base))["training_thread_seconds"]
        for kind, seconds in spent_now.items():
            figures[f"  {kind}"] = (seconds - (self.spent or {}).get(kind, 0.0)) / elapsed * 100
        return figures


async def receive(conn: Connection, timeout: float, failure: str) -> tuple:
    """The flooder's next message; polled, so that Ctrl-C is not held up by a waiting thread."""
    deadline = time.monotonic() + timeout
    while not conn.poll():
        if time.monotonic() > deadline:
            raise SystemExit(failure)
        await asyncio.sleep(0.05)
    return conn.recv()


def watch_figures(watch: Watch) -> Figures:
    return {"fps": watch.fps(), "steps": watch.steps_per_second(), "p95_gap_ms": percentile(watch.gaps(), 0.95) * 1000}


def rss(pid: int | None) -> float:
    status = ProcessStatus.of(pid)
    return status.rss_mb if status is not None else float("nan")


async def scenario(base: str, pid: int | None, good: GoodStudent, plan: FloodPlan) -> dict[str, object]:
    """The pair of windows: alone, then under this flood; the flooder's counts; RSS around it."""
    rss_before = rss(pid)
    meter = Meter(base, pid)
    await meter.start()
    alone = watch_figures(await good.window(plan.seconds))
    cpu_alone = await meter.read()
    here, there = multiprocessing.get_context("spawn").Pipe()
    flooder = multiprocessing.get_context("spawn").Process(target=flood_process, args=(plan, there), daemon=True)
    flooder.start()
    finished = False
    try:
        _, started = await receive(here, 60, f"the flooder of {plan.scenario!r} did not get ready")
        await asyncio.sleep(max(0.0, started + SETTLE_SECONDS - time.monotonic()))
        await meter.start()
        flood = watch_figures(await good.window(plan.seconds))
        cpu_flood = await meter.read()
        rss_flood = rss(pid)
        _, counts = await receive(here, 60, f"the flooder of {plan.scenario!r} did not finish")
        finished = True
    finally:
        if not finished:  # Ctrl-C or a failure: no waiting for its window to end
            flooder.terminate()
        flooder.join(10)
        if flooder.is_alive():
            flooder.kill()
    window = SETTLE_SECONDS + plan.seconds + 0.5
    cpu_flood["flooder's process"] = counts.pop("client CPU seconds", float("nan")) / window * 100
    await asyncio.sleep(1.0)  # the flooder's sessions closed; their last jobs drain
    return {"alone": alone, "flood": flood, "cpu_alone": cpu_alone, "cpu_flood": cpu_flood, "counts": counts,
            "rss": (rss_before, rss_flood, rss(pid))}


def accepted_and_refused(counts: dict[str, int]) -> tuple[float, int]:
    """Everything the flooder had accepted (requests, handshakes, and its messages, estimated
    from the share of its probes and checks answered) and everything refused."""
    answerable = counts.get("answerable sent", 0)
    messages = counts.get("messages sent", 0) * (counts.get("answered", 0) / answerable if answerable else 1.0)
    accepted = counts.get("HTTP accepted", 0) + counts.get("handshake accepted", 0) + messages
    refused = sum(n for key, n in counts.items()
                  if key.startswith(("HTTP 429", "handshake 429", "error rate_limited"))
                  or any(reason in key for reason in QUOTA_REASONS))
    return accepted, refused


def report(results: dict[str, dict], target: float) -> bool:
    """The table; True when every ratio meets `target`."""
    print(f"{'':14}{'frames/s':^21}{'steps/s':^27}{'p95 gap, ms':^13}{'server CPU %':^13}{'flooder':^17}"
          f"{'server RSS, MB':^20}")
    print(f"{'scenario':14}{'alone':>7}{'flood':>7}{'ratio':>7}{'alone':>10}{'flood':>10}{'ratio':>7}"
          f"{'alone/flood':>13}{'alone/flood':>13}{'accepted':>9}{'refused':>8}{'before/flood/after':>20}")
    met = True
    for name, result in results.items():
        alone, flood = result["alone"], result["flood"]
        fps_ratio, steps_ratio = flood["fps"] / alone["fps"], flood["steps"] / alone["steps"]
        met = met and fps_ratio >= target and steps_ratio >= target
        accepted, refused = accepted_and_refused(result["counts"])
        gaps = f"{alone['p95_gap_ms']:.0f}/{flood['p95_gap_ms']:.0f}"
        cpu = f"{result['cpu_alone']['server']:.0f}/{result['cpu_flood']['server']:.0f}"
        memory = "/".join(f"{value:.0f}" for value in result["rss"])
        print(f"{name:14}{alone['fps']:7.1f}{flood['fps']:7.1f}{fps_ratio:7.2f}{alone['steps']:10,.0f}"
              f"{flood['steps']:10,.0f}{steps_ratio:7.2f}{gaps:>13}{cpu:>13}{accepted:9,.0f}{refused:8,}{memory:>20}")
    print(f"target: both ratios ≥ {target}")
    print("\nserver CPU, % of one core, alone → flood:")
    keys = list(next(iter(results.values()))["cpu_flood"])
    print(f"{'':26}" + "".join(f"{name:>16}" for name in results))
    for key in keys:
        cells = []
        for result in results.values():
            alone_value = result["cpu_alone"].get(key, float("nan"))
            cells.append(f"{alone_value:7.0f} →{result['cpu_flood'].get(key, float('nan')):5.0f}")
        print(f"{key:26}" + "".join(f"{cell:>16}" for cell in cells))
    print("\nthe flooder's counts:")
    for name, result in results.items():
        print(f"  {name}: " + ", ".join(f"{key} {value:,}" for key, value in sorted(result["counts"].items())))
    return met


async def run(base: str, pid: int | None, names: list[str], seconds: float) -> dict[str, dict]:
    options = httpx.get(f"{base}/api/v1/options", timeout=30).json()
    if not options["quotas"]["enforced"]:
        raise SystemExit(f"{base} enforces no quotas: start it with --classroom")
    shares = {name: share["student"] for name, share in options["quotas"]["shares"].items()}
    good = await GoodStudent.start(base)
    flooder = await Student.join(base, FLOODER_ADDRESS)
    results = {}
    try:
        await good.window(1.0)  # the session gets going
        for name in names:
            print(f"{name} …", flush=True)
            results[name] = await scenario(base, pid, good, FloodPlan(base, flooder.token, name, shares, seconds))
    finally:
        await good.stop()
    if good.errors:
        print(f"the good student got errors: {dict(good.errors)}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a running classroom server; default: start one (its memory and CPU are read)")
    parser.add_argument("--pid", type=int, help="with --base: the server's process id, to read its memory and CPU")
    parser.add_argument("--seconds", type=float, default=6.0, help="each window, alone and under flood")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), metavar="NAME",
                        help=f"some of: {', '.join(SCENARIOS)}")
    parser.add_argument("--target", type=float, default=0.8, help="the least ratio of flood to alone")
    args = parser.parse_args()
    server = None if args.base else ClassroomServer(teacher_key=secrets.token_urlsafe(18))
    base = args.base or server.base  # type: ignore[union-attr]
    pid = server.pid if server is not None else args.pid
    try:
        print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} …", flush=True)
        results = asyncio.run(run(base, pid, args.scenarios, args.seconds))
    except KeyboardInterrupt:
        raise SystemExit("interrupted: the server and the flooder were stopped") from None
    finally:
        if server is not None:
            server.stop()
    met = report(results, args.target)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
