"""Our own Redis, PostgreSQL and HAProxy on 127.0.0.1, started from Debian's binaries.

The cluster command (`backprop-lab cluster`) and the cluster's tests start the engines the
workers share themselves, never the machine's system services: each is a child process in a
folder of its own, on a port of its own, gone when `stop` is called. Each start waits until
the service answers (a deadline, then `ServiceError` with the tail of its log) and a missing
binary is refused at once naming the Debian package that provides it.

PostgreSQL refuses to run as root: when we are root, `initdb` and `postgres` run as the
`postgres` user that Debian's package creates, in a data folder owned by that user. Its unix
socket stays inside the data folder; it listens on 127.0.0.1 only, and a password drawn at
start guards TCP connections (it is in `.url`). `fast=True` turns off what makes a database
survive a power cut (fsync, full-page writes, synchronous commit): for tests only.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

START_SECONDS = 30.0  # a service that does not answer by then will not
STOP_SECONDS = 10.0  # a service still running then is killed
# where Debian's binaries are when PATH lacks them: PostgreSQL's are never on it, HAProxy's in sbin
SYSTEM_BIN = "/usr/lib/postgresql/15/bin:/usr/sbin:/sbin"
POSTGRES_SYSTEM_USER = "postgres"  # created by Debian's postgresql-common
POSTGRES_USER = "lab"  # the superuser initdb makes, the workers' role
POSTGRES_DATABASE = "lab"
# Each worker's runs store pools at most 10 connections (run_store.POOL_SIZE + POOL_OVERFLOW):
# room for 16 workers beside a few psql sessions (PostgreSQL's default is 100)
POSTGRES_MAX_CONNECTIONS = 170
# Debian's package for each binary, named in the error when one is missing
PACKAGES = {"redis-server": "redis-server", "haproxy": "haproxy", "initdb": "postgresql", "postgres": "postgresql",
            "pg_ctl": "postgresql"}
LOG_TAIL_CHARS = 2000
# what fast=True writes into postgresql.conf: durability traded for speed, for tests only
FAST_POSTGRES = {"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"}


class ServiceError(RuntimeError):
    """A service could not start: a binary is missing, or it did not answer in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def binary(name: str) -> Path:
    """The path of one of Debian's binaries, or `ServiceError` naming the package to install."""
    found = shutil.which(name) or shutil.which(name, path=SYSTEM_BIN)
    if found is None:
        raise ServiceError(f"{name} is not installed: install Debian's {PACKAGES[name]} package "
                           f"(apt-get install {PACKAGES[name]})")
    return Path(found)


def log_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-LOG_TAIL_CHARS:].strip()
    except OSError:
        return ""


def answers(port: int, request: bytes = b"", expect: bytes = b"") -> bool:
    """Whether something on 127.0.0.1:`port` accepts a connection (and, given a request,
    replies starting with `expect`)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as connection:
            if not request:
                return True
            connection.sendall(request)
            return connection.recv(len(expect)).startswith(expect)
    except OSError:
        return False


@dataclass
class Service:
    """One running service: its process, its port, the folder with its files and its log."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    folder: Path
    log: Path
    url: str
    owns_folder: bool = False  # a folder we made: removed by `stop`
    stop_signal: int = signal.SIGTERM

    def wait_ready(self, ready: Callable[[], bool], seconds: float = START_SECONDS) -> None:
        """Poll `ready()` until it is true; the process exiting or the deadline passing stops the
        service and raises `ServiceError` with its log's last lines."""
        deadline = time.monotonic() + seconds
        while not ready():
            problem = None
            if self.process.poll() is not None:
                problem = f"exited with code {self.process.returncode}"
            elif time.monotonic() > deadline:
                problem = f"did not answer on port {self.port} within {seconds:.0f} s"
            if problem is not None:
                self.stop()
                raise ServiceError(f"{self.name} {problem}; its log ({self.log}):\n{log_tail(self.log)}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the process (`stop_signal`, then SIGKILL past `STOP_SECONDS`) and remove a folder we made."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.owns_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def new_folder(folder: Path | None, prefix: str) -> tuple[Path, bool]:
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        return folder, False
    return Path(tempfile.mkdtemp(prefix=prefix)), True


def spawn(command: list[str | Path], log: Path, **options: object) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                **options)  # type: ignore[call-overload]


def start_redis(folder: Path | None = None, port: int | None = None) -> Service:
    """A fresh `redis-server` on 127.0.0.1 that keeps nothing on disk; `.url` is
    `redis://127.0.0.1:PORT/0`."""
    executable = binary("redis-server")
    folder, owned = new_folder(folder, "backprop-lab-redis-")
    port = port or free_port()
    log = folder / "redis.log"
    process = spawn([executable, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
                     "--dir", folder, "--daemonize", "no"], log)
    service = Service("redis-server", process, port, folder, log, f"redis://127.0.0.1:{port}/0", owned)
    service.wait_ready(lambda: answers(port, b"PING\r\n", b"+PONG"))
    return service


