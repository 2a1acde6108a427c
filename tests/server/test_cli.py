"""The `backprop-lab` command: options, the classroom URL, a graceful SIGTERM (sockets
closed with 1001, the process gone within 10 s), and a socket cap that leaves the descriptors
HTTP needs under a low limit on open files."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from server_helpers import SERVER_START_SECONDS, free_port
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from backprop_lab.server import cli
from backprop_lab.server.classroom.quotas import Quotas, Share
from backprop_lab.server.runtime.preparation import default_record
from backprop_lab.server.saved.run_store import default_path
from backprop_lab.server.settings import DESCRIPTOR_RESERVE, Limits, Settings

ROOT = Path(__file__).resolve().parents[2]


def test_the_options_become_settings():
    args = cli.parse_args(["--host", "0.0.0.0", "--port", "9001", "--open", "--db", "runs.db"])
    settings = cli.settings_from(args)
    assert (settings.host, settings.port, settings.open_browser, str(settings.db_path)) == (
        "0.0.0.0", 9001, True, "runs.db")
    # the user's data folder
    assert cli.settings_from(cli.parse_args([])) == Settings(db_path=default_path(), cold_start_record=default_record())


def test_quotas_take_a_student_s_and_an_address_s_share_per_resource_and_refuse_nonsense(capsys):
    settings = cli.settings_from(cli.parse_args(["--classroom", "--quota", "sessions=6,120", "--quota", "races=2,30"]))
    assert settings.classroom and settings.quotas.sessions == Share(6, 120) and settings.quotas.races == Share(2, 30)
    assert settings.quotas.uploads == Quotas().uploads  # the rest keep their defaults
    for wrong in ("sesions=6,120", "sessions=6", "sessions=0,10", "sessions=20,10"):
        with pytest.raises(SystemExit) as refused:
            cli.settings_from(cli.parse_args(["--quota", wrong]))
        assert "--quota" in str(refused.value)


def test_training_threads_default_to_one_per_core_and_take_a_count():
    assert Settings().training_threads == (os.cpu_count() or 1)
    assert cli.settings_from(cli.parse_args(["--training-threads", "3"])).training_threads == 3


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_thread_count_is_refused_with_a_clear_message(value, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(["--training-threads", value])
    assert exited.value.code == 2
    error = capsys.readouterr().err
    assert "--training-threads" in error and "at least 1" in error


@pytest.mark.parametrize("value", [0, -1, 1.5, True])
def test_settings_refuse_a_thread_count_below_one(value):
    with pytest.raises(ValueError, match="training_threads: at least 1"):
        Settings(training_threads=value)


def test_classroom_mode_prints_the_address_for_students(monkeypatch, capsys, tmp_path):
    started: list[Settings] = []

    class Stub:
        def run(self) -> None:
            pass

    monkeypatch.setattr(cli, "build_server", lambda settings: started.append(settings) or Stub())
    cli.main(["--host", "0.0.0.0", "--port", "9002", "--db", str(tmp_path / "runs.db")])
    out = capsys.readouterr().out
    assert "Classroom mode" in out and ":9002/" in out and started[0].classroom
    assert started[0].public_url() in out
    assert f"{started[0].public_url()}watch" in out, "where students type the share code"


def test_sigterm_closes_sockets_with_1001_and_exits_quickly(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "backprop_lab", "--port", str(port), "--db", str(tmp_path / "runs.db")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, base)
        sid = httpx.post(f"{base}/api/v1/sessions", json={}).json()["id"]

        async def watch() -> tuple[int | None, float]:
            async with connect(f"ws://127.0.0.1:{port}/ws/sessions/{sid}", origin=base) as ws:
                await ws.recv()
                await ws.send(json.dumps({"type": "play"}))
                await asyncio.sleep(0.3)
                sent = time.monotonic()
                process.send_signal(signal.SIGTERM)
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                except ConnectionClosed as closed:
                    return (closed.rcvd.code if closed.rcvd else None), sent
            return None, sent

        code, sent = asyncio.run(watch())
        assert code == 1001
        process.wait(timeout=10)
        assert time.monotonic() - sent < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_python_dash_m_server_is_the_same_command(flag):
    result = subprocess.run([sys.executable, "-m", "backprop_lab", flag], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=30)
    assert result.returncode == 0 and "backprop-lab" in result.stdout


def test_under_a_low_open_files_limit_sockets_are_refused_before_http_runs_out_of_descriptors(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    # `python -m backprop_lab` started from a shell whose limit on open files is 512, its hard one 1,024
    start = ("import resource, runpy, sys; resource.setrlimit(resource.RLIMIT_NOFILE, (512, 1024)); "
             "sys.argv[0] = 'backprop-lab'; runpy.run_module('backprop_lab', run_name='__main__')")
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-c", start, "--port", str(port), "--db", str(tmp_path / "runs.db")], cwd=ROOT, env=env,
        stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(process, base)
        health = httpx.get(f"{base}/api/v1/health").json()
        assert health["max_sockets"] == 1024 - DESCRIPTOR_RESERVE, "the soft limit was not raised to the hard one"

        async def fill() -> tuple[list, list[int]]:
            sockets: list = []
            refusals: list[int] = []
            per_session = Limits().max_sockets_per_session

            async def one(sid: str):  # type: ignore[no-untyped-def]
                try:
                    ws = await connect(f"ws://127.0.0.1:{port}/ws/sessions/{sid}", origin=base, open_timeout=60,
                                       close_timeout=1)
                except InvalidStatus as refused:
                    return refused.response.status_code
                await ws.recv()  # its hello
                return ws

            async with httpx.AsyncClient(base_url=base) as http:
                while not refusals:  # a session at a time, its sockets in parallel, until the server says no
                    sid = (await http.post("/api/v1/sessions", json={})).json()["id"]
                    for outcome in await asyncio.gather(*(one(sid) for _ in range(per_session))):
                        (refusals if isinstance(outcome, int) else sockets).append(outcome)
            return sockets, refusals

        async def forty_new_connections() -> list[int]:
            async def one() -> int:
                async with httpx.AsyncClient(base_url=base, timeout=30) as fresh:  # a connection of its own
                    return (await fresh.get("/api/v1/health")).status_code

            return list(await asyncio.gather(*(one() for _ in range(40))))

        async def scenario() -> None:
            sockets, refusals = await fill()
            try:
                assert len(sockets) == health["max_sockets"] and set(refusals) == {429}
                statuses = await forty_new_connections()
                assert statuses == [200] * 40, f"{40 - statuses.count(200)} of 40 HTTP requests failed"
            finally:
                await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)

        asyncio.run(scenario())
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
    assert "open files: at most 1024 (was 512)" in (tmp_path / "server.log").read_text()


def wait_until_ready(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS  # ready once the kernels are compiled
    while True:
        assert process.poll() is None, "the server exited before it was ready"
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:  # 503 while a first start compiles
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the server was not ready within {SERVER_START_SECONDS} s"
        time.sleep(0.1)
