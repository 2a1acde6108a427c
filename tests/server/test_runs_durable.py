"""Saved runs survive `kill -9`: after a restart on the same database every run is listed and
identical, an SQLite file passes `PRAGMA integrity_check`, and a kill in the middle of saves
leaves each run whole or absent; on an SQLite file and on PostgreSQL (`blank_database`)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import sqlalchemy as sa

from backprop_lab.server.saved.run_store import database_url

ROOT = Path(__file__).resolve().parents[2]
SERVER_START_SECONDS = 300  # ready once the kernels are loaded (compiled, on a cold cache: see conftest.py)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def server(database: str) -> Iterator[httpx.Client]:
    """`python -m backprop_lab --db database` on a free port; killed with SIGKILL at the end."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "backprop_lab", "--port", str(port), "--db", str(database)],
                               cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            assert process.poll() is None, "the server exited before it was ready"
            try:
                client.get("/api/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        client.process = process  # type: ignore[attr-defined]
        yield client
    finally:
        client.close()
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)


def integrity(database: str) -> str:
    """SQLite's own check of its file ("ok"); PostgreSQL's write-ahead log needs none."""
    if "://" in database:
        return "ok"
    with sqlite3.connect(database) as raw:
        return raw.execute("PRAGMA integrity_check").fetchone()[0]


def test_runs_saved_before_a_kill_9_come_back_identical(blank_database):
    database = blank_database
    with server(database) as http:
        before = {}
        for seed in range(4):
            sid = http.post("/api/v1/sessions", json={"dataset": "xor", "seed": seed, "optimizer": "adam"}).json()["id"]
            http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 100 + seed})
            run_id = http.post("/api/v1/runs", json={"session_id": sid, "name": f"run {seed} <b>x</b>"}).json()["id"]
            before[run_id] = (http.get(f"/api/v1/runs/{run_id}").json(),
                              http.get(f"/api/v1/runs/{run_id}/export").json()["run"]["resume"])
        http.process.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
        http.process.wait(10)  # type: ignore[attr-defined]
    assert integrity(database) == "ok"
    with server(database) as http:
        listed = {run["id"] for run in http.get("/api/v1/runs").json()["runs"]}
        assert listed == set(before)
        for run_id, (run, resume) in before.items():
            assert http.get(f"/api/v1/runs/{run_id}").json() == run
            assert http.get(f"/api/v1/runs/{run_id}/export").json()["run"]["resume"] == resume


def test_a_kill_9_during_saves_leaves_each_run_whole_or_absent(blank_database):
    database = blank_database
    with server(database) as http:
        # A wide network: each run has ~100,000 snapshot numbers to write.
        sid = http.post("/api/v1/sessions", json={"hidden_layers": [64, 64, 64], "batch_size": 50}).json()["id"]
        http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 400})
        base = str(http.base_url)
        started = threading.Event()
        answered: list[str] = []

        def keep_saving() -> None:
            with httpx.Client(base_url=base, timeout=30) as own:
                for index in range(200):
                    started.set()
                    try:
                        response = own.post("/api/v1/runs", json={"session_id": sid, "name": f"save {index}"})
                    except httpx.HTTPError:
                        return  # the server is gone
                    answered.append(response.json()["id"])

        savers = [threading.Thread(target=keep_saving) for _ in range(3)]
        for saver in savers:
            saver.start()
        started.wait(10)
        deadline = time.monotonic() + 30
        while len(answered) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        http.process.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]  # saves are in flight
        http.process.wait(10)  # type: ignore[attr-defined]
        for saver in savers:
            saver.join(30)
    assert len(answered) >= 5
    assert integrity(database) == "ok"
    engine = sa.create_engine(database_url(database))
    with engine.connect() as connection:
        counts = dict(connection.execute(sa.text("SELECT id, snapshot_count FROM runs")).all())
        stored = dict(connection.execute(sa.text("SELECT run_id, count(*) FROM run_snapshots GROUP BY run_id"))
                      .all())
    engine.dispose()
    assert set(answered) <= set(counts)  # every save that was answered is there
    assert stored == {run_id: count for run_id, count in counts.items()}  # each whole; no orphan snapshots
    with server(database) as http:
        for run_id in counts:
            run = http.get(f"/api/v1/runs/{run_id}").json()
            assert len(run["snapshots"]) == counts[run_id] and run["snapshots"][-1]["step"] == 400
