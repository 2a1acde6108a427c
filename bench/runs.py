"""Saved-runs benchmark (docs/budgets.md), on loopback, run by hand; prints one table.

    python bench/runs.py               # a fresh `python -m backprop_lab --db <temporary file>`
    python bench/runs.py --rounds 9

Side by side on one server, in alternating rounds (the median of each round's own ratio, so a
slow spell of this shared machine cancels out):
1. opening a saved run as a live session (POST /api/v1/runs/{id}/session) against creating a
   session with the same config (POST /api/v1/sessions): both build the same trainer, the
   first also restores the run's state, history and trajectory;
2. saving (POST /api/v1/runs) and importing an exported run, in milliseconds, and the size of
   the export document, on the default network and on 6 × 16;
3. a session playing at full speed with one client, its frames/s while another session is
   saved as a run over and over, against its frames/s with no saves: database work runs in a
   worker thread and capturing in the saved session's own lane, so the stream barely notices.

Targets: opening ≤ 4× creating (a run also loads its history, snapshots and state: a click waits
tens of milliseconds, not the run's training again); frames/s while saving ≥ 0.8× without.
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
import tempfile
import threading
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
WIDE = {"hidden_layers": [16] * 6}


def start_server(database: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "backprop_lab", "--port", str(port), "--db", str(database)]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(3000):
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:  # 503 while the engine compiles
                return process, base
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def timed(call) -> tuple[float, httpx.Response]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = call()
    return time.perf_counter() - started, response


def trained_run(http: httpx.Client, config: dict, steps: int) -> str:
    sid = http.post("/api/v1/sessions", json=config).json()["id"]
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": steps})
    return http.post("/api/v1/runs", json={"session_id": sid, "name": "bench"}).json()["id"]


def open_against_create(http: httpx.Client, config: dict, rounds: int) -> tuple[float, float, float]:
    run_id = trained_run(http, config, 2000)
    ratios, opens, creates = [], [], []
    for _ in range(rounds):
        opened, answer = timed(lambda: http.post(f"/api/v1/runs/{run_id}/session"))
        http.delete(f"/api/v1/sessions/{answer.json()['id']}")
        created, answer = timed(lambda: http.post("/api/v1/sessions", json=config))
        http.delete(f"/api/v1/sessions/{answer.json()['id']}")
        ratios.append(opened / created)
        opens.append(opened)
        creates.append(created)
    return statistics.median(ratios), statistics.median(opens), statistics.median(creates)


def save_and_import(http: httpx.Client, config: dict, rounds: int) -> tuple[float, float, int]:
    sid = http.post("/api/v1/sessions", json=config).json()["id"]
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 5000})
    saves, imports = [], []
    document = b""
    for _ in range(rounds):
        seconds, answer = timed(lambda: http.post("/api/v1/runs", json={"session_id": sid, "name": "bench"}))
        saves.append(seconds)
        document = http.get(f"/api/v1/runs/{answer.json()['id']}/export").content
        seconds, _ = timed(lambda body=document: http.post("/api/v1/runs/import", content=body,
                                                            headers={"Content-Type": "application/json"}))
        imports.append(seconds)
    return statistics.median(saves), statistics.median(imports), len(document)


async def frames_per_second(base: str, session_id: str, seconds: float) -> float:
    ws_base = base.replace("http://", "ws://")
    async with connect(f"{ws_base}/ws/sessions/{session_id}", origin=base, max_size=2**24) as ws:
        await ws.recv()
        await ws.send(json.dumps({"type": "play"}))
        times: list[float] = []
        settle = time.monotonic() + 0.5
        end = settle + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(ws.recv(), left)
            except TimeoutError:
                break
            if isinstance(message, str) and message.startswith('{"type":"frame"') and time.monotonic() > settle:
                times.append(time.monotonic())
        await ws.send(json.dumps({"type": "pause"}))
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def keep_saving(base: str, session_id: str, stop: threading.Event, count: list[int]) -> None:
    """Saves `session_id` as a run again and again until `stop`, counting the saves."""
    with httpx.Client(base_url=base, timeout=60) as own:
        while not stop.is_set():
            own.post("/api/v1/runs", json={"session_id": session_id, "name": "while streaming"})
            count[0] += 1


def stream_while_saving(base: str, rounds: int, seconds: float) -> tuple[float, float, float, int]:
    http = httpx.Client(base_url=base, timeout=60)
    player = http.post("/api/v1/sessions", json={}).json()["id"]
    saved = http.post("/api/v1/sessions", json=WIDE).json()["id"]
    http.post(f"/api/v1/sessions/{saved}/step", json={"steps": 3000})
    ratios, quiet_fps, busy_fps, saves = [], [], [], 0
    for _ in range(rounds):
        quiet = asyncio.run(frames_per_second(base, player, seconds))
        stop = threading.Event()
        count = [0]
        saver = threading.Thread(target=keep_saving, args=(base, saved, stop, count))
        saver.start()
        busy = asyncio.run(frames_per_second(base, player, seconds))
        stop.set()
        saver.join()
        ratios.append(busy / quiet)
        quiet_fps.append(quiet)
        busy_fps.append(busy)
        saves += count[0]
    http.close()
    return statistics.median(ratios), statistics.median(quiet_fps), statistics.median(busy_fps), saves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=2.0, help="per streaming measurement")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_server(Path(folder) / "runs.sqlite3")
        try:
            with httpx.Client(base_url=base, timeout=60) as http:
                rows = []
                for label, config in (("default", {}), ("6 × 16", WIDE)):
                    ratio, opened, created = open_against_create(http, config, args.rounds)
                    rows.append((f"{label}: open a run / create a session", f"{ratio:.2f}×",
                                 f"{opened * 1e3:.1f} ms / {created * 1e3:.1f} ms", "≤ 4×"))
                    save, load, size = save_and_import(http, config, args.rounds)
                    rows.append((f"{label}: save, import (ms); export size", f"{save * 1e3:.1f}, {load * 1e3:.1f}",
                                 f"{size / 1024:.0f} KB", ""))
            ratio, quiet, busy, saves = stream_while_saving(base, max(3, args.rounds // 2), args.seconds)
            rows.append(("frames/s while another session saves / without", f"{ratio:.2f}×",
                         f"{busy:.1f} / {quiet:.1f} frames/s, {saves} saves (6 × 16)", "≥ 0.8×"))
        finally:
            process.terminate()
            process.wait(15)
    width = max(len(row[0]) for row in rows)
    print(f"{'measure':<{width}}  {'median':>10}  {'figures':<44}  target")
    for name, value, figures, target in rows:
        print(f"{name:<{width}}  {value:>10}  {figures:<44}  {target}")


if __name__ == "__main__":
    main()
