"""Server settings: where to listen, who may connect, and every cap, in one frozen dataclass.

Settings are built by the caller (`backprop_lab.server.cli` from the command line, tests directly) and
handed to `create_app`; nothing here runs at import time, so two apps with different settings
can live in one process (the tests do that).
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from backprop_lab.engine.warmup import Progress, warm_up
from backprop_lab.server.classroom.identity import new_teacher_key
from backprop_lab.server.classroom.quotas import Quotas
from backprop_lab.server.wire.session_models import MAX_STEPS_PER_REQUEST

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WORKER_NAME = re.compile(r"[a-z][a-z0-9]{0,15}")  # a cluster worker's name: a session id's first part
# File descriptors kept for what is not a WebSocket when the socket cap is derived from the
# process's limit (`Limits.sockets_within`): every socket is one descriptor, and past the limit
# the server can accept nothing at all, not even a page load. The process itself holds about 20
# at rest (the event loop, its pipes, the listening socket, the log) and opens more for a
# moment (numba's cache, static files): 64. The database: SQLite's file, WAL and shared memory
# per connection, or a pool of connections to a database URL: 64. HTTP connections beside the
# sockets (a classroom's page loads and REST calls, a browser opening up to 6 at a time): 128.
DESCRIPTOR_RESERVE = 64 + 64 + 128
# uvicorn's WebSocket implementations (`--ws`), the default first: chosen by the event loop's CPU
# per message sent, all else equal (bench/hall.py, docs/budgets.md); wsproto is not installed
# with the lab
WS_IMPLEMENTATIONS = ("websockets-sansio", "websockets", "wsproto")


@dataclass(frozen=True)
class Limits:
    """Caps that keep one user (or a classroom) from exhausting the server (docs/protocol.md,
    "Caps"; docs/api.md, "Errors"). The defaults fit a lecture hall: 200 students with a session
    and a page each, watching their teacher's shared session too (200 viewers, a projector, the
    teacher's own pages), with room to spare (bench/hall.py plays 200 sessions at once)."""

    max_sessions: int = 300  # 200 students, the teacher's few, second tabs; 10 % kept for newcomers
    max_parameters: int = 50_000  # weights + biases of one network
    max_rows: int = 10_000  # samples of a generated set, rows of an uploaded CSV
    max_columns: int = 32  # columns of an uploaded CSV (target included)
    max_hidden_layers: int = 16
    max_neurons: int = 1024  # per hidden layer (the parameter cap usually bites first)
    max_steps_per_request: int = MAX_STEPS_PER_REQUEST
    max_uploads: int = 50  # uploaded tables kept in memory
    max_surfaces: int = 8  # loss surfaces being computed or waiting their turn, server-wide
    max_sweeps: int = 4  # REST sweeps and range tests running at once (each holds up to 8 trainers)
    max_races: int = 50  # live learning-rate races running at once (each up to 8 copies)
    max_checks: int = 4  # whole-network gradient checks computing at once (worker threads, beside training)
    max_jobs: int = 16  # jobs queued or running at once, server-wide (backprop_lab.server.jobs)
    max_body_bytes: int = 4 * 1024 * 1024  # HTTP request bodies (413 above)
    max_sockets: int = 1000  # WebSocket connections, all sessions together (a hall: ~450)
    max_sockets_per_session: int = 50  # control sockets (the session's own pages and scripts)
    max_viewers_per_session: int = 250  # read-only sockets through its share code: a hall of 200 and more
    max_message_bytes: int = 64 * 1024  # inbound WebSocket message (larger: close 1009)
    max_messages_per_second: int = 200  # inbound WebSocket messages per socket
    max_request_seconds: float = 10.0  # estimated training or checking time of one REST request

    def sockets_within(self, descriptors: int | None) -> int:
        """The server-wide socket cap in force: `max_sockets`, or what `descriptors` (the
        process's limit on open files; None: unknown) leave after `DESCRIPTOR_RESERVE`,
        whichever is smaller."""
        if descriptors is None:
            return self.max_sockets
        return max(0, min(self.max_sockets, descriptors - DESCRIPTOR_RESERVE))


