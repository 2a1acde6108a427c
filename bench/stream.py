"""Streaming benchmark (docs/budgets.md), on loopback, run by hand; prints numbers.

    python bench/stream.py                 # starts `python -m server` on a free port
    python bench/stream.py --base http://127.0.0.1:8000 --seconds 10

Scenarios:
1. one client at full speed, on the default network and on 6 × 16: frames/s, p95 gap between
   frames, epochs/s (25 steps an epoch), bytes/s (every byte received: frame JSON, frame binary,
   heatmaps), and how long a control message takes to show its effect; then both side by side;
2. 50 sessions, each playing with one client: per-client frames/s, p95 gap, bytes/s, control
   latency while all play.
Then where the training thread's time went (from /api/v1/health) and, for comparison, the
engine alone training the default network in this process.

Targets: one client ≥ 60 fps; 50 × ≥ 20 fps with p95 gap ≤ 100 ms; control ≤ 50 ms p95;
one client ≤ 150 KB/s on the default network and ≤ 400 KB/s on 6 × 16, ≤ 100 KB/s per client
with 50 sessions (DESIGN §7); ≥ 600 epochs/s at full speed with frames ≥ 50/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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


@dataclass
class Watch:
    """One client's view: arrival times of frames, their steps, bytes received."""

    frame_times: list[float] = field(default_factory=list)
    frame_steps: list[int] = field(default_factory=list)
    bytes: int = 0  # every byte received: JSON (UTF-8) and binary messages
    bytes_by_kind: dict[str, int] = field(default_factory=dict)  # frame, frame binary, heatmaps, …
    last_text: str = ""  # the type of the last JSON message: a binary message belongs to it
    replies: dict[str, float] = field(default_factory=dict)  # id of a control → arrival time

    def fps(self) -> float:
        if len(self.frame_times) < 2:
            return 0.0
        return (len(self.frame_times) - 1) / (self.frame_times[-1] - self.frame_times[0])

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.frame_times, self.frame_times[1:], strict=False)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


async def reader(ws: ClientConnection, watch: Watch, since: float, until: float) -> None:
    """Reads from the start (so nothing piles up in the client's queue, which would bunch
    arrival times) but counts only what arrives between `since` and `until`."""
    while (left := until - time.monotonic()) > 0:
        try:
            message = await asyncio.wait_for(ws.recv(), left)
        except (TimeoutError, Exception):
            return
        now = time.monotonic()
        if isinstance(message, str):
            watch.last_text = message[9:message.find('"', 9)] if message.startswith('{"type":"') else "?"
        if now < since:
            continue
        size = len(message) if isinstance(message, bytes) else len(message.encode())
        kind = f"{watch.last_text} binary" if isinstance(message, bytes) else watch.last_text
        watch.bytes += size
        watch.bytes_by_kind[kind] = watch.bytes_by_kind.get(kind, 0) + size
        if isinstance(message, bytes):
            continue
        head = message[:40]
        if '"frame"' in head:
            watch.frame_times.append(now)
            watch.frame_steps.append(loads(message)["step"])
        elif '"config"' in head:
            reply = loads(message)
            watch.replies[repr(reply["config"]["learning_rate"])] = now


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


async def one_client(base: str, seconds: float, name: str = "default network", config: dict | None = None) -> dict:
    async with httpx.AsyncClient(base_url=base) as http:
        sid = (await http.post("/api/v1/sessions", json=config or {})).json()["id"]
    ws = await open_client(base, sid)
    watch = Watch()
    await ws.send(json.dumps({"type": "play"}))
    started = time.monotonic() + 0.5
    read = asyncio.create_task(reader(ws, watch, started, started + seconds))
    await asyncio.sleep(0.5)
    before = await thread_seconds(base)
    latencies = await control_latencies(ws, watch, 30, (seconds - 1) / 30)
    await read
    elapsed = time.monotonic() - started
    after = await thread_seconds(base)
    await ws.send(json.dumps({"type": "pause"}))
    await ws.close()
    steps = watch.frame_steps[-1] - watch.frame_steps[0]
    span = watch.frame_times[-1] - watch.frame_times[0]
    async with httpx.AsyncClient(base_url=base) as http:
        await http.delete(f"/api/v1/sessions/{sid}")
    window = min(elapsed, seconds)  # bytes were counted while the reader ran, not after it
    kb = {kind: size / window / 1000 for kind, size in sorted(watch.bytes_by_kind.items())}
    print(f"1 client, {name}, full speed")
    print(f"  frames/s            {watch.fps():8.1f}   (target ≥ 60)")
    print(f"  p95 gap             {percentile(watch.gaps(), 0.95) * 1000:8.1f} ms")
    print(f"  epochs/s            {steps / 25 / span:8.0f}   ({steps / span:,.0f} steps/s; target ≥ 600)")
    print(f"  bytes/s             {watch.bytes / window / 1000:8.1f} KB: "
          + ", ".join(f"{kind} {value:.1f}" for kind, value in kb.items()))
    print(f"  control → effect    {percentile(latencies, 0.95) * 1000:8.1f} ms p95, "
          f"median {statistics.median(latencies) * 1000:.1f} ms (target ≤ 50)")
    report_thread(before, after, elapsed)
    return {"name": name, "fps": watch.fps(), "kb": watch.bytes / window / 1000, "by_kind": kb}


