"""`backprop-lab cluster` as a user runs it (backprop_lab.server.cluster.launcher): one address that
works, and after Ctrl-C nothing left running, not one of its children."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backprop_lab.server.cluster import launcher as cluster_command
from backprop_lab.server.cluster.services import free_port

START_SECONDS = 300  # as a worker's (tests/cluster/cluster_helpers.py): a cold numba cache compiles
STOP_SECONDS = 30
ADDRESS = re.compile(r"a cluster of 2 workers: (http://127\.0\.0\.1:\d+/)")


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # gone meanwhile
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    waiting = [pid]
    while waiting:
        for child in children.get(waiting.pop(), []):
            found.add(child)
            waiting.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def data() -> Iterator[Path]:
    # PostgreSQL runs as the `postgres` user when we are root: its folder must be reachable by it
    folder = Path(tempfile.mkdtemp(prefix="backprop-lab-cluster-"))
    folder.chmod(0o755)
    yield folder
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def test_the_cluster_serves_one_address_says_when_a_worker_dies_and_ctrl_c_stops_every_child(data: Path) -> None:
    port = free_port()
    output = data / "output.txt"
    with output.open("wb") as out:
        launcher = subprocess.Popen([sys.executable, "-m", "backprop_lab.server.cli", "cluster", "--workers", "2",
                                     "--port", str(port), "--data", str(data / "cluster"), "--classroom"],
                                    stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_SECONDS
        while not (found := ADDRESS.search(output.read_text())):
            assert launcher.poll() is None, f"the launcher exited: {output.read_text()}"
            assert time.monotonic() < deadline, f"no address within {START_SECONDS} s: {output.read_text()}"
            time.sleep(0.1)
        base = found[1]
        assert base == f"http://127.0.0.1:{port}/"
        teacher_link = re.search(rf"open ({re.escape(base)}teacher\?key=\S+)", output.read_text())
        assert teacher_link, output.read_text()
        children = descendants(launcher.pid)
        assert len(children) >= 5, "Redis, PostgreSQL, two workers and HAProxy"
        made = httpx.post(f"{base}api/v1/sessions", json={"dataset": "xor"}, timeout=60)
        assert made.status_code == 201, made.text
        sid = made.json()["id"]
        assert re.fullmatch(r"w[12]\.[A-Za-z0-9_-]{22}", sid)
        assert httpx.get(f"{base}api/v1/sessions/{sid}", cookies=made.cookies, timeout=60).status_code == 200
        w2 = next(pid for pid in children if b"--worker\x00w2\x00" in Path(f"/proc/{pid}/cmdline").read_bytes())
        os.kill(w2, signal.SIGKILL)  # a worker dies: the launcher says so, and goes on
        deadline = time.monotonic() + STOP_SECONDS
        while "worker w2 exited with code -9" not in output.read_text():
            assert time.monotonic() < deadline, f"the worker's death went unsaid: {output.read_text()}"
            time.sleep(0.05)
        assert launcher.poll() is None
        launcher.send_signal(signal.SIGINT)
        assert launcher.wait(STOP_SECONDS) == 0, output.read_text()
        deadline = time.monotonic() + STOP_SECONDS
        while left := {pid for pid in children if alive(pid)}:
            assert time.monotonic() < deadline, f"still running after the launcher stopped: {left}"
            time.sleep(0.05)
        assert "stopping" in output.read_text()
    finally:  # a failure above leaves nothing running either
        leftovers = descendants(launcher.pid)
        if launcher.poll() is None:
            launcher.send_signal(signal.SIGTERM)
            try:
                launcher.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                launcher.kill()
        for pid in leftovers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_cluster_of_no_workers_is_refused_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cluster_command.parse_args(["--workers", "0"])
    assert "--workers: at least 1 worker" in capsys.readouterr().err


def test_a_taken_port_stops_the_start_before_anything_runs(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"port {port} is taken: choose another with --port"):
            cluster_command.main(["--port", str(port), "--data", str(tmp_path)])
    assert not (tmp_path / "postgres").exists()
