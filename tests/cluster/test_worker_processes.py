"""Workers as the cluster runs them (tests/cluster/cluster_helpers.py): real processes sharing
one Redis and one PostgreSQL database, each making session ids that start with its name."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from cluster_helpers import Worker, free_port, start_worker


def test_two_workers_share_one_database_and_each_names_its_sessions(
        workers: Callable[..., Worker], redis_url: str, postgres_url: str) -> None:
    first = workers("w1", free_port(), redis_url, postgres_url)
    second = workers("w2", free_port(), redis_url, postgres_url)
    for worker in (first, second):
        response = httpx.post(f"{worker.base}/api/v1/sessions", json={}, timeout=30)
        assert response.status_code == 201, response.text
        assert response.json()["id"].startswith(f"{worker.name}.")
    first.kill()
    assert first.process.returncode == -9
    assert httpx.get(f"{second.base}/api/v1/health", timeout=5).status_code == 200


def test_a_worker_that_cannot_start_says_why(redis_url: str, postgres_url: str) -> None:
    with pytest.raises(RuntimeError, match="worker W1 exited with code 1:(.|\n)*--worker"):
        start_worker("W1", free_port(), redis_url, postgres_url)
