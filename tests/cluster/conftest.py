"""Fixtures for the cluster's tests: the engines the workers share, started fresh from Debian's
binaries on 127.0.0.1 (backprop_lab.server.cluster.services), never the machine's own services.

- `redis_url`: a fresh `redis-server` per test module (an empty Redis costs about 0.1 s);
- `postgres_url`: a fresh database per test module, in the one PostgreSQL cluster of this test
  process (`postgres`, tests/conftest.py: one per xdist worker);
- `workers`: start workers (tests/cluster/cluster_helpers.py), all stopped after the test.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from backprop_lab.server.cluster.services import Postgres, start_redis

# The cluster tests' own helper module, cluster_helpers, next to this file.
sys.path.insert(0, str(Path(__file__).parent.parent / "server"))  # server_helpers, shared with the server's tests
sys.path.insert(0, str(Path(__file__).parent))
from cluster_helpers import Worker, start_worker  # noqa: E402


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    redis = start_redis()
    yield redis.url
    redis.stop()


@pytest.fixture(scope="module")
def postgres_url(postgres: Postgres) -> str:
    return postgres.create_database()


@pytest.fixture
def workers() -> Iterator[Callable[..., Worker]]:
    """`workers(name, port, redis_url, db_url, …)` = `start_worker(…)`; every worker started
    is stopped after the test."""
    started: list[Worker] = []

    def start(*args: object, **options: object) -> Worker:
        worker = start_worker(*args, **options)  # type: ignore[arg-type]
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