def start_haproxy(config: str, port: int, folder: Path | None = None) -> Service:
    """`haproxy` in the foreground with `config` (which binds 127.0.0.1:`port`), ready once
    that port accepts connections; a config haproxy refuses is reported with haproxy's words."""
    executable = binary("haproxy")
    folder, owned = new_folder(folder, "backprop-lab-haproxy-")
    path = folder / "haproxy.cfg"
    path.write_text(config)
    check = subprocess.run([executable, "-c", "-f", path], capture_output=True, text=True)
    if check.returncode != 0:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
        raise ServiceError(f"haproxy refuses its config {path}:\n{(check.stdout + check.stderr).strip()}")
    log = folder / "haproxy.log"
    process = spawn([executable, "-db", "-f", path], log)
    service = Service("haproxy", process, port, folder, log, f"http://127.0.0.1:{port}", owned)
    service.wait_ready(lambda: answers(port))
    return service


@dataclass
class Postgres(Service):
    """A PostgreSQL cluster of our own: `.url` is its database `lab` (SQLAlchemy's
    `postgresql+psycopg://`), `create_database` makes more."""

    password: str = field(default="", repr=False)
    databases: int = 0

    def database_url(self, name: str) -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}:{self.password}@127.0.0.1:{self.port}/{name}"

    def create_database(self, name: str | None = None, template: str = "template1") -> str:
        """A new empty database (or a copy of `template`, which nobody may be connected to):
        its URL. Without a name, one is made up."""
        self.databases += 1
        name = name or f"lab_{os.getpid()}_{self.databases}"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.database_url(name)

    def sql(self, statement: str) -> None:
        """Run one statement outside a transaction (CREATE DATABASE cannot run inside one)."""
        import psycopg  # the cluster extra

        with psycopg.connect(host="127.0.0.1", port=self.port, user=POSTGRES_USER, password=self.password,
                             dbname="postgres", autocommit=True) as connection:
            connection.execute(statement.encode())


def as_postgres_user() -> dict[str, object]:
    """Popen's options that run a child as Debian's `postgres` user when we are root (PostgreSQL
    refuses root); none otherwise."""
    if os.geteuid() != 0:
        return {}
    try:
        user = pwd.getpwnam(POSTGRES_SYSTEM_USER)
    except KeyError:
        raise ServiceError(f"running as root, PostgreSQL needs the '{POSTGRES_SYSTEM_USER}' user: install Debian's "
                           "postgresql package (apt-get install postgresql), or run as another user") from None
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "env": {**os.environ, "HOME": user.pw_dir}}


def start_postgres(folder: Path | None = None, port: int | None = None, fast: bool = False) -> Postgres:
    """A fresh PostgreSQL cluster (initdb in `folder`, by default a new temporary one) on
    127.0.0.1:`port` with the database `lab`; `fast=True` for tests (see the module's docstring).
    As root, `folder` must be one the `postgres` user can reach (a temporary folder is)."""
    initdb, postgres = binary("initdb"), binary("postgres")
    user = as_postgres_user()
    folder, owned = new_folder(folder, "backprop-lab-postgres-")
    data, log = folder / "data", folder / "postgres.log"
    password = secrets.token_urlsafe(18)
    password_file = folder / "password"
    password_file.write_text(password + "\n")
    if "user" in user:
        for path in (folder, password_file):
            os.chown(path, int(user["user"]), int(user["group"]))  # type: ignore[call-overload]
    port = port or free_port()
    made = subprocess.run([initdb, "-D", data, "-U", POSTGRES_USER, f"--pwfile={password_file}", "--auth-local=trust",
                           "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"],
                          capture_output=True, text=True, **user)  # type: ignore[call-overload]
    password_file.unlink()
    if made.returncode != 0:
        if owned:
            shutil.rmtree(folder, ignore_errors=True)
        raise ServiceError(f"initdb failed in {data}:\n{(made.stdout + made.stderr).strip()[-LOG_TAIL_CHARS:]}")
    settings = {"listen_addresses": "'127.0.0.1'", "port": str(port), "unix_socket_directories": f"'{data}'",
                "max_connections": str(POSTGRES_MAX_CONNECTIONS), **(FAST_POSTGRES if fast else {})}
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("".join(f"{name} = {value}\n" for name, value in settings.items()))
    if "user" in user:
        log.touch()
        os.chown(log, int(user["user"]), int(user["group"]))  # type: ignore[call-overload]
    process = spawn([postgres, "-D", data], log, **user)
    # SIGINT: PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect)
    service = Postgres("postgres", process, port, folder, log, "", owned, signal.SIGINT, password)

    def ready() -> bool:
        # ready once a database can be made: a started postgres accepts TCP before it takes queries
        try:
            service.sql(f'CREATE DATABASE "{POSTGRES_DATABASE}"')
        except Exception:  # psycopg's OperationalError while it starts (psycopg is imported lazily)
            return False
        return True

    service.wait_ready(ready)
    service.url = service.database_url(POSTGRES_DATABASE)
    return service
