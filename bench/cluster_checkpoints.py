"""What checkpointing costs a student (issue 21, bench scenario (c); docs/budgets.md), on loopback,
run by hand; prints one table.

    python bench/cluster_checkpoints.py                     # 9 windows of 3 s, both at once
    python bench/cluster_checkpoints.py --rounds 3 --seconds 4 --config '{"hidden_layers": [64, 64]}'

Two servers from this checkout, one training thread each: a single process, and a cluster worker
(`--worker w1 --redis …`, a fresh `redis-server` of our own) whose session checkpoints itself
every `CHECKPOINT_SECONDS` while it trains (backprop_lab.server.cluster.checkpoints). Each has
one session with the same config, played at full speed over its WebSocket as a student's page
does; both play at once, `--rounds` windows of `--seconds` after a second's warm-up, so a slow
spell of the machine falls on both (on 2 shared cores another program's load moves either by 2×
and more from one window to the next); each window's ratio is one sample. A window counts the
epochs between its frames and the server's CPU time meanwhile (/proc). Printed: each side's medians
of both and the worker's against the single process (target: at most 5 % apart), the
checkpoints written and their size, and what capturing and encoding one costs on the training
thread (its share of the period is its cost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import orjson
import redis
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's backprop_lab, not an installed one

from backprop_lab.engine.config import Config  # noqa: E402
from backprop_lab.engine.trainer import Trainer  # noqa: E402
from backprop_lab.server.cluster.checkpoints import CHECKPOINT_SECONDS, checkpoint_key  # noqa: E402
from backprop_lab.server.cluster.services import free_port, start_redis  # noqa: E402
from backprop_lab.server.saved import capture  # noqa: E402
from backprop_lab.server.saved.run_store import RunSummary, StoredRun  # noqa: E402
from backprop_lab.server.wire.session_models import HISTORY_POINTS  # noqa: E402

WARM_UP_SECONDS = 1.0
ROUNDS, SECONDS = 9, 3.0  # windows, each this long: the defaults, and bench/cluster.py's scenario c
TICKS = os.sysconf("SC_CLK_TCK")


def start_server(port: int, folder: Path, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "backprop_lab.server.cli", "--port", str(port), "--db",
               str(folder / f"runs-{port}.sqlite3"), "--training-threads", "1", *extra]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"the server on port {port} exited with code {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server on port {port} did not start")


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (all its threads: training, the event loop, Redis writes)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def one_round(ws: ClientConnection, pid: int, seconds: float) -> tuple[float, float]:
    """Play for `seconds`; the epochs/s between the first and last frame after the warm-up, and
    the epochs per second of the server's CPU meanwhile (what other programs on the machine take
    does not count there)."""
    await ws.send(json.dumps({"type": "play"}))
    start = time.monotonic()
    since, until = start + WARM_UP_SECONDS, start + WARM_UP_SECONDS + seconds
    first: tuple[float, float, int] | None = None
    last: tuple[float, float, int] | None = None
    while (left := until - time.monotonic()) > 0:
        try:
            message = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        if isinstance(message, str) and message.startswith('{"type":"frame"'):
            now = time.monotonic()
            if now >= since:
                point = (now, cpu_seconds(pid), json.loads(message)["epoch"])
                first = first or point
                last = point
    await ws.send(json.dumps({"type": "pause"}))
    if first is None or last is None or last[1] == first[1]:
        raise SystemExit("no frames in the window")
    epochs = last[2] - first[2]
    return epochs / (last[0] - first[0]), epochs / (last[1] - first[1])


async def measure(bases: dict[str, tuple[str, int]], config: dict, rounds: int, seconds: float,
                  ) -> tuple[dict[str, list[tuple[float, float]]], dict[str, str]]:
    """Each server's (epochs/s, epochs per CPU second) per round, and its session's id."""
    sockets: dict[str, ClientConnection] = {}
    ids: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=60) as http:
        for name, (base, _) in bases.items():
            response = await http.post(f"{base}/api/v1/sessions", json=config)
            response.raise_for_status()
            ids[name] = response.json()["id"]
            ws_base = base.replace("http://", "ws://")
            sockets[name] = await connect(f"{ws_base}/ws/sessions/{ids[name]}", origin=base, max_size=2**24)
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in bases}
    for _ in range(rounds):
        measured = await asyncio.gather(*(one_round(ws, bases[name][1], seconds) for name, ws in sockets.items()))
        for name, figure in zip(sockets, measured, strict=True):
            figures[name].append(figure)
        await asyncio.gather(*(drain(ws) for ws in sockets.values()))
    for ws in sockets.values():
        await ws.close()
    return figures, ids


async def drain(ws: ClientConnection) -> None:
    """Read what the paused session still sends (its last frames), for a moment."""
    try:
        async with asyncio.timeout(0.5):
            async for _ in ws:
                pass
    except TimeoutError:
        pass


def capture_cost(config: dict, repeats: int = 20) -> tuple[float, int]:
    """Milliseconds to capture and encode one checkpoint of a trained session with `config` (a full
    history and trajectory, thinned as a saved run's: the most a checkpoint holds), and its bytes.
    What the training thread spends per checkpoint, beside the metrics a frame evaluates anyway."""
    trainer = Trainer(Config().replace(**config))
    trainer.step(500)
    layout = trainer.network.layout
    summary = RunSummary("checkpoint", "checkpoint", capture.now(), trainer.step_count, trainer.epoch, layout.size,
                         trainer.config.as_dict())
    history = [{"step": step, "train_loss": 0.5, "test_loss": 0.5} for step in range(HISTORY_POINTS)]
    kept = max(2, min(capture.MAX_SAVED_SNAPSHOTS, capture.SNAPSHOT_FLOATS // layout.size))  # as `capture` keeps
    snapshots = np.tile(trainer.network.parameters, (kept, 1))
    times = []
    data = b""
    for _ in range(repeats):
        started = time.perf_counter()
        resume = capture._plain(capture.resume_json(trainer.export_state(), layout.layer_sizes))
        run = StoredRun(summary, history, resume, list(range(kept)), snapshots)
        data = orjson.dumps({"document": capture.export_document(run, trainer.dataset)})
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(data)


def run(rounds: int, seconds: float, config: dict) -> dict:
    """Both servers side by side (see the module docstring): each side's windows, the checkpoints
    written and the last one's size, and what capturing and encoding one costs."""
    folder = Path(tempfile.mkdtemp(prefix="bench-checkpoints-"))
    store = start_redis()
    plain_port, worker_port = free_port(), free_port()
    servers = [start_server(plain_port, folder),
               start_server(worker_port, folder, "--worker", "w1", "--redis", store.url)]
    client = redis.Redis.from_url(store.url)
    try:
        bases = {"single process": (f"http://127.0.0.1:{plain_port}", servers[0].pid),
                 "worker, checkpointing": (f"http://127.0.0.1:{worker_port}", servers[1].pid)}
        figures, ids = asyncio.run(measure(bases, config, rounds, seconds))
        size = client.hstrlen(checkpoint_key(ids["worker, checkpointing"]), "data")
        writes = int(client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0))
    finally:
        for server in servers:
            server.terminate()
            server.wait(15)
        store.stop()
    encode_ms, encode_bytes = capture_cost(config)
    ratios = [[ours[column] / theirs[column] for ours, theirs in
               zip(figures["worker, checkpointing"], figures["single process"], strict=True)] for column in (0, 1)]
    return {"figures": figures, "ratios": [statistics.median(r) for r in ratios], "size": size, "writes": writes,
            "encode_ms": encode_ms, "encode_bytes": encode_bytes}


