"""What the classroom-mode benchmarks (`bench/abuse.py`, `bench/soak.py`) share: a server started
in classroom mode, students who each hold an identity of their own and connect from a source
address of their own, and what the kernel says about the server process.

Why source addresses: quotas count per student *and* per source address (backprop_lab.server.classroom.quotas), and
on one machine every client would come from 127.0.0.1, one "address" for the whole class. The
whole 127.0.0.0/8 block is loopback on Linux, so a client that binds 127.0.0.2 before it
connects is another laptop to the server, and nothing leaves the machine.

Why identities: in classroom mode a client without the teacher key is a student, known by the
token of the `lab_identity` cookie its first HTTP answer hands out. A student's HTTP client keeps
that cookie, and its WebSockets send it back in their handshake.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
COOKIE = "lab_identity"  # backprop_lab.server.classroom.identity.COOKIE
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ClassroomServer:
    """`python -m backprop_lab --classroom` on 127.0.0.1 and a free port, this tree first on the path,
    its saved runs in a temporary database; `stop()` ends it and removes the database."""

    def __init__(self, teacher_key: str, threads: int | None = None) -> None:
        self.teacher_key = teacher_key
        self._folder = tempfile.TemporaryDirectory(prefix="bench-classroom-")
        port = free_port()
        command = [sys.executable, "-m", "backprop_lab", "--classroom", "--host", "127.0.0.1", "--port", str(port),
                   "--teacher-key", teacher_key, "--db", str(Path(self._folder.name) / "runs.sqlite3")]
        if threads is not None:
            command += ["--training-threads", str(threads)]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        # A session of its own: on Linux (autogroup scheduling) the server then takes its own share
        # of the cores, as on a machine of its own, not one shared with the benchmark's clients.
        # Ctrl-C does not reach it there: `stop()` ends it.
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            if self.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/api/v1/health", timeout=1).status_code == 200:  # 503: the engine compiles
                    return
            time.sleep(0.1)
        self.stop()
        raise SystemExit("the classroom server did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._folder.cleanup()


@dataclass
class Student:
    """One client of the classroom: its source address and its credential (a student's token,
    sent back as the cookie, or the teacher key, sent as a bearer token)."""

    base: str
    address: str  # 127.0.0.x: the source address its connections bind
    token: str
    teacher: bool = False

    @classmethod
    async def join(cls, base: str, address: str) -> Student:
        """A new student: the token comes from the cookie of its first HTTP answer."""
        async with httpx.AsyncClient(base_url=base, transport=httpx.AsyncHTTPTransport(local_address=address),
                                     timeout=30) as http:
            answer = await http.get("/api/v1/identity")
            answer.raise_for_status()
            token = answer.cookies.get(COOKIE)
        if not token or answer.json()["role"] != "student":
            raise SystemExit(f"{base} handed no student identity: is it in classroom mode (--classroom)?")
        return cls(base, address, token)

    def headers(self) -> dict[str, str]:
        if self.teacher:
            return {"Authorization": f"Bearer {self.token}"}
        return {"Cookie": f"{COOKIE}={self.token}"}

    def http(self, timeout: float = 60) -> httpx.AsyncClient:
        """An HTTP client from this student's address, with its credential on every request."""
        return httpx.AsyncClient(base_url=self.base, headers=self.headers(), timeout=timeout,
                                 transport=httpx.AsyncHTTPTransport(local_address=self.address))

    async def connect(self, path: str) -> ClientConnection:
        """A WebSocket (`/ws/sessions/{id}` or `/ws/watch/{code}`) from this student's address, its
        `hello` already read. A refused handshake raises websockets' InvalidStatus."""
        ws = await connect(self.base.replace("http://", "ws://") + path, origin=self.base,  # type: ignore[arg-type]
                           additional_headers=self.headers(), local_addr=(self.address, 0), max_size=2**24,
                           close_timeout=1)
        await ws.recv()  # hello
        return ws


@dataclass(frozen=True)
class ProcessStatus:
    """The server process as the kernel sees it (Linux /proc): memory, threads, open files."""

    rss_mb: float
    threads: int
    open_files: int

    @classmethod
    def of(cls, pid: int | None) -> ProcessStatus | None:
        if pid is None:
            return None
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        return cls(rss_mb=int(fields["VmRSS"].split()[0]) / 1024, threads=int(fields["Threads"]),
                   open_files=len(os.listdir(f"/proc/{pid}/fd")))


def thread_cpu_seconds(pid: int | None) -> dict[str, float]:
    """CPU seconds (user + system) of the server's threads so far, in three groups: the event
    loop (uvicorn runs it on the main thread, whose id is the process's), the loss-surface threads
    (the only ones that lower their priority: a positive nice), and every other thread (the
    training threads, and the worker threads that run database calls). Empty when unknown."""
    if pid is None:
        return {}
    threads: list[tuple[str, int, float]] = []  # (thread id, nice, CPU seconds)
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended meanwhile
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            threads.append((task.name, int(fields[16]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS))
    main_nice = next((nice for tid, nice, _ in threads if tid == str(pid)), 0)
    groups = {"event loop": 0.0, "surfaces": 0.0, "training and other": 0.0}
    for tid, nice, seconds in threads:
        group = "event loop" if tid == str(pid) else "surfaces" if nice > main_nice else "training and other"
        groups[group] += seconds
    return groups
