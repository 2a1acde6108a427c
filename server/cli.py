"""`backprop-lab [--host 127.0.0.1] [--port 8000] [--classroom] [--teacher-key KEY] [--open]
[--db PATH|URL] [--debug] [--training-threads N] [--ws IMPLEMENTATION]`: run the lab.

A cluster's worker also takes `--worker NAME --redis URL [--public-url URL] [--proxy-address
ADDRESS]`, and `backprop-lab cluster …` starts a whole cluster on this machine
(`backprop_lab.server.cluster.launcher`, docs/deploy.md).

Saved runs go to `--db`: an SQLite file (default: `runs.sqlite3` in the user's data folder)
or a database URL; its schema is migrated at start. A database that is damaged, read-only or
written by a newer version stops the start with a one-line message saying so and what to do,
and is left as it was (`backprop_lab.server.saved.run_store`).

A first start (numba's cache empty: a fresh install) compiles the engine for most of a minute.
The server listens meanwhile, and says how far it is: in the terminal, and on a page that every
address shows until the engine is ready (`backprop_lab.server.runtime.preparation`); `--open`
opens the browser as soon as the server listens.

Binds 127.0.0.1 by default (only this computer), where the one local user is the teacher.
`--host 0.0.0.0` is classroom mode: the server listens on every interface, prints the teacher
link (its secret key from `--teacher-key`, `$BACKPROP_LAB_TEACHER_KEY` or drawn at start), the
address students should open and the page where they type a share code (and each code's page as
it is shared), and accepts that address in its Host and Origin allow-lists. `--classroom` turns
classroom mode (the teacher, students and their quotas: server.classroom.identity, server.classroom.quotas) on for
any host, 127.0.0.1 included. Sessions train on one thread per core unless
`--training-threads` says otherwise. On SIGTERM (or Ctrl-C) every WebSocket is closed
with 1001 ("going away") and the process exits within a few seconds.

At start the process's limit on open files is raised to its hard maximum: every WebSocket is an
open file, and the cap on sockets is derived from that limit (`Limits.sockets_within`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import socket
import sys
import threading
import webbrowser

import uvicorn
from fastapi import FastAPI

from backprop_lab.server import __version__
from backprop_lab.server.app import create_app, shutdown_streams
from backprop_lab.server.arguments import teacher_key, thread_count
from backprop_lab.server.classroom.identity import TEACHER_KEY_VARIABLE, check_teacher_key
from backprop_lab.server.runtime.preparation import default_record
from backprop_lab.server.saved.run_store import RunStore, StoreError, default_path
from backprop_lab.server.settings import WS_IMPLEMENTATIONS, Settings, descriptor_limit
from backprop_lab.server.web.wire_socket import WireProtocol

logger = logging.getLogger("server")
CLUSTER_COMMAND = "cluster"  # `backprop-lab cluster …`: several workers behind a proxy (server.cluster.launcher)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="backprop-lab", description="Watch a neural network learn, live.",
                                     epilog=f"backprop-lab {CLUSTER_COMMAND} --help: several workers behind a proxy, "
                                     "on this machine (docs/deploy.md)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind; 0.0.0.0 = classroom mode")
    parser.add_argument("--classroom", action="store_true",
                        help="classroom mode on any host: a teacher and students, each with a fair share")
    parser.add_argument("--quota", action="append", default=[], metavar="NAME=STUDENT,ADDRESS",
                        help="classroom mode: one student's and one address's share of a resource, e.g. "
                        "sessions=6,120 (again for each; the rest keep their defaults, listed in /api/v1/options)")
    parser.add_argument("--teacher-key", type=teacher_key, default=None, metavar="KEY",
                        help=f"the teacher link's secret (default: ${TEACHER_KEY_VARIABLE}, else a new one each start)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    parser.add_argument("--db", default=None, metavar="PATH_OR_URL",
                        help="saved runs: an SQLite file, :memory: (kept until the server stops), or a database "
                        "URL such as postgresql://host/lab "
                        f"(default: {default_path()})")
    parser.add_argument("--debug", action="store_true", help="tracebacks in logs and error messages")
    parser.add_argument("--training-threads", type=thread_count, default=None, metavar="N",
                        help="threads that train sessions (default: one per core)")
    parser.add_argument("--ws", choices=WS_IMPLEMENTATIONS, default=Settings.ws_implementation,
                        help="uvicorn's WebSocket implementation (default: %(default)s, the cheapest per message "
                        "measured, bench/hall.py)")
    parser.add_argument("--worker", default=None, metavar="NAME",
                        help="one worker of a cluster (docs/deploy.md): its name starts every session id it makes")
    parser.add_argument("--redis", default=None, metavar="URL",
                        help="a cluster's shared Redis, e.g. redis://127.0.0.1:6379/0 (docs/deploy.md)")
    parser.add_argument("--public-url", default=None, metavar="URL",
                        help="the address clients open when it is not this server's own, e.g. a cluster's proxy "
                        "http://lab.school:8000/ (links are built on it; its Host and Origin are accepted)")
    parser.add_argument("--proxy-address", default=Settings.proxy_address, metavar="ADDRESS",
                        help="a cluster worker's proxy: the one address whose X-Forwarded-For it believes "
                        "(default: %(default)s, a proxy on this machine)")
    parser.add_argument("--version", action="version", version=f"backprop-lab {__version__}")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    database = args.db if args.db is not None else default_path()
    settings = Settings(host=args.host, port=args.port, open_browser=args.open, db_path=database, debug=args.debug,
                        classroom_mode=args.classroom, cold_start_record=default_record())
    key = args.teacher_key or os.environ.get(TEACHER_KEY_VARIABLE)
    if key:
        try:
            settings = settings.with_changes(teacher_key=check_teacher_key(key))
        except ValueError as error:
            raise SystemExit(f"backprop-lab: ${TEACHER_KEY_VARIABLE}: {error}") from None
    if args.training_threads is not None:
        settings = settings.with_changes(training_threads=args.training_threads)
    try:
        settings = settings.with_changes(ws_implementation=args.ws, worker=args.worker, redis_url=args.redis,
                                         public_address=args.public_url, proxy_address=args.proxy_address)
    except ValueError as error:
        raise SystemExit(f"backprop-lab: --{error}") from None
    quotas = settings.quotas
    for setting in args.quota:
        try:
            quotas = quotas.with_share(setting)
        except ValueError as error:
            raise SystemExit(f"backprop-lab: --quota {error}") from None
    return settings.with_changes(quotas=quotas)


def raise_open_files_limit() -> None:
    """Raise the soft limit on open files to the hard one (a shell's default soft limit is often
    1,024 while the hard one allows far more), and say what it is."""
    try:
        import resource
    except ImportError:  # not a Unix: no such limit to raise
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):  # a hard limit the kernel refuses as a soft one
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logger.info("open files: at most %s (was %s)", descriptor_limit() or "unlimited", soft)


class LabServer(uvicorn.Server):
    """uvicorn's server, closing the lab's sockets with 1001 before uvicorn's own shutdown
    (which would close them with 1012, "service restart"), and opening `open_url` in a browser
    as soon as it listens (a first start listens while the engine compiles: the browser gets the
    preparing page, never "connection refused")."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, open_url: str | None = None) -> None:
        super().__init__(config)
        self.lab_app = app
        self.open_url = open_url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.open_url is not None and self.started:
            threading.Thread(target=webbrowser.open, args=(self.open_url,), name="open-browser", daemon=True).start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(shutdown_streams(self.lab_app), 3.0)
        await super().shutdown(sockets)


