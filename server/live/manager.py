"""The session manager: creates, finds and ends sessions, keeps uploaded tables, and enforces
the caps and lifetimes of docs/protocol.md.

It lives on the event loop. Building a trainer (data generation, initial weights) runs in a
worker thread; everything a live session does runs on the training threads, in the session's
lane (`backprop_lab.server.runtime.scheduler`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import secrets
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import anyio.to_thread

from backprop_lab.engine.config import Config
from backprop_lab.engine.datasets import BUILTIN
from backprop_lab.engine.layout import ParameterLayout
from backprop_lab.engine.tabular import Table, load_iris
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import Claim, Ledger, Resource
from backprop_lab.server.live.session import Session
from backprop_lab.server.live.share_codes import ShareBook, spoken
from backprop_lab.server.live.socket_quotas import SocketQuotas
from backprop_lab.server.runtime.cadence import Cadence
from backprop_lab.server.runtime.fanout import close_hubs
from backprop_lab.server.runtime.scheduler import Account, Scheduler
from backprop_lab.server.settings import DESCRIPTOR_RESERVE, Limits, Settings, descriptor_limit
from backprop_lab.server.wire.config_models import ConfigIn, to_engine_config
from backprop_lab.server.wire.problems import CapReached, InvalidInput, NotFound, config_problem
from backprop_lab.server.wire.protocol import encode, error

logger = logging.getLogger(__name__)
Location = tuple[str | int, ...]


@functools.cache
def _iris() -> Table:
    return load_iris()


def new_id(worker: str | None = None) -> str:
    """128 random bits, URL-safe: unguessable, so a session id is its own access key.

    A worker of a cluster (`Settings.worker`) puts its name first, "w1." + the bits, so the proxy
    routes the session's paths to it (docs/deploy.md); the bits never hold a dot.
    """
    token = secrets.token_urlsafe(16)
    return f"{worker}.{token}" if worker else token


def server_caps(limits: Limits, max_sockets: int) -> dict[Resource, int]:
    """The server-wide cap of each resource the ledger counts; `max_sockets` is the socket cap in
    force (`Limits.sockets_within` the process's open-file limit)."""
    return {
        Resource.SESSIONS: limits.max_sessions,
        Resource.SOCKETS: max_sockets,
        Resource.UPLOADS: limits.max_uploads,
        Resource.SURFACES: limits.max_surfaces,
        Resource.SWEEPS: limits.max_sweeps,
        Resource.RACES: limits.max_races,
        Resource.CHECKS: limits.max_checks,
        Resource.JOBS: limits.max_jobs,
    }


def _always_open(owner: str) -> None:
    """The training gate of a server without classes: every session may train."""


class Keeper(Protocol):
    """What keeps a cluster worker's sessions beyond its life (`backprop_lab.server.cluster.checkpoints`)."""

    def kept(self, session: Session) -> None: ...

    def changed(self, session: Session, urgent: bool) -> None: ...

    def ended(self, session_id: str) -> None: ...


@dataclass
class Upload:
    """An uploaded table, whose it is, and the upload slot it holds."""

    table: Table
    claim: Claim


class SessionManager:
    def __init__(
        self, settings: Settings, scheduler: Scheduler, cadence: Cadence, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.settings = settings
        self.scheduler = scheduler
        self.cadence = cadence
        self.loop = loop
        descriptors = descriptor_limit()
        max_sockets = settings.limits.sockets_within(descriptors)
        logger.info("at most %d WebSockets (configured %d; %s open files, %d kept for HTTP, the database "
                    "and the process)", max_sockets, settings.limits.max_sockets,
                    descriptors if descriptors is not None else "no limit on", DESCRIPTOR_RESERVE)
        # who holds what: every student's and address's share, and the server's caps
        self.ledger = Ledger(settings.quotas, server_caps(settings.limits, max_sockets), settings.classroom)
        self.sockets = SocketQuotas(settings.limits, self.ledger)  # the ledger's, and each session's caps
        self._sessions: dict[str, Session] = {}
        self._created: dict[str, str] = {}  # each session's creation time, ISO 8601 UTC (its own clock is monotonic)
        self._tables: OrderedDict[str, Upload] = OrderedDict()  # least recently used first
        self.shares = ShareBook()
        # Every way of training a session asks this first, with the session's owner: it raises
        # `Conflict` to refuse (the teacher paused the owner's class: backprop_lab.server.classes).
        self.training_gate: Callable[[str], None] = _always_open
        # each identity's share of the training threads (backprop_lab.server.runtime.scheduler), while it has lanes
        self._accounts: weakref.WeakValueDictionary[str, Account] = weakref.WeakValueDictionary()
        # a cluster worker's checkpoints: told of every session made and ended here; None in one process
        self.keeper: Keeper | None = None

    def __len__(self) -> int:
        return len(self._sessions)

    def sessions(self) -> list[Session]:
        return list(self._sessions.values())

    def listed(self, identity: Identity) -> list[tuple[Session, str]]:
        """The live sessions `identity` may control (a student's own; every one for the teacher),
        oldest first, each with its creation time: what `GET /api/v1/sessions` lists, so a
        script that lost a session id finds it again."""
        return [(session, self._created[session.id]) for session in self._sessions.values()
                if not session.closed and identity.owns(session.owner)]

    def account_of(self, identity: Identity) -> Account:
        """The scheduler account all of `identity`'s lanes (sessions, races, sweeps) share."""
        account = self._accounts.get(identity.id)
        if account is None:
            account = self._accounts[identity.id] = Account(identity.id[:10])
        return account

    # --- data sets -------------------------------------------------------------------------
    def table_for(self, dataset: str, location: Location) -> Table | None:
        """None for a generated set or Iris (the engine loads those), else the uploaded table."""
        if dataset in BUILTIN:
            return None
        upload = self._tables.get(dataset)
        if upload is None:
            known = ", ".join(BUILTIN)
            raise InvalidInput(
                (*location, "dataset"),
                f"dataset: unknown data set {dataset!r}; choose one of {known} or the id of an uploaded CSV",
                code="unknown_dataset",
                params={"value": dataset, "choices": list(BUILTIN)},
            )
        self._tables.move_to_end(dataset)
        return upload.table

    def add_table(self, table: Table, identity: Identity) -> str:
        """Keep an uploaded table under a new id. At a cap or a share, the uploader's own oldest
        unused upload makes room (never another student's: nothing of theirs is lost)."""
        try:
            claim = self.ledger.claim(Resource.UPLOADS, identity)
        except CapReached:
            in_use = {id(session.table) for session in self._sessions.values()}
            for key, old in list(self._tables.items()):
                if old.claim.identity.id == identity.id and id(old.table) not in in_use:
                    del self._tables[key]
                    old.claim.release()
                    break
            claim = self.ledger.claim(Resource.UPLOADS, identity)
        table_id = "csv_" + secrets.token_urlsafe(9)
        self._tables[table_id] = Upload(table, claim)
        return table_id

    # --- caps -------------------------------------------------------------------------------
    def layer_sizes(self, config: Config, table: Table | None) -> tuple[int, ...]:
        builtin = BUILTIN.get(config.dataset)
        if builtin is not None and not builtin.tabular:
            inputs, outputs = len(config.features), builtin.classes or 1
        else:
            source = table if table is not None else _iris()
            inputs, outputs = len(source.column_names), source.classes or 1
        return (inputs, *config.hidden_layers, outputs)

    def check_caps(self, config: Config, table: Table | None) -> None:
        """429-worthy sizes, checked before anything is allocated."""
        limits = self.settings.limits
        if len(config.hidden_layers) > limits.max_hidden_layers:
            raise CapReached(
                f"hidden_layers: {len(config.hidden_layers)} layers is past this server's cap of "
                f"{limits.max_hidden_layers}",
                "too_many_layers",
                "hidden_layers",
                {"value": len(config.hidden_layers), "maximum": limits.max_hidden_layers},
            )
        if any(size > limits.max_neurons for size in config.hidden_layers):
            raise CapReached(
                f"hidden_layers: at most {limits.max_neurons} neurons per layer on this server",
                "too_many_neurons",
                "hidden_layers",
                {"value": max(config.hidden_layers), "maximum": limits.max_neurons},
            )
        parameters = ParameterLayout(self.layer_sizes(config, table)).size
        if parameters > limits.max_parameters:
            raise CapReached(
                f"hidden_layers: this network would have {parameters:,} parameters; this server's cap is "
                f"{limits.max_parameters:,}",
                "too_many_parameters",
                "hidden_layers",
                {"value": parameters, "maximum": limits.max_parameters},
            )
        builtin = BUILTIN.get(config.dataset)
        if builtin is not None and not builtin.tabular and config.samples > limits.max_rows:
            raise CapReached(
                f"samples: {config.samples:,} is past this server's cap of {limits.max_rows:,} rows",
                "too_many_rows",
                "samples",
                {"value": config.samples, "maximum": limits.max_rows},
            )

    # --- sessions ---------------------------------------------------------------------------
    async def create(self, changes: ConfigIn, identity: Identity, location: Location = ("body",)) -> Session:
        config = to_engine_config(changes, Config())
        table = self.table_for(config.dataset, location)
        self.check_caps(config, table)
        async with self.session_slot(identity) as claim:
            try:
                trainer = await anyio.to_thread.run_sync(Trainer, config, table)
            except ValueError as problem:
                raise config_problem(problem, location) from None
            return self.adopt(trainer, config, table, claim)

    @contextlib.asynccontextmanager
    async def session_slot(self, identity: Identity) -> AsyncIterator[Claim]:
        """A session's place, taken before its trainer is built (429 when `identity` or the server
        has no room, or on a cluster when `identity` has none left across the workers), and given
        back unless a session came to hold it."""
        claim = self.ledger.claim(Resource.SESSIONS, identity)
        try:
            await self.ledger.count_elsewhere(claim)
            yield claim
        finally:
            if not any(session.claim is claim for session in self._sessions.values()):
                claim.release()

    def adopt(self, trainer: Trainer, requested: Config, table: Table | None, claim: Claim,
              session_id: str | None = None) -> Session:
        """A new session around a trainer built elsewhere (a new one, or one resuming a saved run),
        owned by whoever holds `claim`; under a new id, or `session_id` (a dead worker's session
        going on here from its checkpoint)."""
        session = Session(session_id or new_id(self.settings.worker), trainer, requested, table, self.scheduler,
                          self.cadence, self.loop, self.settings, claim, self.account_of(claim.identity))
        session.on_failure = self._on_failure
        self._sessions[session.id] = session
        self._created[session.id] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if self.keeper is not None:
            self.keeper.kept(session)
        return session

    async def fork(self, source: Session, identity: Identity) -> Session:
        """A new session in the source's current state (weights, optimiser memory, data and its
        order, step, loss curve), which then trains on its own: a viewer's "try it yourself"."""
        async with self.session_slot(identity) as claim:
            fork = await source.run(source.fork_state)
            session = self.adopt(fork.trainer, fork.requested, fork.table, claim)
            session.adopt(fork)
            return session

    # --- sharing ----------------------------------------------------------------------------
    async def share(self, session: Session) -> str:
        """The session's share code (the same one each time while the session lives)."""
        known = self.shares.code_of(session.id)
        code = await self.shares.share(session.id)
        if session.closed:  # it ended while its code was being taken
            self.shares.forget(session.id)
            raise NotFound(f"no session {session.id!r} (it may have expired)")
        if known is None and self.keeper is not None:  # its checkpoint keeps the code from now on
            session.submit(functools.partial(self.keeper.changed, session, True))
        if known is None and self.settings.classroom:
            # the console of classroom mode says where students go (docs/product.md, "Classroom")
            logger.info("share code %s: students open %s", spoken(code), self.watch_url(code))
        return code

    def watch_url(self, code: str) -> str:
        """The viewer page of `code`, at the address students use (the LAN one in classroom mode)."""
        return f"{self.settings.public_url()}watch/{code}"

    def shared(self, code: str) -> Session:
        """The session a share code names (typed loosely: case, spaces and dashes do not matter)."""
        session_id = self.shares.session_of(code)
        session = self._sessions.get(session_id) if session_id is not None else None
        if session is None or session.closed:
            raise NotFound(f"no shared session {code[:32]!r}: check the code (it ends when its session ends)")
        return session

    def holds(self, session_id: str) -> bool:
        """Whether this server has the session, live."""
        session = self._sessions.get(session_id)
        return session is not None and not session.closed

    def get(self, session_id: str) -> Session:
        session = self._sessions.get(session_id)
        if session is None or session.closed:
            raise NotFound(f"no session {session_id!r} (it may have expired)")
        session.touch()
        return session

    def owned(self, session_id: str, identity: Identity) -> Session:
        """The session, when `identity` may control it (its owner, or the teacher); another's
        session answers exactly as an unknown id does, so nobody learns which ids exist."""
        session = self._sessions.get(session_id)
        if session is None or session.closed or not identity.owns(session.owner):
            raise NotFound(f"no session {session_id!r} (it may have expired)")
        session.touch()
        return session

    def prepare_config(
        self, session: Session, changes: ConfigIn, location: Location
    ) -> tuple[Config, Table | None]:
        """The session's next config and its table, with the caps checked (synchronously, so a
        socket's messages keep their order)."""
        config = to_engine_config(changes, session.requested)
        table = self.table_for(config.dataset, location)
        self.check_caps(config, table)
        return config, table

    async def configure(self, session: Session, changes: ConfigIn, location: Location = ("body",)) -> dict:
        """Apply a partial config to a live session (see `Session.configure`)."""
        config, table = self.prepare_config(session, changes, location)
        try:
            return await session.run(lambda: session.configure(config, table))
        except InvalidInput as problem:
            raise problem.at((*location, *problem.location[1:])) from None

    async def delete(self, session_id: str, code: int = 1000, reason: str = "the session was deleted") -> None:
        session = self.get(session_id)
        await self._end(session, code, reason)

    async def drop(self, session_id: str, code: int, reason: str) -> None:
        """Stop serving a session another worker took over (its checkpoint stays theirs): its
        sockets close with `code`, and its pages reconnect to where it lives now."""
        session = self._sessions.get(session_id)
        if session is not None:
            await self._end(session, code, reason, forget=False)

    async def _end(self, session: Session, code: int, reason: str, forget: bool = True) -> None:
        self._sessions.pop(session.id, None)
        self._created.pop(session.id, None)
        self.shares.forget(session.id, release=forget)
        session.claim.release()
        with contextlib.suppress(Exception):
            await session.run(session.close)
        session.hub.close_all(code, reason, (encode(error(reason, "session_closed")),))
        if forget and self.keeper is not None:
            self.keeper.ended(session.id)

    def _on_failure(self, session: Session, problem: BaseException) -> None:
        """A session's engine failed: only its own sockets close (1011), with an `error`."""
        self._sessions.pop(session.id, None)
        self._created.pop(session.id, None)
        self.shares.forget(session.id)
        session.claim.release()
        detail = f": {problem}" if self.settings.debug else ""
        message = encode(error(f"this session failed and was closed{detail}", "internal"))
        session.hub.close_all(1011, "internal error", (message,))
        if self.keeper is not None:
            self.keeper.ended(session.id)

    # --- lifetimes --------------------------------------------------------------------------
    def expired(self, now: float) -> list[Session]:
        """Sessions nobody uses: no socket, and untouched for the idle time — or, once a socket
        had been there, for the resume time after the last one closed."""
        timing = self.settings.timing
        out = []
        for session in self._sessions.values():
            if len(session.hub):
                continue
            quiet = now - session.last_active
            if session.disconnected_at is not None:
                if now - session.disconnected_at > timing.resume_seconds and quiet > timing.resume_seconds:
                    out.append(session)
            elif quiet > timing.idle_expiry_seconds:
                out.append(session)
        return out

    async def reap_forever(self) -> None:
        while True:
            await asyncio.sleep(self.settings.timing.reap_interval_seconds)
            for session in self.expired(time.monotonic()):
                logger.info("session %s expired", session.id[:8])
                await self._end(session, 1001, "the session expired")

    async def watch_sockets_forever(self, interval: float = 0.5) -> None:
        """The send watchdog: every `interval`, close clients stuck in a send (see stream.py)."""
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for session in list(self._sessions.values()):
                for channel in session.hub:
                    channel.check(now)

    async def close_all(self, code: int, reason: str) -> None:
        """Shutdown: close every socket with `code` and wait (briefly) for them to go."""
        await close_hubs(lambda: [session.hub for session in self._sessions.values()], code, reason)
