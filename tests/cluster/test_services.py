"""Our own Redis, PostgreSQL and HAProxy (backprop_lab.server.cluster.services): each starts on
127.0.0.1, answers, and is gone once stopped; what cannot start says why."""

from __future__ import annotations

from pathlib import Path

import httpx
import psycopg
import pytest
import redis

from backprop_lab.server.cluster import services
from backprop_lab.server.cluster.services import Postgres, ServiceError, answers, free_port


def test_redis_starts_answers_and_stops() -> None:
    service = services.start_redis()
    client = redis.Redis.from_url(service.url)
    client.set("lab:probe", b"\x00\xffbytes")
    assert client.get("lab:probe") == b"\x00\xffbytes"
    client.close()
    service.stop()
    assert not answers(service.port)
    assert not service.folder.exists()


def test_postgres_keeps_what_is_written_and_a_second_database_is_separate(postgres: Postgres) -> None:
    url = postgres.url.replace("+psycopg", "")
    with psycopg.connect(url) as connection:
        connection.execute("CREATE TABLE probe (data bytea, doc jsonb)")
        connection.execute("INSERT INTO probe VALUES (%s, %s)", (b"\x00\xff", '{"a": [1, 2]}'))
    with psycopg.connect(url) as connection:
        assert connection.execute("SELECT data, doc FROM probe").fetchall() == [(b"\x00\xff", {"a": [1, 2]})]
    other = postgres.create_database().replace("+psycopg", "")
    with psycopg.connect(other) as connection, pytest.raises(psycopg.errors.UndefinedTable):
        connection.execute("SELECT * FROM probe")


def test_postgres_refuses_a_wrong_password_and_stops(tmp_path: Path) -> None:
    service = services.start_postgres(fast=True)
    try:
        wrong = service.url.replace("+psycopg", "").replace(service.password, "not-the-password")
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(wrong)
    finally:
        service.stop()
    assert not answers(service.port)
    assert not service.folder.exists()


def haproxy_config(port: int) -> str:
    return f"""
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
frontend lab
    bind 127.0.0.1:{port}
    http-request return status 200 content-type text/plain string "proxied"
"""


def test_haproxy_starts_with_its_config_answers_and_stops() -> None:
    port = free_port()
    service = services.start_haproxy(haproxy_config(port), port)
    response = httpx.get(service.url)
    assert (response.status_code, response.text) == (200, "proxied")
    service.stop()
    assert not answers(port)


def test_a_config_haproxy_refuses_is_reported_in_its_words() -> None:
    port = free_port()
    with pytest.raises(ServiceError, match="haproxy refuses its config(.|\n)*no_such_keyword"):
        services.start_haproxy(haproxy_config(port) + "    no_such_keyword\n", port)
    assert not answers(port)


@pytest.mark.parametrize(("start", "package"), [(services.start_redis, "redis-server"),
                                                (services.start_postgres, "postgresql"),
                                                (lambda: services.start_haproxy("", free_port()), "haproxy")])
def test_a_missing_binary_is_refused_naming_the_package_to_install(
        start: object, package: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(services, "SYSTEM_BIN", str(tmp_path))
    assert callable(start)
    with pytest.raises(ServiceError, match=f"not installed: install Debian's {package} package"):
        start()