@dataclass(frozen=True)
class JobLimits:
    """What one job may ask for (docs/api.md, "Jobs"): past these, 429 with what would fit. A job
    is long work off the request, so its caps are far above one request's (`Limits`); how many
    jobs run at once is `Limits.max_jobs` and each student's share `Quotas.jobs`."""

    max_seconds: float = 600.0  # estimated compute of one job on this server
    max_steps: int = 1_000_000  # steps of a sweep's copies, or of a training job
    max_rates: int = 64  # learning rates of one sweep (trained eight at a time)
    max_range_test_steps: int = 100_000  # steps of a range test
    max_history_points: int = 5_000  # points of each sweep copy's loss history
    result_ttl_seconds: float = 60 * 60  # a finished job and its result are kept this long, then dropped
    max_kept_per_owner: int = 20  # finished jobs kept per owner; past it their oldest is dropped first
    max_kept: int = 500  # finished jobs kept server-wide; past it the oldest is dropped first


@dataclass(frozen=True)
class Timing:
    """Lifetimes and rates of the live stream."""

    idle_expiry_seconds: float = 30 * 60  # a session nobody touched for this long is closed
    resume_seconds: float = 10 * 60  # kept after its last socket closed (a laptop's sleep)
    reap_interval_seconds: float = 30.0
    # frames per second while playing (at most; fewer for every client alike when the server is
    # really busy: the capacity is measured, backprop_lab.server.runtime.cadence)
    frame_rate: float = 60.0
    heatmap_rate: float = 10.0  # heatmap messages per second while playing (at most)
    # whole-split metrics and the probe re-evaluated per second while playing (at most): the page
    # redraws its numbers 10 times a second, and at full speed each evaluation is training lost
    metrics_rate: float = 20.0
    heatmap_bytes_per_second: int = 60_000  # budget that picks the heatmap resolution G
    # a playing session's frames, JSON and binary (see backprop_lab.server.live.frames): the default network's
    # ~40 KB/s never reach it; 6 × 16's arrays (~25 KB a frame) go ~12 times a second
    frame_bytes_per_second: int = 300_000
    send_timeout_seconds: float = 5.0  # a client whose socket accepts nothing this long is closed
    max_slice_seconds: float = 0.008  # longest uninterrupted training slice of one session
    min_slice_seconds: float = 0.0001  # shortest, when many sessions share the CPU