async def one_client_side_by_side(base: str, seconds: float) -> None:
    """One client at 60 frames/s on the default network and on 6 × 16, and their bytes/s."""
    runs = [
        (await one_client(base, seconds), 150),
        (await one_client(base, seconds, "6 × 16", {"hidden_layers": [16] * 6}), 400),
    ]
    print("1 client, side by side   frames/s   KB/s = frame JSON + binary + heatmaps + other   KB a frame  target")
    for run, target in runs:
        parts = dict(run["by_kind"])
        frame = parts.pop("frame", 0.0), parts.pop("frame binary", 0.0)
        heat = parts.pop("heatmaps", 0.0) + parts.pop("heatmaps binary", 0.0)
        other = sum(parts.values())
        per_frame = sum(frame) / run["fps"] if run["fps"] else float("nan")
        verdict = "ok" if run["kb"] <= target else "OVER"
        print(f"  {run['name']:<22} {run['fps']:8.1f} {run['kb']:8.1f} = {frame[0]:5.1f} + {frame[1]:5.1f} + "
              f"{heat:5.1f} + {other:4.1f}        {per_frame:6.2f}    ≤ {target} {verdict}")


async def many_clients(base: str, sessions: int, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        sids = [(await http.post("/api/v1/sessions", json={})).json()["id"] for _ in range(sessions)]
    sockets = [await open_client(base, sid) for sid in sids]
    watches = [Watch() for _ in sockets]
    started = time.monotonic() + 1.0
    reads = [
        asyncio.create_task(reader(ws, w, started, started + seconds)) for ws, w in zip(sockets, watches, strict=True)
    ]
    for ws in sockets:
        await ws.send(json.dumps({"type": "play"}))
    await asyncio.sleep(max(0.0, started - time.monotonic()))
    before = await thread_seconds(base)
    latencies: list[float] = []
    for index in range(0, sessions, max(1, sessions // 10)):
        latencies += await control_latencies(sockets[index], watches[index], 3, 0.05)
    await asyncio.gather(*reads)
    elapsed = time.monotonic() - started
    after = await thread_seconds(base)
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.send(json.dumps({"type": "pause"}))
            await ws.close()
    async with httpx.AsyncClient(base_url=base) as http:
        for sid in sids:
            await http.delete(f"/api/v1/sessions/{sid}")
    rates = [w.fps() for w in watches]
    gaps = [gap for w in watches for gap in w.gaps()]
    print(f"{sessions} sessions playing, one client each")
    print(f"  frames/s per client {min(rates):8.1f} min, {statistics.median(rates):.1f} median (target ≥ 20)")
    print(f"  p95 gap             {percentile(gaps, 0.95) * 1000:8.1f} ms (target ≤ 100)")
    window = min(elapsed, seconds)  # bytes were counted while the readers ran
    print(f"  bytes/s per client  {statistics.mean(w.bytes for w in watches) / window / 1000:8.1f} KB "
          "(target ≤ 100)")
    print(f"  control → effect    {percentile(latencies, 0.95) * 1000:8.1f} ms p95 (target ≤ 50)")
    report_thread(before, after, elapsed)


async def thread_seconds(base: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base) as http:
        return (await http.get("/api/v1/health")).json()["training_thread_seconds"]


def report_thread(before: dict[str, float], after: dict[str, float], elapsed: float) -> None:
    parts = {key: (after[key] - before.get(key, 0.0)) / elapsed for key in after}
    busy = sum(parts.values())
    shares = ", ".join(f"{key} {value * 100:.0f}%" for key, value in parts.items())
    print(f"  training thread     busy {busy * 100:.0f}% of the time: {shares}")


def engine_alone(seconds: float = 2.0) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine.config import Config
    from engine.trainer import Trainer

    trainer = Trainer(Config())
    trainer.step(200)
    started = time.perf_counter()
    steps = trainer.train_for(10**9, started + seconds)
    per_step = (time.perf_counter() - started) / steps
    print(f"engine alone (this process): {per_step * 1e6:.1f} µs a step = {1 / per_step:,.0f} steps/s "
          f"= {1 / per_step / 25:,.0f} epochs/s on the default network")


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "--port", str(port)], cwd=root, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(f"{base}/api/v1/health", timeout=1)
            return process, base
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", help="a running server; default: start one")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args()
    process = None
    base = args.base
    if base is None:
        process, base = start_server()
    try:
        engine_alone()
        asyncio.run(one_client_side_by_side(base, args.seconds))
        asyncio.run(many_clients(base, args.sessions, args.seconds))
        engine_alone()
    finally:
        if process is not None:
            process.terminate()
            process.wait(10)


if __name__ == "__main__":
    main()
