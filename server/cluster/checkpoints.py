"""Trainer checkpoints in Redis, so a dead worker's sessions go on elsewhere (docs/reliability.md,
"A worker's death").

Writing. Every session of a cluster worker writes its state to `checkpoint:{session id}`, a hash
of `worker` (who serves it), `step` and `data`: a saved run's export document
(`backprop_lab.server.saved.capture.export_document`: config, history, snapshots, the trainer's
exact state, an upload's table) and what makes it a live session again (`live`: its owner, the
config as asked for, the speed, the chosen sample, its share code). The document is captured and
encoded on the session's training thread at a slice boundary (one consistent step), at most once
every `CHECKPOINT_SECONDS` while it trains, and at once when training stops (a pause, the end of
a step request) or something else changes it (a config, a reset, a hand-edited weight); the
event loop only hands the bytes to Redis, one write per session at a time, the newest waiting
one replacing an older one. Each checkpoint lives for the time a server keeps a session nobody
is connected to (`Timing.resume_seconds`), and the worker renews its live sessions' ones, so an
abandoned one expires by itself; deleting a session deletes its checkpoint.

Adopting. The proxy sends a dead worker's paths to a live one (docs/deploy.md). A request or a
socket for a session this worker does not hold, whose id names another worker, asks Redis: once
that worker's heartbeat (`alive:{worker}`, renewed every `HEARTBEAT_SECONDS`) has lapsed, the
first worker to take `checkpoint:{id}:lock` (`SET NX` with an expiry) builds the session from its
checkpoint under the same id and owner, exactly as opening a saved run does
(`capture.import_run`, `capture.resumed_trainer`, `Session.restore`), and becomes its `worker`;
requests on the same worker meanwhile wait for that one adoption, another worker asked meanwhile
answers as for an unknown id (the proxy sends a session's paths to one backup worker).
The worker an id names takes its session back the same way when it is up again (a restart, a
freeze that made it look dead), without waiting: the proxy sends the session's paths to it again.
A checkpoint is only written by the worker it names (a Lua script compares `worker`): one that
finds another name there, writing or every heartbeat, closes its own copy (code 1012), and the
page reconnects to the one that holds it now.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import orjson

from backprop_lab.engine.config import Config
from backprop_lab.server.classroom.identity import TEACHER_ID, Identity, Role
from backprop_lab.server.cluster.directory import share_value
from backprop_lab.server.cluster.link import ClusterLink, key
from backprop_lab.server.saved import capture
from backprop_lab.server.saved.run_models import RunDocument
from backprop_lab.server.wire.problems import InvalidInput

if TYPE_CHECKING:
    from backprop_lab.server.live.manager import SessionManager
    from backprop_lab.server.live.session import Session

logger = logging.getLogger(__name__)
JSON = dict[str, Any]
# How often a training session writes its checkpoint: measured with bench/cluster_checkpoints.py,
# what a student's session loses to it stays far under 5 % of its epochs/s (docs/budgets.md).
CHECKPOINT_SECONDS = 2.0
HEARTBEAT_SECONDS = 1.0  # how often a worker says it is alive
HEARTBEAT_LIFE_SECONDS = 3.0  # how long it counts as alive after the last time it said so
ADOPT_LOCK_SECONDS = 30.0  # longest an adoption may hold its lock (a worker that dies holding it)
RUN_NAME = "checkpoint"  # the document's run name (a checkpoint is never listed as a run)

# Write `data` to the checkpoint hash unless another worker holds it; renew its life. 1: written.
_WRITE = """
local holder = redis.call('HGET', KEYS[1], 'worker')
if holder and holder ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'worker', ARGV[1], 'step', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
"""


def checkpoint_key(session_id: str) -> str:
    return key("checkpoint", session_id)


def worker_of(session_id: str) -> str | None:
    """The worker a session id names ("w1" of "w1.…"); None for a single process's id."""
    worker, dot, _ = session_id.partition(".")
    return worker if dot else None


