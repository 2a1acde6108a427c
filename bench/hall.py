"""A lecture hall on one small server (docs/budgets.md), on loopback, run by hand; prints one table.

    python bench/hall.py                                   # this checkout: every scenario below
    python bench/hall.py --tree /work/wt-hall-base          # … beside another checkout, side by side
    python bench/hall.py --scenarios 200@100 --seconds 4    # one scenario, a short window

Each tree (this checkout, and `--tree PATH` if given) gets a fresh `python -m backprop_lab
--training-threads 2` started from that checkout, in a session of its own (on Linux, autogroup
scheduling then gives the server its own share of the cores, as on a machine of its own); the
trees take turns, `--rounds` times, so a slow spell of the machine falls on both. Scenarios,
`N@PACE` (N sessions, each with one client, all playing at PACE steps/s; `full`: full speed):

- `1@full`: one session alone: its client's frames/s, and its training speed against REST `step`
  on an identical session (bench/stream.py's alternating rounds);
- `200@100`, `100@100`: a hall at a watchable pace: every client's frames/s (min and median),
  the p95 gap between frames over all clients;
- `50@full`: the same, and each session's epochs/s (min, median), the 50 together against the
  engine alone on two threads in a process of its own (side by side: measured just before and
  just after the window, the mean of the two).

The clients run in `--client-processes` processes (default: one per 50 sockets, at least 2), each
reading its sockets and counting what arrives (a frame's step is read from the text, not parsed)
on bare asyncio connections that read the WebSocket framing themselves (`_Counter`: a message
costs a header read and a count), so the benchmark's own Python does not cap what the server
appears to send. The window opens a
second (and a half, for 100 more sessions) after every client of every process plays. For every scenario the
server's CPU over the window is read from /proc: the whole process, its event loop (the main
thread) and its training threads, per frame the clients received, and the event loop's per message
(text or binary) they received: the cost of a frame and of a send.

Targets (issue 22): 200@100 every client ≥ 20 frames/s, p95 gap ≤ 100 ms; 100@100 every client
≥ 40 frames/s; 50@full the slowest ≥ 300 epochs/s, the 50 together ≥ 70 % of the engine alone,
every client ≥ 20 frames/s; 1@full ≥ 60 frames/s and ≥ 0.8× REST `step`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
Figures = dict[str, float]
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3: the handshake's accept key


# --- the clients (in worker processes) ------------------------------------------------------
class Window:
    """The measuring window, told to a worker once every client of every worker is playing."""

    def __init__(self) -> None:
        self.since = self.until = float("inf")

    def tell(self, since: float, until: float) -> None:
        self.since, self.until = since, until


class _Counter(asyncio.Protocol):
    """One client on a bare asyncio connection that reads the WebSocket framing itself (RFC 6455
    §5.2: a server's frames are unmasked, so a message costs a header read and a count). With
    200 clients on two cores beside the server, the bench's own reading otherwise takes what it
    measures: the websockets library's sans-I/O parser cost the clients ~0.27 of a core at 50
    sessions at full speed (2,500 messages a second). The handshake is checked (101 and the
    accept key); its messages (play, pause, pongs) go masked with a zero key, which a server
    must accept as any other."""

    def __init__(self, url: str, origin: str, window: Window, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.origin = origin
        self.window = window
        self.headers = headers or {}  # e.g. a student's cookie (bench/class_view.py)
        self.transport: asyncio.Transport | None = None
        self.hello: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.times: list[float] = []
        self.steps: list[int] = []
        self.messages = 0
        self.received = 0
        self._key = base64.b64encode(os.urandom(16)).decode()
        self._buffer = bytearray()
        self._open = False  # the handshake's answer read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        host_and_path = self.url.split("//", 1)[1]
        host, path = host_and_path.split("/", 1)
        lines = [f"GET /{path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket", "Connection: Upgrade",
                 f"Sec-WebSocket-Key: {self._key}", "Sec-WebSocket-Version: 13", f"Origin: {self.origin}",
                 *(f"{name}: {value}" for name, value in self.headers.items())]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())  # type: ignore[attr-defined]

    def send(self, message: dict[str, object]) -> None:
        self._write(0x1, json.dumps(message).encode())

    def _write(self, opcode: int, payload: bytes) -> None:
        size = len(payload)
        header = bytes([0x80 | opcode]) + (bytes([0x80 | size]) if size < 126 else
                                           bytes([0x80 | 126]) + size.to_bytes(2, "big"))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(header + b"\0\0\0\0" + payload)  # a zero mask leaves the payload as it is

    def _handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        accept = base64.b64encode(hashlib.sha1((self._key + GUID).encode()).digest()).decode()
        fields = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in head[1:])}
        if " 101 " not in head[0] + " " or fields.get("sec-websocket-accept") != accept:
            self.hello.set_exception(ConnectionError(f"the handshake failed: {head[0]}"))
            if self.transport is not None:
                self.transport.close()
            return False
        self._open = True
        return True

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._open and not self._handshake():
            return
        now = time.monotonic()
        counting = self.window.since <= now < self.window.until
        while len(buffer) >= 2:
            opcode, size, at = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size, at = int.from_bytes(buffer[2:4], "big"), 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size, at = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < at + size:
                return
            if opcode in (0x1, 0x2):  # a text or a binary message (the server sends no fragments)
                if not self.hello.done():
                    self.hello.set_result(None)  # the first message: hello
                elif counting:
                    self.messages += 1
                    self.received += size
                    if opcode == 0x1 and buffer.startswith(b'{"type":"frame"', at):
                        step_at = buffer.find(b'"step":', at, at + size) + 7
                        self.times.append(now)
                        self.steps.append(int(buffer[step_at:buffer.find(b",", step_at)]))
            elif opcode == 0x9:  # ping
                self._write(0xA, bytes(buffer[at:at + size]))
            elif opcode == 0x8 and self.transport is not None:  # close
                self.transport.close()
            del buffer[: at + size]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.hello.done():
            self.hello.set_exception(ConnectionError("the socket closed before its hello"))
        if not self.closed.done():
            self.closed.set_result(None)


async def _watch(url: str, origin: str, pace: float, playing: asyncio.Queue[None],
                 window: Window, headers: dict[str, str] | None = None) -> dict[str, object]:
    host, port = url.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: _Counter(url, origin, window, headers), host, int(port))
    await asyncio.wait_for(client.hello, 120)
    client.send({"type": "speed", "steps_per_second": pace})
    client.send({"type": "play"})
    playing.put_nowait(None)
    while window.until == float("inf"):  # read from the start, so nothing piles up; count only in the window
        await asyncio.sleep(0.2)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(client.closed), max(0.0, window.until - time.monotonic()))
    client.send({"type": "pause"})
    if client.transport is not None:
        client.transport.close()
    return {"times": client.times, "steps": client.steps, "messages": client.messages, "bytes": client.received}


async def _watch_all(job: dict) -> list[dict[str, object]]:
    """Connect and play every client, say so (`ready` on stdout), read the window from stdin,
    and count until its end."""
    ws_base = job["base"].replace("http://", "ws://")
    loop = asyncio.get_running_loop()
    playing: asyncio.Queue[None] = asyncio.Queue()
    window = Window()
    headers = job.get("headers") or [None] * len(job["sessions"])  # a student's cookie each (bench/class_view.py)
    clients = [
        asyncio.create_task(_watch(f"{ws_base}/ws/sessions/{sid}", job["base"], job["pace"], playing, window, sent))
        for sid, sent in zip(job["sessions"], headers, strict=True)
    ]
    for _ in clients:
        await playing.get()
    print("ready", flush=True)
    told = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
    window.tell(told["since"], told["until"])
    return list(await asyncio.gather(*clients))


def worker() -> None:
    """`hall.py --worker`: a job (JSON, one line) on stdin; `ready` on stdout once every client
    plays; then the window (JSON, one line) on stdin; every client's figures (JSON) on stdout."""
    job = json.loads(sys.stdin.readline())
    print(json.dumps(asyncio.run(_watch_all(job))), flush=True)


# --- the server ----------------------------------------------------------------------------
def start_server(tree: Path, database: Path, extra: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", "--port", str(port), "--training-threads", "2", "--db", str(database),
         *extra],
        cwd=tree, env=tree_env(tree), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(3000):  # a tree whose kernels are not in numba's cache compiles for minutes
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return process, base
        if process.poll() is not None:
            raise SystemExit(f"the server of {tree} exited with {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the server of {tree} did not start")


def tree_env(tree: Path) -> dict[str, str]:
    """The environment that imports `backprop_lab` from `tree` (before anything on PYTHONPATH)."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tree), os.environ.get("PYTHONPATH")]))}


def cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of the process and of its main thread (the event loop)."""

    def of(stat: Path) -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    return {"process": of(Path(f"/proc/{pid}/stat")), "loop": of(Path(f"/proc/{pid}/task/{pid}/stat"))}


# --- the engine alone ------------------------------------------------------------------------
ENGINE_ALONE = """
import sys, threading, time
from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
seconds, threads = float(sys.argv[1]), int(sys.argv[2])
trainers = [Trainer(Config(seed=i + 1)) for i in range(threads)]
for trainer in trainers:
    trainer.step(200)
epochs = [0.0] * threads
def run(i):
    trainer = trainers[i]
    per_epoch = -(-trainer.dataset.train.size // trainer.config.batch_size)
    start, started = trainer.step_count, time.perf_counter()
    while time.perf_counter() - started < seconds:
        trainer.train_for(10**9, time.perf_counter() + 0.05)
    epochs[i] = (trainer.step_count - start) / per_epoch / (time.perf_counter() - started)
workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
for w in workers: w.start()
for w in workers: w.join()
print(sum(epochs))
"""


def engine_alone(tree: Path, seconds: float = 2.0, threads: int = 2) -> float:
    """Epochs a second of the engine alone, default network, `threads` threads training one
    trainer each (its compiled calls release the GIL), in a process of its own from `tree`."""
    done = subprocess.run(
        [sys.executable, "-c", ENGINE_ALONE, str(seconds), str(threads)], cwd=tree,
        env=tree_env(tree), capture_output=True, text=True, check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


# --- a scenario ------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))] if ordered else float("nan")


def start_clients(script: str, flag: str, jobs: list[dict], settle: float,
                  seconds: float) -> tuple[list[subprocess.Popen[str]], float, float]:
    """One client process per job (`script flag`: a job on stdin, `ready` on stdout once its
    clients play, then the window on stdin, its figures on stdout at the end), each started and
    ready; the window, `settle` seconds from now and `seconds` long, told to all. Returns the
    processes and the window (since, until), `time.monotonic()` values."""
    processes = [subprocess.Popen([sys.executable, script, flag], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True) for _ in jobs]
    for process, job in zip(processes, jobs, strict=True):
        assert process.stdin is not None
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
    for process in processes:  # every client connected and playing
        assert process.stdout is not None
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a client process failed")
    since = time.monotonic() + settle
    until = since + seconds
    for process in processes:
        assert process.stdin is not None
        process.stdin.write(json.dumps({"since": since, "until": until}) + "\n")
        process.stdin.close()
    return processes, since, until


def hall(base: str, pid: int, sessions: int, pace: float, seconds: float, processes: int) -> Figures:
    with httpx.Client(base_url=base, timeout=60) as http:
        # each session made by a client of its own, as each student's page makes its own (behind a
        # cluster's proxy, a client's requests stay on one worker: bench/cluster.py)
        sids = [httpx.post(f"{base}/api/v1/sessions", json={}, timeout=60).raise_for_status().json()["id"]
                for _ in range(sessions)]
        session = http.get(f"/api/v1/sessions/{sids[0]}").json()
        train = http.get(f"/api/v1/sessions/{sids[0]}/dataset").json()["train"]
        epoch = math.ceil(len(train["points"]) / session["config"]["batch_size"])
    share = [sids[index::processes] for index in range(processes)]
    # the last to start settle into their pace
    workers, since, until = start_clients(__file__, "--worker", [{"base": base, "sessions": ids, "pace": pace}
                                                                 for ids in share], 1.0 + sessions / 200, seconds)
    time.sleep(max(0.0, since - time.monotonic()))
    print(f"    the window: {seconds:g} s, server pid {pid}", flush=True)  # (a profiler may attach now)
    before, spent_before, started = cpu_seconds(pid), training_thread_seconds(base), time.monotonic()
    time.sleep(max(0.0, until - time.monotonic()))
    after, spent_after, elapsed = cpu_seconds(pid), training_thread_seconds(base), time.monotonic() - started
    clients: list[dict] = []
    for process in workers:
        assert process.stdout is not None
        clients += json.loads(process.stdout.read())
        process.wait(30)
    with httpx.Client(base_url=base, timeout=60) as http:
        for sid in sids:
            http.delete(f"/api/v1/sessions/{sid}")
    rates, epochs, gaps = [], [], []
    frames = messages = 0
    for client in clients:
        times, steps = client["times"], client["steps"]
        frames += len(times)
        messages += client["messages"]
        rates.append((len(times) - 1) / seconds if len(times) > 1 else 0.0)
        epochs.append((steps[-1] - steps[0]) / (times[-1] - times[0]) / epoch if len(times) > 1 else 0.0)
        gaps += [b - a for a, b in zip(times, times[1:], strict=False)]
    cpu = {kind: (after[kind] - before[kind]) for kind in after}
    return {
        "fps_min": min(rates), "fps_median": statistics.median(rates), "p95_gap_ms": percentile(gaps, 0.95) * 1000,
        "epochs_min": min(epochs), "epochs_median": statistics.median(epochs), "epochs_total": sum(epochs),
        "frames_per_s": frames / seconds, "messages_per_s": messages / seconds,
        "cpu_cores": cpu["process"] / elapsed, "loop_cores": cpu["loop"] / elapsed,
        "other_cores": (cpu["process"] - cpu["loop"]) / elapsed,
        "training_cores": (spent_after.get("training", 0.0) - spent_before.get("training", 0.0)) / elapsed,
        "cpu_us_per_frame": cpu["process"] / max(1, frames) * 1e6,
        "loop_us_per_frame": cpu["loop"] / max(1, frames) * 1e6,
        "loop_us_per_message": cpu["loop"] / max(1, messages) * 1e6,
    }


def training_thread_seconds(base: str) -> dict[str, float]:
    """The server's own count of its training threads' time by kind of work (wall time; the
    compiled training calls under "training"), from /api/v1/health."""
    return httpx.get(f"{base}/api/v1/health", timeout=30).json().get("training_thread_seconds", {})


def one_alone(base: str, seconds: float) -> Figures:
    sys.path.insert(0, str(ROOT / "bench"))
    from stream import one_client  # bench/stream.py: alternating rounds against REST `step`

    figures = asyncio.run(one_client(base, seconds))
    return {"fps_min": figures["fps"], "p95_gap_ms": figures["p95_gap_ms"], "epochs_min": figures["epochs_per_s"],
            "stream_vs_rest": figures["stream_vs_rest"]}


def run_tree(tree: Path, extra: list[str], scenarios: list[str], seconds: float,
             processes: int | None) -> dict[str, Figures]:
    with tempfile.TemporaryDirectory() as folder:
        server, base = start_server(tree, Path(folder) / "runs.sqlite3", extra)
        results: dict[str, Figures] = {}
        try:
            for scenario in scenarios:
                count, pace_text = scenario.split("@")
                sessions, pace = int(count), 0.0 if pace_text == "full" else float(pace_text)
                print(f"  {scenario} …", flush=True)
                if sessions == 1 and pace == 0:
                    results[scenario] = one_alone(base, seconds)
                    continue
                alone = [engine_alone(tree)] if pace == 0 else []
                figures = hall(base, server.pid, sessions, pace, seconds, processes or max(2, -(-sessions // 50)))
                if pace == 0:
                    alone.append(engine_alone(tree))
                    figures["engine_alone"] = statistics.mean(alone)
                    figures["efficiency"] = figures["epochs_total"] / figures["engine_alone"]
                results[scenario] = figures
        finally:
            server.terminate()
            server.wait(15)
    return results


ROWS = [  # (key, label, target for scenario …)
    ("fps_min", "frames/s per client, min", {"1@full": "≥ 60", "200@100": "≥ 20", "100@100": "≥ 40",
                                             "50@full": "≥ 20"}),
    ("fps_median", "frames/s per client, median", {}),
    ("p95_gap_ms", "p95 gap, ms", {"200@100": "≤ 100"}),
    ("epochs_min", "epochs/s per session, min", {"50@full": "≥ 300"}),
    ("epochs_median", "epochs/s per session, median", {}),
    ("epochs_total", "epochs/s, all sessions", {}),
    ("engine_alone", "engine alone, 2 threads, epochs/s", {}),
    ("efficiency", "all sessions ÷ engine alone", {"50@full": "≥ 0.70"}),
    ("stream_vs_rest", "full speed ÷ REST step", {"1@full": "≥ 0.8"}),
    ("frames_per_s", "frames/s received, all clients", {}),
    ("messages_per_s", "messages/s received, all clients", {}),
    ("cpu_cores", "server CPU, cores", {}),
    ("loop_cores", "  event loop, cores", {}),
    ("other_cores", "  other threads (training), cores", {}),
    ("training_cores", "    of which in compiled training (wall), cores", {}),
    ("cpu_us_per_frame", "server CPU per frame, µs", {}),
    ("loop_us_per_frame", "event loop CPU per frame, µs", {}),
    ("loop_us_per_message", "event loop CPU per message, µs", {}),
]


def report(results: dict[str, list[dict[str, Figures]]], scenarios: list[str]) -> None:
    names = list(results)
    for scenario in scenarios:
        print(f"\n{scenario} (median of {len(results[names[0]])} round(s); each round's values in brackets)")
        print(f"{'':38}" + "".join(f"{name:>36}" for name in names) + f"{'target':>10}")
        for key, label, targets in ROWS:
            cells = []
            for name in names:
                values = [r[scenario][key] for r in results[name] if key in r[scenario]]
                if not values:
                    cells.append(f"{'':>36}")
                    continue
                digits = 2 if key in ("efficiency", "stream_vs_rest", "loop_cores", "cpu_cores",
                                      "other_cores", "training_cores") else 1
                shown = f"{statistics.median(values):.{digits}f}"
                if len(values) > 1:
                    shown += " [" + ", ".join(f"{v:.{digits}f}" for v in values) + "]"
                cells.append(f"{shown:>36}")
            if any(cell.strip() for cell in cells):
                print(f"{label:38}" + "".join(cells) + f"{targets.get(scenario, ''):>10}")


def main() -> None:
    if sys.argv[1:] == ["--worker"]:
        worker()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, action="append", default=[],
                        help="another checkout to run side by side (again for more)")
    parser.add_argument("--scenarios", nargs="+", default=["1@full", "200@100", "100@100", "50@full"],
                        metavar="N@PACE")
    parser.add_argument("--seconds", type=float, default=6.0, help="each window")
    parser.add_argument("--rounds", type=int, default=1, help="turns of every tree (their order alternates)")
    parser.add_argument("--client-processes", type=int, default=None)
    parser.add_argument("--skip-self", action="store_true", help="run only the --tree checkouts")
    parser.add_argument("--variant", action="append", default=[], metavar="ARGS",
                        help="this checkout again, its server given these arguments too, e.g. '--ws websockets'")
    args = parser.parse_args()
    servers = [*([] if args.skip_self else [(ROOT, [])]), *((ROOT, variant.split()) for variant in args.variant),
               *((tree.resolve(), []) for tree in args.tree)]
    names = [f"{tree.name} ({_commit(tree)})" + (f" {' '.join(extra)}" if extra else "") for tree, extra in servers]
    results: dict[str, list[dict[str, Figures]]] = {name: [] for name in names}
    order = list(range(len(servers)))
    for round_index in range(args.rounds):
        for index in order if round_index % 2 == 0 else order[::-1]:
            (tree, extra), name = servers[index], names[index]
            print(f"round {round_index + 1}: {name}, load {os.getloadavg()[0]:.1f}", flush=True)
            results[name].append(run_tree(tree, extra, args.scenarios, args.seconds, args.client_processes))
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    report(results, args.scenarios)


def _commit(tree: Path) -> str:
    done = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    return done.stdout.strip() + ("+" if dirty else "")


if __name__ == "__main__":
    main()
