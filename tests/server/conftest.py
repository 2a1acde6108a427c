"""Fixtures: a real uvicorn on 127.0.0.1 (in a thread of the test process, so tests can look
inside the app) for the REST and WebSocket tests, and an httpx client on it; the runs
databases (`runs_database`, `blank_database`: each test of saved runs runs on SQLite and on
PostgreSQL) and a live server keeping its runs in one (`runs_live`)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from backprop_lab.server.cli import LabServer, build_server
from backprop_lab.server.cluster.services import Postgres
from backprop_lab.server.deps import Services
from backprop_lab.server.settings import Limits, Settings, Timing

# The tests' own helper module, server_helpers, next to this file, and the shared ones of tests/
# (formula_tables): `pytest tests/server` alone finds them too.
sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))
from server_helpers import SERVER_START_SECONDS, TEACHER_KEY, client_from, free_port  # noqa: E402


@dataclass
class LiveServer:
    settings: Settings
    server: LabServer
    thread: threading.Thread

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.settings.port}"

    @property
    def app(self) -> FastAPI:
        return self.server.lab_app

    @property
    def lab(self) -> Services:
        return self.app.state.services

    def new_session(self, **config: object) -> str:
        response = httpx.post(f"{self.base}/api/v1/sessions", json=config, timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)


def start_live(settings: Settings) -> LiveServer:
    settings = replace(settings, port=free_port())
    server = build_server(settings)
    # Tests listen on loopback only, whatever the settings say: classroom settings (0.0.0.0)
    # still build their classroom allow-lists, and nothing outside this machine can connect.
    server.config.host = "127.0.0.1"
    server.config.log_level = "warning"
    server.config.configure_logging()
    thread = threading.Thread(target=server.run, name="live-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the live server stopped before it started")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the live server did not start within {SERVER_START_SECONDS} s")
        time.sleep(0.02)
    return LiveServer(settings, server, thread)


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    """A real uvicorn on a free port, shared by a module's tests."""
    server = start_live(Settings(timing=Timing(send_timeout_seconds=2.0)))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def classroom() -> Iterator[LiveServer]:
    """A real server in classroom mode (a teacher, students, quotas) on 127.0.0.1, shared by a
    module's tests; its teacher key is `TEACHER_KEY`. Students send from 127.0.0.2, 127.0.0.3
    (`server_helpers.client_from`)."""
    server = start_live(Settings(classroom_mode=True, teacher_key=TEACHER_KEY, timing=Timing(send_timeout_seconds=2.0)))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def teacher(classroom: LiveServer) -> Iterator[httpx.Client]:
    """The teacher of `classroom`, by bearer key, as a script is."""
    with client_from(classroom.base, "127.0.0.1", headers={"Authorization": f"Bearer {TEACHER_KEY}"}) as client:
        yield client


@pytest.fixture
def alice(classroom: LiveServer) -> Iterator[httpx.Client]:
    """A student of the `classroom` server, sending from 127.0.0.2."""
    with client_from(classroom.base, "127.0.0.2") as client:
        yield client


@pytest.fixture
def bob(classroom: LiveServer) -> Iterator[httpx.Client]:
    """Another student of the `classroom` server, sending from 127.0.0.3."""
    with client_from(classroom.base, "127.0.0.3") as client:
        yield client


@pytest.fixture(scope="module")
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base, timeout=60) as client:
        yield client


@pytest.fixture
def live_factory() -> Iterator[object]:
    """Start live servers with special settings; all are stopped after the test."""
    started: list[LiveServer] = []

    def start(limits: Limits | None = None, timing: Timing | None = None, **changes: object) -> LiveServer:
        settings = Settings(limits=limits or Limits(), timing=timing or Timing())
        server = start_live(replace(settings, **changes))  # type: ignore[arg-type]
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


# The databases saved runs are kept in: every runs test runs on each (ids `[sqlite]`, `[postgresql]`).
DATABASES = ("sqlite", "postgresql")


@pytest.fixture(scope="module")
def postgres_database(postgres: Postgres) -> str:
    """A database of this test process's PostgreSQL cluster (tests/conftest.py) for one test module."""
    return postgres.create_database()


@pytest.fixture(scope="module", params=DATABASES)
def runs_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """An empty runs database for a test module's server: an SQLite file, or the module's
    PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path_factory.mktemp("runs") / "runs.sqlite3")
    return request.getfixturevalue("postgres_database")


@pytest.fixture(params=DATABASES)
def blank_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty runs database for one test: a new SQLite file, or the module's PostgreSQL
    database with every table dropped (what the last test left is gone, whatever it did)."""
    if request.param == "sqlite":
        return str(tmp_path / "runs.sqlite3")
    url = request.getfixturevalue("postgres_database")
    engine = sa.create_engine(url)
    tables = sa.MetaData()
    tables.reflect(engine)
    tables.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="module")
def runs_live(runs_database: str) -> Iterator[LiveServer]:
    """A real server keeping its saved runs in `runs_database` (each kind in turn), shared by a
    module's tests."""
    server = start_live(Settings(db_path=runs_database, timing=Timing(send_timeout_seconds=2.0)))
    yield server
    server.stop()