def uvicorn_ws(implementation: str) -> str | type[asyncio.Protocol]:
    """uvicorn's `ws` for one of WS_IMPLEMENTATIONS: websockets-sansio is served by
    `WireProtocol` (the same protocol, one write per message)."""
    return WireProtocol if implementation == WS_IMPLEMENTATIONS[0] else implementation


def build_server(settings: Settings) -> LabServer:
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ws=uvicorn_ws(settings.ws_implementation),
        ws_max_size=settings.limits.max_message_bytes,  # larger messages close with 1009
        ws_per_message_deflate=False,  # memory per socket, and one encoding shared by all
        timeout_graceful_shutdown=5,
        log_level="debug" if settings.debug else "info",
        server_header=False,
        lifespan="on",
        # A cluster's worker sits behind the proxy (backprop_lab.server.cluster.proxy), which says who the
        # client is in X-Forwarded-For; a single process serves its clients directly and believes no one.
        proxy_headers=settings.worker is not None,
        forwarded_allow_ips=settings.proxy_address,
    )
    return LabServer(config, app, settings.public_url() if settings.open_browser else None)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [CLUSTER_COMMAND]:
        from backprop_lab.server.cluster.launcher import main as cluster  # the cluster's engines: only when asked

        cluster(argv[1:])
        return
    args = parse_args(argv)
    settings = settings_from(args)
    logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO, format="%(levelname)s: %(message)s")
    raise_open_files_limit()
    try:  # a database damaged, read-only, newer than this code or out of reach stops the start with a clear message
        store = RunStore(settings.db_path)
        store.open()
        store.close()
    except StoreError as error:
        if error.code == "unavailable":  # the message says the log has why: what the database itself said
            logger.error("%s", error.__cause__)
        raise SystemExit(f"backprop-lab: {error}") from None
    except ValueError as error:  # a --db the store cannot use at all (run_store.create_engine)
        raise SystemExit(f"backprop-lab: {error}") from None
    url = settings.public_url()
    print(f"Backprop Lab {__version__}: {url}", flush=True)
    if settings.classroom:
        print(f"Classroom mode. Teacher (you, keep it secret): open {url}teacher?key={settings.teacher_key}",
              flush=True)
        print(f"Students on this network open {url}", flush=True)
        print(
            f"To show them your session: press Share on the page; students open {url}watch and type its code "
            f"(or open {url}watch/<code>). Each code you share is printed here too.",
            flush=True,
        )
        print(f"To see the whole class: open {url}class in the teacher's browser; students join at {url}join "
              "with the class code it shows and a first name.", flush=True)
    build_server(settings).run()


if __name__ == "__main__":
    main()
