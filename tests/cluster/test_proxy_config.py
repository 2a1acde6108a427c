"""HAProxy's configuration for N workers (backprop_lab.server.cluster.proxy), read as text and checked
by haproxy itself: who gets which path, who stands in for a worker that is down."""

from __future__ import annotations

import re
import subprocess

import pytest

from backprop_lab.server.cluster.proxy import Worker, config, connections_within
from backprop_lab.server.cluster.services import binary

WORKERS = [Worker("w1", "127.0.0.1", 9101), Worker("w2", "127.0.0.1", 9102), Worker("w3", "10.0.0.3", 8000)]


def sections(text: str) -> dict[str, list[str]]:
    """'backend w1' → its lines (stripped)."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line and not line.startswith(" "):
            current = found.setdefault(line, [])
        elif line.strip():
            current.append(line.strip())
    return found


def routed_backend(text: str, path: str) -> str:
    """The backend the frontend's rules send `path` to (the rules as HAProxy applies them: first match)."""
    frontend = sections(text)["frontend lab"]
    for line in frontend:
        rule = re.fullmatch(r"use_backend (\S+) if \{ path_reg (\S+) \}", line)
        if rule and re.search(rule[2], path):
            return rule[1]
    return next(line.split()[1] for line in frontend if line.startswith("default_backend"))


@pytest.mark.parametrize(("path", "backend"), [
    ("/api/v1/sessions/w1.V-KBs228cISAzVlmc2ATBQ", "w1"),
    ("/api/v1/sessions/w2.V-KBs228cISAzVlmc2ATBQ/step", "w2"),
    ("/api/v1/sessions/w3.abc/params.safetensors", "w3"),
    ("/ws/sessions/w2.V-KBs228cISAzVlmc2ATBQ", "w2"),
    ("/api/v1/sessions", "workers"),  # a new session: the least loaded worker
    ("/api/v1/sessions/w12.abc", "workers"),  # no such worker: not w1's
    ("/api/v1/sessions/V-KBs228cISAzVlmc2ATBQ", "workers"),  # a single process's id
    ("/", "workers"),
    ("/static/css/app.css", "workers"),
    ("/watch/KXM47P", "workers"),
    ("/api/v1/runs/w1.abc", "workers"),  # a run is the database's, not a worker's
])
def test_a_session_s_paths_go_to_the_worker_named_in_its_id_and_the_rest_to_the_least_loaded(path, backend):
    assert routed_backend(config(WORKERS, "127.0.0.1:8000", 1000), path) == backend


def test_each_worker_s_backend_has_every_other_worker_as_a_backup_and_all_are_health_checked():
    found = sections(config(WORKERS, "127.0.0.1:8000", 1000))
    for worker in WORKERS:
        servers = [line for line in found[f"backend {worker.name}"] if line.startswith("server ")]
        assert servers[0] == f"server {worker.name} {worker.address} check inter 500 fall 2 rise 2"
        backups = {line.split()[1] for line in servers[1:] if line.endswith(" backup")}
        assert backups == {other.name for other in WORKERS} - {worker.name}
    shared = found["backend workers"]
    assert "balance leastconn" in shared
    assert [line for line in shared if line.startswith("server ")] == [
        f"server {w.name} {w.address} check inter 500 fall 2 rise 2 cookie {w.name}" for w in WORKERS]
    for name, lines in found.items():
        if name.startswith("backend "):
            assert "http-check send meth GET uri /api/v1/health ver HTTP/1.1 hdr Host 127.0.0.1" in lines, name


def test_a_client_stays_on_its_first_worker_outside_its_sessions_paths_unless_that_worker_is_down():
    shared = sections(config(WORKERS, "127.0.0.1:8000", 1000))["backend workers"]
    assert "cookie lab_worker insert indirect nocache httponly attr SameSite=Lax" in shared
    assert "option redispatch" in shared
    for worker in WORKERS:  # a session's own backend needs no cookie: its id names the worker
        assert not any("cookie" in line for line in sections(config(WORKERS, "127.0.0.1:8000", 1000))[
            f"backend {worker.name}"])


def test_websockets_live_an_hour_and_the_client_s_address_is_the_proxy_s_to_say():
    found = sections(config(WORKERS, "127.0.0.1:8000", 1000))
    assert "timeout tunnel 1h" in found["defaults"]
    assert "option forwardfor" in found["defaults"]
    assert found["frontend lab"][:2] == ["bind 127.0.0.1:8000", "http-request del-header X-Forwarded-For"]
    assert "maxconn 1000" in found["global"]


def test_haproxy_accepts_the_configuration(tmp_path):
    path = tmp_path / "haproxy.cfg"
    path.write_text(config(WORKERS, "127.0.0.1:8000", connections_within(20000)))
    checked = subprocess.run([binary("haproxy"), "-c", "-f", path], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_connections_fit_the_open_files_limit_two_descriptors_each():
    assert connections_within(20000) == 9950
    assert connections_within(50) == 1


@pytest.mark.parametrize(("workers", "message"), [
    ([], "at least one worker"),
    ([Worker("w1", "127.0.0.1", 1), Worker("w1", "127.0.0.1", 2)], "a name of its own"),
])
def test_a_cluster_without_workers_or_with_two_of_one_name_is_refused(workers, message):
    with pytest.raises(ValueError, match=message):
        config(workers, "127.0.0.1:8000", 1000)