class Checkpoints:
    """A worker's checkpoints: written for its sessions, read to adopt a dead worker's."""

    def __init__(self, link: ClusterLink, manager: SessionManager) -> None:
        self.link = link
        self.manager = manager
        self.life_ms = int(manager.settings.timing.resume_seconds * 1000)
        self._loop = manager.loop
        self._loop_thread = threading.get_ident()  # made on the event loop: capture is never done there
        self._written_at: dict[str, float] = {}  # session id → when its last checkpoint was captured
        self._waiting: dict[str, tuple[int, bytes]] = {}  # session id → the newest (step, bytes) not yet written
        self._writers: dict[str, asyncio.Task[None]] = {}
        self._adoptions: dict[str, asyncio.Task[None]] = {}
        self._deletions: set[asyncio.Task[None]] = set()
        self._write = link.redis.register_script(_WRITE)

    # --- writing -----------------------------------------------------------------------------
    def kept(self, session: Session) -> None:
        """A new session of this worker's (created, forked, opened or adopted): checkpointed from now
        on, starting with its first state. Event loop."""
        session.checkpoints = self
        session.submit(lambda: self.changed(session, urgent=True))

    def changed(self, session: Session, urgent: bool) -> None:
        """The session's state changed: capture it when due (`urgent`: now). In the session's lane:
        on a training thread, or on the event loop for a paced session's play turn
        (`Scheduler.run_on_loop`), whose capture is then a job of its lane on a training thread."""
        now = time.monotonic()
        if session.closed or not urgent and now - self._written_at.get(session.id, 0.0) < CHECKPOINT_SECONDS:
            return
        self._written_at[session.id] = now
        if threading.get_ident() == self._loop_thread:
            session.submit(lambda: self._capture(session))
        else:
            self._capture(session)

    def _capture(self, session: Session) -> None:
        if session.closed:
            return
        try:
            step, data = session.trainer.step_count, self.encode(session)
        except Exception:  # never the session's failure: the previous checkpoint stays
            logger.exception("checkpoint of session %s not captured", session.id[:12])
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: the server is stopping
            self._loop.call_soon_threadsafe(self._queue, session.id, step, data)

    def encode(self, session: Session) -> bytes:
        """The session's checkpoint: call in its lane."""
        identity = session.claim.identity
        run = capture.capture(session, session.id, RUN_NAME, owner=identity.id, address=identity.address)
        live = {"owner": {"id": identity.id, "address": identity.address}, "requested": session.requested.as_dict(),
                "steps_per_second": session.steps_per_second,
                "probe": {"split": session.probe.split, "index": session.probe.index},
                "share": self.manager.shares.code_of(session.id)}
        return orjson.dumps({"document": capture.export_document(run, session.trainer.dataset), "live": live})

    def _queue(self, session_id: str, step: int, data: bytes) -> None:
        if session_id not in self._written_at:  # ended meanwhile: its checkpoint is gone for good
            return
        self._waiting[session_id] = (step, data)
        if session_id not in self._writers:
            self._writers[session_id] = asyncio.create_task(self._drain(session_id), name="checkpoint-write")

    async def _drain(self, session_id: str) -> None:
        try:
            while (waiting := self._waiting.pop(session_id, None)) is not None:
                step, data = waiting
                written = await self._write(keys=[checkpoint_key(session_id)],
                                            args=[self.link.worker, step, data, self.life_ms])
                if not written:
                    await self._taken_over(session_id)
                    return
        except Exception:  # Redis is away: the session goes on, its next checkpoint tries again
            logger.warning("checkpoint of session %s not written", session_id[:12], exc_info=True)
        finally:
            self._writers.pop(session_id, None)

    async def _taken_over(self, session_id: str) -> None:
        """Another worker adopted this session (this one was taken for dead): stop serving it."""
        logger.warning("session %s now lives on another worker: closing this copy", session_id[:12])
        self._written_at.pop(session_id, None)
        with contextlib.suppress(Exception):
            await self.manager.drop(session_id, 1012, "the session moved to another server")

    def ended(self, session_id: str) -> None:
        """The session ended here (deleted, expired, failed): its checkpoint goes with it. Event loop."""
        self._written_at.pop(session_id, None)
        self._waiting.pop(session_id, None)  # its writer ends after the write under way
        deletion = asyncio.create_task(self._delete(session_id, self._writers.get(session_id)),
                                       name="checkpoint-delete")
        self._deletions.add(deletion)
        deletion.add_done_callback(self._deletions.discard)

    async def _delete(self, session_id: str, writer: asyncio.Task[None] | None) -> None:
        if writer is not None:  # a write landing after the delete would bring the checkpoint back
            await asyncio.wait({writer})
        with contextlib.suppress(Exception):  # Redis away: the checkpoint expires by itself
            await self.link.redis.delete(checkpoint_key(session_id))

    async def keep_alive_forever(self) -> None:
        """Say this worker is alive, stop serving the sessions another worker took (one paused
        here writes nothing that would find out), and renew its sessions' checkpoints (a session
        paused for long keeps one), until cancelled."""
        alive = key("alive", self.link.worker)
        renewed = 0.0
        while True:
            try:
                await self.link.redis.set(alive, "1", px=int(HEARTBEAT_LIFE_SECONDS * 1000))
                await self._drop_taken()
                if time.monotonic() - renewed > self.life_ms / 4000:
                    async with self.link.redis.pipeline(transaction=False) as pipe:
                        for session_id in list(self._written_at):  # training threads add to it
                            pipe.pexpire(checkpoint_key(session_id), self.life_ms)
                        await pipe.execute()
                    renewed = time.monotonic()
            except Exception:
                logger.warning("worker %s could not reach Redis", self.link.worker, exc_info=True)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _drop_taken(self) -> None:
        sessions = list(self._written_at)  # training threads add to it
        async with self.link.redis.pipeline(transaction=False) as pipe:
            for session_id in sessions:
                pipe.hget(checkpoint_key(session_id), "worker")
            holders = await pipe.execute()
        for session_id, holder in zip(sessions, holders, strict=True):
            if holder is not None and holder != self.link.worker.encode() and session_id in self._written_at:
                await self._taken_over(session_id)

    # --- adopting ----------------------------------------------------------------------------
    async def recover(self, session_id: str) -> None:
        """Make sure this worker holds `session_id` if it can: when it holds no such session and
        another worker's checkpoint of it is there for the taking, adopt it (one adoption at a time
        per session on this worker; one worker across the cluster, by the lock). Does nothing for a
        session this worker holds, an id no worker made, or a checkpoint a live worker serves
        (unless this worker is the one the id names: it takes its session back)."""
        worker = worker_of(session_id)
        if worker is None or self.manager.holds(session_id):
            return
        adoption = self._adoptions.get(session_id)
        if adoption is None:
            adoption = self._adoptions[session_id] = asyncio.create_task(self._adopt(session_id, worker))
            adoption.add_done_callback(lambda _: self._adoptions.pop(session_id, None))
        await asyncio.shield(adoption)

    async def _adopt(self, session_id: str, worker: str) -> None:
        redis = self.link.redis
        name = checkpoint_key(session_id)
        deadline = time.monotonic() + HEARTBEAT_LIFE_SECONDS + HEARTBEAT_SECONDS
        while True:  # the holder may have died a moment ago: wait out its heartbeat
            found = await redis.hget(name, "worker")
            if found is None:
                return  # no checkpoint: an unknown or expired session (404)
            holder = found.decode() if isinstance(found, bytes) else found
            if holder == self.link.worker and self.manager.holds(session_id):
                return
            # its own worker takes it back (the proxy sends its paths there again once it is up)
            if self.link.worker in (holder, worker) or not await redis.exists(key("alive", holder)):
                break
            if time.monotonic() > deadline:
                return  # its worker is alive and serves it
            await asyncio.sleep(0.1)
        lock = key("checkpoint", session_id, "lock")
        if not await redis.set(lock, self.link.worker, nx=True, px=int(ADOPT_LOCK_SECONDS * 1000)):
            return  # another worker adopts it; the proxy sends the session's paths there
        try:
            now_held_by, data = await redis.hmget(name, ["worker", "data"])
            if data is None or now_held_by not in (holder.encode(), holder):
                return  # expired, or adopted by another worker since it was seen dead (its lock gone)
            await redis.hset(name, "worker", self.link.worker)  # from now on this worker writes it
            try:
                await self._build(session_id, orjson.loads(data))
            except (ValueError, KeyError, TypeError):  # a checkpoint this version cannot resume: as if none (404)
                logger.exception("session %s cannot go on from its checkpoint", session_id[:12])
                return
            logger.info("adopted session %s of worker %s", session_id[:12], worker)
        finally:
            await redis.delete(lock)

    async def _build(self, session_id: str, checkpoint: JSON) -> None:
        """The session again, under its id and owner, at the checkpoint's step (paused)."""
        live = checkpoint["live"]
        document = RunDocument.model_validate(checkpoint["document"])
        limits = self.manager.settings.limits
        config, table = await anyio.to_thread.run_sync(capture.document_config, document, limits)
        owner = live["owner"]
        identity = Identity(owner["id"], Role.TEACHER if owner["id"] == TEACHER_ID else Role.STUDENT,
                            owner["address"])
        run = await anyio.to_thread.run_sync(
            lambda: capture.import_run(document, config, table, owner=identity.id, address=identity.address))
        requested = Config().replace(**live["requested"])
        async with self.manager.session_slot(identity) as claim:
            if table is not None:  # an upload: kept here under a new id, as opening a saved run does
                dataset = self.manager.add_table(table, identity)
                config, requested = config.replace(dataset=dataset), requested.replace(dataset=dataset)
            trainer = await anyio.to_thread.run_sync(capture.resumed_trainer, run, config, table)
            session = self.manager.adopt(trainer, requested, table, claim, session_id=session_id)
        probe, speed = live["probe"], live["steps_per_second"]

        def restore() -> None:
            session.restore(run.history, run.snapshot_steps, run.snapshots)
            session.moved_from = trainer.step_count
            session.steps_per_second = speed
            with contextlib.suppress(InvalidInput):  # a sample that is no longer there: the first one
                session.set_probe(probe["split"], probe["index"])
            self.changed(session, urgent=True)  # its history and trajectory too, from now on

        await session.run(restore)
        code = live["share"]
        if code is not None:  # its viewers' code names it here now (the cluster's directory: `codes:{CODE}`)
            self.manager.shares.restore(session_id, code)
            await self.link.redis.set(key("codes", code), share_value(session_id, self.link.worker),
                                      xx=True, keepttl=True)
