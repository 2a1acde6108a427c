"""The proxy in front of a cluster's workers: HAProxy's configuration for N of them (docs/deploy.md).

A session's REST paths (`/api/v1/sessions/{id}…`) and its stream (`/ws/sessions/{id}`) go to
the worker named before the dot of its id (`w1.…` → backend `w1`): one backend per worker, whose
servers are that worker first and every other one as a `backup`, so while the worker is down its
sessions' paths reach a live worker, which adopts the session from its checkpoint. Everything
else (new sessions, pages, static files, watch pages, classes, runs) goes to the `workers`
backend, to the worker with the fewest connections (`balance leastconn`: a WebSocket is one
long connection, so the fewest connections is the fewest students), and from then on to that
same worker for that browser or script (`STICKY_COOKIE`, set by HAProxy and naming the worker):
what a client made there besides its sessions lives on that worker alone (an uploaded data set
that a new session then uses, a job it then polls, the session a run is saved from, named in a
request's body, not its path). A client whose worker is down goes to the least loaded live one
(`option redispatch`). Every server is checked with `GET /api/v1/health` twice a second, down
after two failures, up after two successes.

Why HAProxy rather than nginx: in their free editions only HAProxy routes on a path pattern to a
named backend *and* checks its servers actively (nginx's free edition marks a server down only
when a client's request to it fails, so a dead worker's students would each hit it first) and
keeps backup servers per backend; leastconn and WebSocket tunnels with their own timeout come
with both, without a module to build. Debian ships HAProxy 2.6 (`apt install haproxy`).

The proxy drops any `X-Forwarded-For` a client sends and sets its own: a worker trusts that
header from 127.0.0.1 only (`cli.build_server`), so a worker's per-address quotas count the
student's address and a client cannot claim another's.
"""

from __future__ import annotations

from dataclasses import dataclass

HEALTH_PATH = "/api/v1/health"
CHECK = "check inter 500 fall 2 rise 2"  # twice a second; down (and up again) after two in a row
# A session's paths: REST under /api/v1/sessions/ and its stream under /ws/sessions/.
SESSION_PATHS = r"^/(api/v1|ws)/sessions/"
SHARED_BACKEND = "workers"
STICKY_COOKIE = "lab_worker"  # HAProxy's cookie: the worker a client's requests outside its sessions' paths go to
TUNNEL_TIMEOUT = "1h"  # an idle WebSocket (a paused session's page) is kept this long
UNLIMITED_FILES = 1 << 20  # what counts as the limit where open files have none
OWN_FILES = 100  # descriptors HAProxy keeps for itself (listeners, checks, logs)


@dataclass(frozen=True)
class Worker:
    name: str  # the worker's name, the first part of its session ids (`Settings.worker`)
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def _server(worker: Worker, backup: bool = False, sticky: bool = False) -> str:
    return (f"    server {worker.name} {worker.address} {CHECK}" + (" backup" if backup else "")
            + (f" cookie {worker.name}" if sticky else ""))


def _backend(name: str, servers: list[str], shared: bool = False) -> list[str]:
    lines = [f"backend {name}"]
    if shared:
        lines += [
            "    balance leastconn",
            # inserted when a client has none (or names a worker that is down), stripped before the worker
            f"    cookie {STICKY_COOKIE} insert indirect nocache httponly attr SameSite=Lax",
            "    option redispatch",
        ]
    lines += [
        "    option httpchk",  # with a Host the worker accepts: its allow-list refuses a request without one
        f"    http-check send meth GET uri {HEALTH_PATH} ver HTTP/1.1 hdr Host 127.0.0.1",
        "    http-check expect status 200",
        *servers,
        "",
    ]
    return lines


def connections_within(open_files: int) -> int:
    """HAProxy's `maxconn` within a limit of `open_files` descriptors: each connection holds two
    (the client's and the worker's), and HAProxy refuses to start past its limit."""
    return max(1, (open_files - OWN_FILES) // 2)


def config(workers: list[Worker], bind: str, max_connections: int) -> str:
    """HAProxy's configuration: listen on `bind` ("127.0.0.1:8000"), route to `workers`, hold at
    most `max_connections` (each a student's socket or a request; `connections_within`)."""
    if not workers:
        raise ValueError("workers: a cluster has at least one worker")
    names = [worker.name for worker in workers]
    if len(set(names)) != len(names):
        raise ValueError(f"workers: each worker needs a name of its own, got {names}")
    lines = [
        "global",
        f"    maxconn {max_connections}",
        "",
        "defaults",
        "    mode http",
        "    option forwardfor",  # the student's address, for the worker's per-address quotas
        "    timeout connect 5s",
        "    timeout client 60s",
        "    timeout server 60s",
        f"    timeout tunnel {TUNNEL_TIMEOUT}",
        "    timeout client-fin 5s",
        "",
        "frontend lab",
        f"    bind {bind}",
        "    http-request del-header X-Forwarded-For",  # only the proxy says who the client is
    ]
    for worker in workers:
        lines.append(f"    use_backend {worker.name} if {{ path_reg {SESSION_PATHS}{worker.name}\\. }}")
    lines += [f"    default_backend {SHARED_BACKEND}", ""]
    for worker in workers:
        others = [_server(other, backup=True) for other in workers if other is not worker]
        lines += _backend(worker.name, [_server(worker), *others])
    lines += _backend(SHARED_BACKEND, [_server(worker, sticky=True) for worker in workers], shared=True)
    return "\n".join(lines)
