"""Streaming benchmark (docs/budgets.md), on loopback, run by hand; prints one table.

    python bench/stream.py                          # servers with 1 and (cores) training threads
    python bench/stream.py --training-threads 1 2 --seconds 5
    python bench/stream.py --base http://127.0.0.1:8000   # a running server instead

For each thread count a fresh `python -m backprop_lab --training-threads N` on a free port runs, one
after the other:
1. one client, default network, full speed, against REST `step` on an identical session (no
   frames), in alternating rounds: the ratio of their training speeds is the median of the
   rounds' own ratios (a slow spell of this shared machine cancels out of each); also frames/s,
   p95 gap between frames, KB/s (every byte received, JSON as UTF-8 and binary, split into
   frame JSON, frame binary and heatmaps; and KB a frame), and how long a control message takes
   to show its effect;
2. the same on 6 × 16 (2-16×6-2), the large network of the byte budget, side by side;
3. 50 sessions, each playing at full speed with one client: per-session epochs/s and per-client
   frames/s (min and median), p95 gap, KB/s per client, control latency while all play.
Then where the training threads' time went (from /api/v1/health, per thread) and, for
comparison, the engine alone training the default network in this process.

Targets: one client ≥ 60 frames/s and ≥ 0.8× REST `step`, ≤ 150 KB/s on the default network and
≤ 400 KB/s on 6 × 16; 50 sessions: every session ≥ 100 epochs/s, every client ≥ 20 frames/s
with p95 gap ≤ 100 ms, ≤ 100 KB/s per client; control ≤ 50 ms p95.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

try:
    import orjson

    loads = orjson.loads
except ImportError:  # pragma: no cover
    loads = json.loads

ROOT = Path(__file__).resolve().parents[1]
Figures = dict[str, float]


@dataclass
class Watch:
    """One client's view: arrival times of frames, their steps, bytes received."""

    frame_times: list[float] = field(default_factory=list)
    frame_steps: list[int] = field(default_factory=list)
    bytes: int = 0  # every byte received: JSON (UTF-8) and binary messages
    bytes_by_kind: dict[str, int] = field(default_factory=dict)  # "frame", "frame binary", "heatmaps", …
    last_text: str = ""  # the type of the last JSON message: a binary message belongs to it
    replies: dict[str, float] = field(default_factory=dict)  # id of a control → arrival time

    def count(self, message: str | bytes, now: float, since: float) -> None:
        """One message received at `now`; counted from `since` on."""
        if isinstance(message, str):
            self.last_text = message[9:message.find('"', 9)] if message.startswith('{"type":"') else "?"
        if now < since:
            return
        size = len(message) if isinstance(message, bytes) else len(message.encode())
        kind = f"{self.last_text} binary" if isinstance(message, bytes) else self.last_text
        self.bytes += size
        self.bytes_by_kind[kind] = self.bytes_by_kind.get(kind, 0) + size
        if isinstance(message, bytes):
            return
        head = message[:40]
        if '"frame"' in head:
            self.frame_times.append(now)
            self.frame_steps.append(loads(message)["step"])
        elif '"config"' in head:
            reply = loads(message)
            self.replies[repr(reply["config"]["learning_rate"])] = now

    def fps(self) -> float:
        if len(self.frame_times) < 2:
            return 0.0
        return (len(self.frame_times) - 1) / (self.frame_times[-1] - self.frame_times[0])

    def steps_per_second(self) -> float:
        if len(self.frame_times) < 2:
            return 0.0
        return (self.frame_steps[-1] - self.frame_steps[0]) / (self.frame_times[-1] - self.frame_times[0])

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.frame_times, self.frame_times[1:], strict=False)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


async def reader(ws: ClientConnection, watch: Watch, since: float, until: float) -> None:
    """Reads from the start (so nothing piles up in the client's queue, which would bunch
    arrival times) but counts only what arrives between `since` and `until`. One timeout for
    the whole read, not a `wait_for` per message: the clients share the server's two cores,
    so what they spend is taken from the server."""
    with contextlib.suppress(Exception):  # the window closed (TimeoutError) or the socket did
        async with asyncio.timeout(max(0.0, until - time.monotonic())):
            async for message in ws:
                watch.count(message, time.monotonic(), since)