def descriptor_limit() -> int | None:
    """The process's limit on open files (its soft limit; `backprop_lab.server.cli` raises it to the hard one
    at start), or None where the platform has no such limit to read."""
    try:
        import resource
    except ImportError:  # not a Unix
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def one_per_core() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    open_browser: bool = False
    # saved runs: an SQLite file or a database URL (backprop_lab.server.saved.run_store); None keeps them in memory, for
    # tests and notebooks (the CLI's default is a file in the user's data folder)
    db_path: str | Path | None = None
    debug: bool = False  # tracebacks in error messages and logs
    extra_hosts: tuple[str, ...] = ()  # more Host names to accept (tests use "testserver")
    extra_origins: tuple[str, ...] = ()  # more Origins to accept, e.g. "http://lab.school:8000"
    static_dir: Path | None = None  # None: found next to the package (see server.paths)
    templates_dir: Path | None = None
    limits: Limits = field(default_factory=Limits)
    timing: Timing = field(default_factory=Timing)
    jobs: JobLimits = field(default_factory=JobLimits)  # long work off the request (backprop_lab.server.jobs)
    training_threads: int = field(default_factory=one_per_core)  # threads that train sessions
    ws_implementation: str = WS_IMPLEMENTATIONS[0]  # uvicorn's, one of WS_IMPLEMENTATIONS
    # classroom mode on any host (tests run it on 127.0.0.1); listening on every interface turns it on too
    classroom_mode: bool = False
    teacher_key: str = field(default_factory=new_teacher_key, repr=False, compare=False)  # the teacher link's secret
    quotas: Quotas = field(default_factory=Quotas)  # each student's and each address's share (classroom)
    # compiles the engine's kernels, or loads them from numba's cache, while the server listens
    # (backprop_lab.server.runtime.preparation); tests hold it back to see the preparing answers
    engine_warm_up: Callable[[Progress], float] = field(default=warm_up, repr=False, compare=False)
    # where the last cold start's duration is kept, the estimate of the next one's (None: nowhere;
    # the CLI keeps it in the user's data folder)
    cold_start_record: Path | None = None
    # a worker of a cluster (backprop_lab.server.cluster, docs/deploy.md): its name, the first part
    # of every session id it makes, and the Redis the workers share; None: the single process
    worker: str | None = None
    redis_url: str | None = None
    # the address clients open when it is not this process's own (a cluster's proxy, "http://lab:8000/"):
    # links are built on it and its Host and Origin are accepted; None: `host` and `port`
    public_address: str | None = None
    # where a worker's proxy runs: the one address whose X-Forwarded-For a worker believes (the
    # student's address, for its per-address quotas); a single process believes no one
    proxy_address: str = "127.0.0.1"

    def __post_init__(self) -> None:
        threads = self.training_threads
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"training_threads: at least 1 thread, got {threads!r}")
        if self.worker is not None and not WORKER_NAME.fullmatch(self.worker):
            raise ValueError(f"worker: a letter, then up to 15 letters or digits (lower case), got {self.worker!r}")
        if self.public_address is not None:
            parts = urlsplit(self.public_address)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"public-url: an address such as http://lab.school:8000/, got {self.public_address!r}")

    def with_changes(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def listens_everywhere(self) -> bool:
        """Listening on every interface: students on the same network may connect."""
        return self.host in ("0.0.0.0", "::")

    @property
    def classroom(self) -> bool:
        """A teacher and students (server.classroom.identity), with quotas; else the one local user is the teacher."""
        return self.classroom_mode or self.listens_everywhere

    def allowed_hosts(self) -> frozenset[str]:
        """Host names (without port) a request may carry in its `Host` header.

        Anything else is refused, so a page on another domain that re-points its DNS name at
        127.0.0.1 (DNS rebinding) cannot talk to the lab through the victim's browser.
        """
        hosts = set(LOOPBACK_HOSTS)
        if self.listens_everywhere:
            hosts.update(classroom_addresses())
        elif self.host:
            hosts.add(self.host.strip("[]"))
        hosts.update(host.lower() for host in self.extra_hosts)
        if self.public_address is not None:
            hosts.add(urlsplit(self.public_address).hostname or "")
        return frozenset(host.lower() for host in hosts)

    def allowed_origins(self) -> frozenset[str]:
        """Exact `Origin` values (scheme://host:port) a WebSocket or a state-changing request may
        come from: the lab's own page, at each allowed host name, on this port."""
        origins = set(self.extra_origins)
        if self.public_address is not None:
            parts = urlsplit(self.public_address)
            origins.add(f"{parts.scheme}://{parts.netloc}")
        for host in self.allowed_hosts():
            shown = f"[{host}]" if ":" in host else host
            for scheme in ("http", "https"):
                origins.add(f"{scheme}://{shown}:{self.port}")
                if (scheme, self.port) in (("http", 80), ("https", 443)):
                    origins.add(f"{scheme}://{shown}")
        return frozenset(origin.lower() for origin in origins)

    def public_url(self) -> str:
        """The address to open: `public_address` if set, the LAN address when listening on every
        interface, else the bound host."""
        if self.public_address is not None:
            return self.public_address.rstrip("/") + "/"
        if self.listens_everywhere:
            addresses = [a for a in classroom_addresses() if _is_ip(a) and a not in LOOPBACK_HOSTS]
            host = addresses[0] if addresses else "127.0.0.1"
        else:
            host = self.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}/"

    @property
    def local_only(self) -> bool:
        """Whether `public_url` is this machine's loopback address, which no other machine reaches
        (the default `--host 127.0.0.1`): a share's viewer page then opens on this computer only."""
        host = urlsplit(self.public_url()).hostname or ""
        if host == "localhost":
            return True
        return _is_ip(host) and ipaddress.ip_address(host).is_loopback


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def classroom_addresses() -> list[str]:
    """This machine's name and LAN addresses, as students would type them.

    The outward-facing address comes from a UDP socket "connected" to a public address: no
    packet is sent, the kernel only picks the interface a packet would leave by.
    """
    names: list[str] = []
    hostname = socket.gethostname()
    if hostname:
        names.append(hostname.lower())
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, nothing is sent
        names.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(hostname, None, family=socket.AF_INET):
            names.append(str(info[4][0]))
    except OSError:
        pass
    return list(dict.fromkeys(names))
