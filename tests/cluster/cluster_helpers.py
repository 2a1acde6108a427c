"""Helpers for the cluster's tests: real `backprop-lab` workers, each its own process, as the
cluster command starts them (the services they share come from the fixtures in conftest.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from backprop_lab.server.cluster.services import free_port, log_tail

# A worker reports ready once the engine's kernels are loaded from numba's cache (well under a
# second warm; a cold cache compiles for minutes on 2 shared cores): the same wait as the server
# tests' (tests/server/server_helpers.py).
WORKER_START_SECONDS = 300
WORKER_STOP_SECONDS = 15
ROOT = Path(__file__).resolve().parents[2]  # the checkout: its backprop_lab, not an installed one

__all__ = ["Worker", "free_port", "start_worker"]


@dataclass
class Worker:
    """One worker process: `base` and `ws` are its own address (not the proxy's)."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def output(self) -> str:
        """The end of what the worker printed (for an assertion's message)."""
        return log_tail(self.log)

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, as in a crash (nothing it holds is closed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM: the worker closes its sockets and exits (killed if it takes too long); its log
        goes with it (a killed worker's stays readable until then)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.unlink(missing_ok=True)


def start_worker(name: str, port: int, redis_url: str, db_url: str, classroom: bool = False,
                 teacher_key: str | None = None, training_threads: int = 1,
                 extra_args: tuple[str, ...] = ()) -> Worker:
    """A real `backprop-lab --worker NAME` on 127.0.0.1:`port`, ready (its /api/v1/health
    answers 200) when returned."""
    command = [sys.executable, "-m", "backprop_lab.server.cli", "--worker", name, "--port", str(port),
               "--redis", redis_url, "--db", db_url, "--training-threads", str(training_threads), *extra_args]
    if classroom:
        command.append("--classroom")
    if teacher_key is not None:
        command += ["--teacher-key", teacher_key]
    log = Path(tempfile.mkstemp(prefix=f"backprop-lab-{name}-", suffix=".log")[1])
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    worker = Worker(name, port, process, log)
    deadline = time.monotonic() + WORKER_START_SECONDS
    while True:
        if process.poll() is not None:
            said = worker.output()
            worker.stop()
            raise RuntimeError(f"worker {name} exited with code {process.returncode}:\n{said}")
        try:
            if httpx.get(f"{worker.base}/api/v1/health", timeout=2).status_code == 200:
                return worker
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            worker.kill()
            said = worker.output()
            worker.stop()
            raise RuntimeError(f"worker {name} did not answer within {WORKER_START_SECONDS} s:\n{said}")
        time.sleep(0.05)