async def control_latencies(ws: ClientConnection, watch: Watch, count: int, spacing: float) -> list[float]:
    """Send live learning-rate changes; the time until the server's `config` says so."""
    latencies = []
    for trial in range(count):
        rate = 0.03 + (trial + 1) * 1e-6
        sent = time.monotonic()
        await ws.send(json.dumps({"type": "config", "changes": {"learning_rate": rate}}))
        deadline = sent + 2.0
        while repr(rate) not in watch.replies and time.monotonic() < deadline:
            await asyncio.sleep(0.001)
        if repr(rate) in watch.replies:
            latencies.append(watch.replies[repr(rate)] - sent)
        await asyncio.sleep(spacing)
    return latencies


async def open_client(base: str, session_id: str) -> ClientConnection:
    ws_base = base.replace("http://", "ws://")
    ws = await connect(f"{ws_base}/ws/sessions/{session_id}", origin=base, max_size=2**24, close_timeout=1)
    await ws.recv()  # hello
    return ws


async def steps_per_epoch(http: httpx.AsyncClient, session_id: str) -> int:
    session = (await http.get(f"/api/v1/sessions/{session_id}")).json()
    train = (await http.get(f"/api/v1/sessions/{session_id}/dataset")).json()["train"]
    return math.ceil(len(train["points"]) / session["config"]["batch_size"])


async def rest_steps_per_second(http: httpx.AsyncClient, session_id: str, seconds: float, guess: float) -> float:
    """REST `step` on its own, for about `seconds`, in requests of about a second each
    (`guess`: steps a second)."""
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        steps = max(10, int(guess * min(1.0, seconds / 2)))
        reply = await http.post(f"/api/v1/sessions/{session_id}/step", json={"steps": steps})
        if reply.status_code == 429:  # the server's estimate of a fresh session's step is cautious
            guess /= 10
            continue
        reply.raise_for_status()
        done += steps
    return done / (time.perf_counter() - started)