def scenario(options: argparse.Namespace) -> tuple[str, list[str], list[tuple[str, dict[str, float], str]]]:
    """bench/cluster.py's scenario c: the default session, ROUNDS windows of SECONDS."""
    result = run(ROUNDS, SECONDS, {})
    columns = ["single process", "worker, checkpointing", "worker ÷ single"]
    rows = []
    for column, label in ((0, "epochs/s, median"), (1, "epochs per CPU second, median")):
        figures = {name: statistics.median(figure[column] for figure in result["figures"][name])
                   for name in columns[:2]}
        rows.append((label, {**figures, "worker ÷ single": result["ratios"][column]}, "0.95–1.05"))
    rows.append(("one checkpoint, kB", {"worker, checkpointing": result["size"] / 1000}, ""))
    rows.append(("capture + encode of a full one, ms", {"worker, checkpointing": result["encode_ms"]}, ""))
    title = f"c: checkpoints every {CHECKPOINT_SECONDS:g} s, {ROUNDS} windows of {SECONDS:g} s, both at once"
    return title, columns, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--seconds", type=float, default=SECONDS)
    parser.add_argument("--config", type=json.loads, default={},
                        help="the session's config (JSON); default: the defaults")
    args = parser.parse_args()
    result = run(args.rounds, args.seconds, args.config)
    figures = result["figures"]
    print(f"config {json.dumps(args.config)}; {args.rounds} rounds × {args.seconds:g} s each side; "
          f"checkpoint every {CHECKPOINT_SECONDS:g} s while training")
    print(f"{'':24}{'epochs/s':>10}{'per CPU s':>11}  rounds (epochs/s)")
    for name, rounds in figures.items():
        medians = [statistics.median(figure[column] for figure in rounds) for column in (0, 1)]
        listed = ", ".join(f"{figure[0]:.0f}" for figure in rounds)
        print(f"{name:24}{medians[0]:10.0f}{medians[1]:11.0f}  {listed}")
    for ratio, what in zip(result["ratios"], ("epochs/s", "epochs per CPU second"), strict=True):
        print(f"worker / single process, {what}, median of the rounds' ratios: {ratio:.3f} "
              f"({(ratio - 1) * 100:+.1f} %; target: within 5 %)")
    print(f"checkpoints written: {result['writes']}, the last one {result['size'] / 1000:.1f} kB")
    share = result["encode_ms"] / 10 / CHECKPOINT_SECONDS  # ms per period of s, in %
    print(f"capture + encode of a full checkpoint (history {HISTORY_POINTS} points, as many snapshots as a run "
          f"keeps): {result['encode_ms']:.2f} ms, {result['encode_bytes'] / 1000:.0f} kB: {share:.2f} % of the period")


if __name__ == "__main__":
    main()
