"""`backprop-lab cluster --workers N --port P [--classroom] [--teacher-key K] [--data DIR]
[--training-threads T]`: a whole cluster on this machine, for trying and testing (docs/deploy.md).

Starts, from Debian's binaries and on 127.0.0.1 only: Redis, PostgreSQL (a cluster of its own in
`DIR/postgres`, made at the first start and kept, with the saved runs, between starts), N workers
(`backprop-lab --worker wI`, each on a free port, its output in `DIR/logs/wI.log`) and HAProxy
on port P in front of them (`proxy.config`). It waits until every one answers, prints the one
address to open (and the teacher link in classroom mode: one key for every worker, drawn here when
none is given), then watches: a worker that dies is reported (its students' sessions continue on
another worker); Redis, PostgreSQL or HAProxy dying stops everything, as does Ctrl-C or SIGTERM.
Stopping stops the proxy first, then the workers (closing their sockets), then the databases.

As root, PostgreSQL runs as Debian's `postgres` user, who must be able to reach `DIR`.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from backprop_lab.server import __version__
from backprop_lab.server.arguments import teacher_key, thread_count, worker_count
from backprop_lab.server.classroom.identity import TEACHER_KEY_VARIABLE, new_teacher_key
from backprop_lab.server.cluster import proxy
from backprop_lab.server.cluster.services import (
    POSTGRES_DATABASE,
    POSTGRES_USER,
    Postgres,
    Service,
    ServiceError,
    answers,
    as_postgres_user,
    binary,
    free_port,
    log_tail,
    spawn,
    start_haproxy,
    start_postgres,
    start_redis,
)
from backprop_lab.server.saved.run_store import RunStore, StoreError, default_path

# A worker answers once the engine's kernels are loaded: at once from numba's cache, but a first
# start compiles them for a minute or more (several workers compiling at once share the cores).
WORKER_START_SECONDS = 600.0
WORKER_STOP_SECONDS = 15.0
WATCH_SECONDS = 0.5  # how often the children are looked at
PASSWORD_FILE = "password"  # in DIR/postgres: the database's password, kept for the next start (mode 600)


def default_data() -> Path:
    return default_path().parent / "cluster"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="backprop-lab cluster",
                                     description="Several workers behind a proxy, on this machine (docs/deploy.md).")
    parser.add_argument("--workers", type=worker_count, default=2, metavar="N", help="workers (default %(default)s)")
    parser.add_argument("--port", type=int, default=8000, help="the proxy's port on 127.0.0.1 (default 8000)")
    parser.add_argument("--classroom", action="store_true", help="classroom mode: a teacher and students")
    parser.add_argument("--teacher-key", type=teacher_key, default=None, metavar="KEY",
                        help=f"the teacher link's secret (default: ${TEACHER_KEY_VARIABLE}, else a new one each start)")
    parser.add_argument("--data", type=Path, default=None, metavar="DIR",
                        help=f"PostgreSQL's data and the logs (default: {default_data()})")
    parser.add_argument("--training-threads", type=thread_count, default=1, metavar="T",
                        help="each worker's training threads (default %(default)s)")
    return parser.parse_args(argv)


@dataclass
class Child:
    """A worker process, as the launcher started it."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def open_postgres(folder: Path) -> Postgres:
    """The cluster's PostgreSQL: made in `folder` at the first start, started again from it after."""
    password_file = folder / PASSWORD_FILE
    if not password_file.exists():
        service = start_postgres(folder)
        service.owns_folder = False
        with os.fdopen(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(service.password)  # readable by this user only, from its first byte
        return service
    port = free_port()
    log = folder / "postgres.log"
    process = spawn([binary("postgres"), "-D", folder / "data", "-p", str(port)], log, **as_postgres_user())
    service = Postgres("postgres", process, port, folder, log, "", False, signal.SIGINT, password_file.read_text())
    service.url = service.database_url(POSTGRES_DATABASE)

    def ready() -> bool:
        import psycopg  # the cluster extra

        try:
            with psycopg.connect(host="127.0.0.1", port=port, user=POSTGRES_USER, password=service.password,
                                 dbname=POSTGRES_DATABASE):
                return True
        except psycopg.OperationalError:  # still starting
            return False

    service.wait_ready(ready)
    return service


def open_files_limit() -> int:
    """The most open files a child of this process may hold (its hard limit), HAProxy's budget."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return hard if hard != resource.RLIM_INFINITY else proxy.UNLIMITED_FILES


def migrate(url: str) -> None:
    """Bring the runs database's schema up to date once, here: workers starting together would
    each try to, and all but one fail (two `CREATE TABLE`s of the same table)."""
    store = RunStore(url)
    try:
        store.open()
    except StoreError as error:
        raise ServiceError(f"the runs database: {error}") from None
    store.close()


def start_worker(index: int, args: argparse.Namespace, redis: Service, database: Postgres, public: str,
                 logs: Path, key: str | None) -> Child:
    name, port = f"w{index + 1}", free_port()
    command = [sys.executable, "-m", "backprop_lab.server.cli", "--worker", name, "--port", str(port),
               "--redis", redis.url, "--db", database.url, "--public-url", public,
               "--training-threads", str(args.training_threads)]
    if args.classroom:
        command.append("--classroom")
    environment = dict(os.environ)
    if key is not None:  # in the environment, not on a command line that every user's `ps` shows
        environment[TEACHER_KEY_VARIABLE] = key
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   env=environment)
    return Child(name, port, process, log)


def wait_ready(children: list[Child]) -> None:
    """Until every worker's health answers 200; a worker that exits or stays silent stops the start."""
    deadline = time.monotonic() + WORKER_START_SECONDS
    waiting = list(children)
    while waiting:
        for child in list(waiting):
            if child.process.poll() is not None:
                raise ServiceError(f"worker {child.name} exited with code {child.process.returncode}; its log "
                                   f"({child.log}):\n{log_tail(child.log)}")
            try:
                if httpx.get(f"http://127.0.0.1:{child.port}{proxy.HEALTH_PATH}", timeout=2).status_code == 200:
                    waiting.remove(child)
            except httpx.HTTPError:
                pass
        if time.monotonic() > deadline:
            names = ", ".join(child.name for child in waiting)
            raise ServiceError(f"workers {names} did not answer within {WORKER_START_SECONDS:.0f} s; logs in "
                               f"{waiting[0].log.parent}")
        time.sleep(0.1)


class Stop(Exception):
    """Ctrl-C or SIGTERM."""


@contextmanager
def stopping_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `Stop` in the main thread, so everything started is stopped."""

    def stop(number: int, frame: FrameType | None) -> None:
        for each in previous:  # a second Ctrl-C does not cut the stopping short
            signal.signal(each, signal.SIG_IGN)
        raise Stop

    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def watch(children: list[Child], services: list[Service]) -> None:
    """Until a signal (`Stop`) or a service's death (`ServiceError`); a worker's death is only said."""
    reported: set[str] = set()
    while True:
        for service in services:
            if service.process.poll() is not None:
                raise ServiceError(f"{service.name} exited with code {service.process.returncode}; its log "
                                   f"({service.log}):\n{log_tail(service.log)}")
        for child in children:
            if child.name not in reported and child.process.poll() is not None:
                reported.add(child.name)
                print(f"backprop-lab cluster: worker {child.name} exited with code {child.process.returncode} "
                      f"(its log: {child.log}); the proxy sends its students to the other workers", flush=True)
        time.sleep(WATCH_SECONDS)


def run(args: argparse.Namespace) -> None:
    data = (args.data or default_data()).resolve()
    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    key = args.teacher_key or os.environ.get(TEACHER_KEY_VARIABLE) or (new_teacher_key() if args.classroom else None)
    if key is not None:
        key = teacher_key(key)
    public = f"http://127.0.0.1:{args.port}/"
    if answers(args.port):
        raise ServiceError(f"port {args.port} is taken: choose another with --port")
    with ExitStack() as started:  # stopped last first: the proxy, the workers, then PostgreSQL and Redis
        redis = start_redis(data / "redis")
        started.callback(redis.stop)
        database = open_postgres(data / "postgres")
        started.callback(database.stop)
        migrate(database.url)
        children = [start_worker(index, args, redis, database, public, logs, key) for index in range(args.workers)]
        for child in children:
            started.callback(child.stop)
        wait_ready(children)
        workers = [proxy.Worker(child.name, "127.0.0.1", child.port) for child in children]
        text = proxy.config(workers, f"127.0.0.1:{args.port}", proxy.connections_within(open_files_limit()))
        haproxy = start_haproxy(text, args.port, data / "haproxy")
        started.callback(haproxy.stop)
        workers_said = f"{args.workers} worker{'' if args.workers == 1 else 's'}"
        print(f"Backprop Lab {__version__}, a cluster of {workers_said}: {public}", flush=True)
        if args.classroom:
            print(f"Classroom mode. Teacher (you, keep it secret): open {public}teacher?key={key}", flush=True)
        print(f"Logs in {logs}. Ctrl-C stops everything.", flush=True)
        try:
            watch(children, [redis, database, haproxy])
        finally:
            print("backprop-lab cluster: stopping", flush=True)


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    with stopping_on_signals():
        try:
            run(args)
        except Stop:
            return
        except ServiceError as error:
            raise SystemExit(f"backprop-lab cluster: {error}") from None