async def one_client(base: str, seconds: float, rounds: int = 3, config: dict | None = None) -> Figures:
    """Alternating rounds: one client plays a session (of `config`) at full speed, then REST
    `step` trains an identical session for as long."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        sid, rest_sid = [(await http.post("/api/v1/sessions", json=config or {})).json()["id"] for _ in range(2)]
        epoch = await steps_per_epoch(http, sid)
        ws = await open_client(base, sid)
        turn = seconds / rounds
        played, rested, fps, gaps, latencies = [], [], [], [], []
        received = watched = 0.0
        by_kind: dict[str, int] = {}
        for _ in range(rounds):
            watch = Watch()
            await ws.send(json.dumps({"type": "play"}))
            started = time.monotonic() + 0.3
            read = asyncio.create_task(reader(ws, watch, started, started + turn))
            await asyncio.sleep(0.3)
            latencies += await control_latencies(ws, watch, 10, (turn - 0.5) / 10)
            await read
            watched += min(time.monotonic() - started, turn)  # bytes were counted while the reader ran
            await ws.send(json.dumps({"type": "pause"}))
            await asyncio.sleep(0.1)
            played.append(watch.steps_per_second())
            rested.append(await rest_steps_per_second(http, rest_sid, turn, played[-1]))
            fps.append(watch.fps())
            gaps += watch.gaps()
            received += watch.bytes
            for kind, size in watch.bytes_by_kind.items():
                by_kind[kind] = by_kind.get(kind, 0) + size
        await ws.close()
        for session in (sid, rest_sid):
            await http.delete(f"/api/v1/sessions/{session}")
    kb = {kind: size / watched / 1000 for kind, size in by_kind.items()}
    frame_kb = kb.get("frame", 0.0) + kb.get("frame binary", 0.0)
    return {
        "fps": statistics.median(fps),
        "p95_gap_ms": percentile(gaps, 0.95) * 1000,
        "epochs_per_s": statistics.median(played) / epoch,
        "rest_epochs_per_s": statistics.median(rested) / epoch,
        "stream_vs_rest": statistics.median(p / r for p, r in zip(played, rested, strict=True)),
        "kb_per_s": received / watched / 1000,
        "kb_frame_json": kb.get("frame", 0.0),
        "kb_frame_binary": kb.get("frame binary", 0.0),
        "kb_heatmaps": kb.get("heatmaps", 0.0) + kb.get("heatmaps binary", 0.0),
        "kb_per_frame": frame_kb / statistics.median(fps) if statistics.median(fps) else float("nan"),
        "control_p95_ms": percentile(latencies, 0.95) * 1000,
    }


async def many_clients(base: str, sessions: int, seconds: float) -> Figures:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        sids = [(await http.post("/api/v1/sessions", json={})).json()["id"] for _ in range(sessions)]
        epoch = await steps_per_epoch(http, sids[0])
    sockets = [await open_client(base, sid) for sid in sids]
    watches = [Watch() for _ in sockets]
    started = time.monotonic() + 1.0
    reads = [
        asyncio.create_task(reader(ws, w, started, started + seconds)) for ws, w in zip(sockets, watches, strict=True)
    ]
    for ws in sockets:
        await ws.send(json.dumps({"type": "play"}))
    await asyncio.sleep(max(0.0, started - time.monotonic()))
    before = await health(base)
    latencies: list[float] = []
    for index in range(0, sessions, max(1, sessions // 10)):
        latencies += await control_latencies(sockets[index], watches[index], 3, 0.05)
    await asyncio.gather(*reads)
    elapsed = time.monotonic() - started
    after = await health(base)
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.send(json.dumps({"type": "pause"}))
            await ws.close()
    async with httpx.AsyncClient(base_url=base) as http:
        for sid in sids:
            await http.delete(f"/api/v1/sessions/{sid}")
    rates = [w.fps() for w in watches]
    epochs = [w.steps_per_second() / epoch for w in watches]
    window = min(elapsed, seconds)  # bytes were counted while the readers ran
    kilobytes = [w.bytes / window / 1000 for w in watches]
    gaps = [gap for w in watches for gap in w.gaps()]
    figures = {
        "epochs_min": min(epochs),
        "epochs_median": statistics.median(epochs),
        "fps_min": min(rates),
        "fps_median": statistics.median(rates),
        "p95_gap_ms": percentile(gaps, 0.95) * 1000,
        "kb_per_s_median": statistics.median(kilobytes),
        "kb_per_s_max": max(kilobytes),
        "control_p95_ms": percentile(latencies, 0.95) * 1000,
    }
    threads = after.get("training_threads", 1)  # an older server: one thread
    spent_before, spent_after = before["training_thread_seconds"], after["training_thread_seconds"]
    for kind in spent_after:
        share = (spent_after[kind] - spent_before.get(kind, 0.0)) / elapsed / threads
        figures[f"busy_{kind}"] = share * 100
    figures["busy_total"] = sum(figures[f"busy_{kind}"] for kind in spent_after)
    return figures


async def health(base: str) -> dict:
    async with httpx.AsyncClient(base_url=base) as http:
        return (await http.get("/api/v1/health")).json()


def engine_alone(seconds: float = 2.0) -> float:
    """Epochs a second of the engine alone on the default network, in this process."""
    sys.path.insert(0, str(ROOT))
    from backprop_lab.engine.config import Config
    from backprop_lab.engine.trainer import Trainer

    trainer = Trainer(Config())
    trainer.step(200)
    started = time.perf_counter()
    steps = trainer.train_for(10**9, started + seconds)
    start_epoch = trainer.epoch
    per_step = (time.perf_counter() - started) / steps
    trainer.step(1000)
    per_epoch = 1000 / max(1, trainer.epoch - start_epoch)
    return 1 / per_step / per_epoch


def start_server(threads: int) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", "--port", str(port), "--training-threads", str(threads)], cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:  # 503 while the engine compiles
                return process, base
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


ROWS = [  # (scenario, key, label, target)
    ("one", "fps", "1 client: frames/s", "≥ 60"),
    ("one", "p95_gap_ms", "1 client: p95 gap, ms", ""),
    ("one", "epochs_per_s", "1 client: epochs/s", ""),
    ("one", "rest_epochs_per_s", "REST step alone: epochs/s", ""),
    ("one", "stream_vs_rest", "1 client ÷ REST step", "≥ 0.8"),
    ("one", "kb_per_s", "1 client: KB/s", "≤ 150"),
    ("one", "kb_frame_json", "  frame JSON, KB/s", ""),
    ("one", "kb_frame_binary", "  frame binary, KB/s", ""),
    ("one", "kb_heatmaps", "  heatmaps, KB/s", ""),
    ("one", "kb_per_frame", "  KB a frame", ""),
    ("one", "control_p95_ms", "1 client: control p95, ms", "≤ 50"),
    ("big", "fps", "6 × 16, 1 client: frames/s", "≥ 60"),
    ("big", "stream_vs_rest", "6 × 16: 1 client ÷ REST step", ""),
    ("big", "kb_per_s", "6 × 16, 1 client: KB/s", "≤ 400"),
    ("big", "kb_frame_json", "  frame JSON, KB/s", ""),
    ("big", "kb_frame_binary", "  frame binary, KB/s", ""),
    ("big", "kb_heatmaps", "  heatmaps, KB/s", ""),
    ("big", "kb_per_frame", "  KB a frame", ""),
    ("many", "epochs_min", "{n} sessions: epochs/s, min", "≥ 100"),
    ("many", "epochs_median", "{n} sessions: epochs/s, median", ""),
    ("many", "fps_min", "{n} clients: frames/s, min", "≥ 20"),
    ("many", "fps_median", "{n} clients: frames/s, median", ""),
    ("many", "p95_gap_ms", "{n} clients: p95 gap, ms", "≤ 100"),
    ("many", "kb_per_s_median", "{n} clients: KB/s, median", "≤ 100"),
    ("many", "kb_per_s_max", "{n} clients: KB/s, max", "≤ 100"),
    ("many", "control_p95_ms", "{n} clients: control p95, ms", "≤ 50"),
    ("many", "busy_total", "{n}: each thread busy, %", ""),
    ("many", "busy_training", "  training, %", ""),
    ("many", "busy_frames", "  frames, %", ""),
    ("many", "busy_metrics", "  metrics, %", ""),
    ("many", "busy_heatmaps", "  heatmaps, %", ""),
    ("many", "busy_requests", "  requests, %", ""),
]


def report(results: dict[str, dict[str, Figures]], engine: list[float], sessions: int) -> None:
    names = list(results)
    print(f"{'':32}" + "".join(f"{name:>14}" for name in names) + f"{'target':>10}")
    for scenario, key, label, target in ROWS:
        cells = []
        for name in names:
            value = results[name][scenario].get(key, float("nan"))
            cells.append(f"{value:14.2f}" if key in ("stream_vs_rest", "kb_per_frame") else f"{value:14.1f}")
        print(f"{label.format(n=sessions):32}" + "".join(cells) + f"{target:>10}")
    print(f"engine alone, this process, before and after: {engine[0]:,.0f} and {engine[1]:,.0f} epochs/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a running server; default: start one per thread count")
    parser.add_argument("--training-threads", type=int, nargs="+", default=sorted({1, os.cpu_count() or 1}),
                        metavar="N", help="servers to start, one after the other (default: 1 and one per core)")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    engine = [engine_alone()]
    results: dict[str, dict[str, Figures]] = {}
    servers = [(None, args.base)] if args.base else [(n, None) for n in args.training_threads]
    for threads, base in servers:
        process = None
        if base is None:
            assert threads is not None
            process, base = start_server(threads)
        try:
            threads = asyncio.run(health(base)).get("training_threads", 1)
            print(f"{threads} training thread(s) …", flush=True)
            results[f"{threads} thread" + ("s" if threads > 1 else "")] = {
                "one": asyncio.run(one_client(base, args.seconds)),
                "big": asyncio.run(one_client(base, args.seconds, config={"hidden_layers": [16] * 6})),
                "many": asyncio.run(many_clients(base, args.sessions, args.seconds)),
            }
        finally:
            if process is not None:
                process.terminate()
                process.wait(10)
    engine.append(engine_alone())
    report(results, engine, args.sessions)


if __name__ == "__main__":
    main()
