"""Viewers across workers: a viewer on worker B watches a presenter whose session worker A holds.

Nothing changes on the wire for the viewer (docs/protocol.md): B's socket gets the very bytes a
viewer on A gets, in the same order, starting with the same greeting.

- **Asking.** B subscribes to the session's channel `lab:frames:{session id}`, waits for Redis
  to confirm it, then publishes a request on `lab:relay`, the channel every worker listens on
  (requests are rare: a viewer arriving, a fork; whoever holds the session answers, so a session
  another worker adopted is still found).
- **Publishing, on A.** The first request puts a `Tap` on the session's hub: from then on every
  message the hub broadcasts is published on the session's channel as it is queued for A's own
  sockets, the same `Encoded` object, framed once (`fanout.Encoded.framed`), with a one-line
  header naming its kind; never encoded again, never per viewer. The greeting is published from
  the event loop at the point of the stream where a local viewer's would be queued
  (`Session.greet_elsewhere`), so the viewer misses nothing after its snapshot and gets nothing
  older. A tap publishes only while some other worker listens: once a second A asks Redis
  (`PUBSUB NUMSUB`) and removes the taps nobody subscribes to, and the others beat (an empty
  message), so a paused session's channel is not silent.
- **Delivering, on B.** One subscriber connection per worker reads every channel; a `Remote`
  per watched session holds B's viewers of it in a `SessionHub` of its own and hands each
  message, as the bytes came (`Encoded.from_framed`, one object for all of B's viewers), to the
  same channel writer local viewers have (`fanout.ClientChannel`, `wire_socket`): latest-wins
  frames, the send watchdog, the close. The presenter's session ending closes B's viewers with
  the message and code A's own got; a channel silent for `SILENCE_SECONDS` (A died) closes them
  with 1012, so their pages reconnect, as A's own do, to wherever the session goes on.
- **Counting.** A session's viewers on every worker count against one cap
  (`Limits.max_viewers_per_session`): `lab:viewers:{session id}`, a count per worker, taken
  atomically with the check before a viewer's handshake is accepted (on A too) and given back
  when it ends; a dead worker's count stops counting (`ALIVE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket

from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import RETRY_AFTER, Resource
from backprop_lab.server.cluster import forks
from backprop_lab.server.cluster.directory import Elsewhere, RedisDirectory, share_value, shared_at
from backprop_lab.server.cluster.link import ClusterLink, key
from backprop_lab.server.live import control
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session
from backprop_lab.server.live.share_codes import SHARE, ShareBook, normalise
from backprop_lab.server.runtime.fanout import ClientChannel, Encoded, Part, Role, SessionHub, close_hubs, finish
from backprop_lab.server.settings import Settings
from backprop_lab.server.web.wire_socket import framed
from backprop_lab.server.wire.problems import CapReached, NotFound
from backprop_lab.server.wire.protocol import encode, error

if TYPE_CHECKING:
    from redis.asyncio import Redis

logger = logging.getLogger(__name__)
REQUESTS = key("relay")  # the channel of requests to whichever worker holds a session
TAP_CHECK_SECONDS = 1.0  # how often a worker drops the taps no other worker listens to, and beats in the rest
# a watched session's channel silent this long (not even a beat): its worker died; its viewers
# elsewhere are closed, so their pages reconnect to wherever the session goes on (cluster.checkpoints)
SILENCE_SECONDS = 5 * TAP_CHECK_SECONDS
GREETING_SECONDS = 10.0  # a remote viewer not greeted by then is told the session is gone
FORK_SECONDS = 15.0  # how long a fork through another worker waits for the presenter's state
MAX_UNPUBLISHED = 512  # a tap's backlog while Redis is slow; past it the oldest are dropped
VIEWERS_TTL_SECONDS = 24 * 3600  # a viewer count left by a worker that died goes after a day

# A session's viewers: `lab:viewers:{id}` → {worker: count}. A count is one of the living
# workers' (their heartbeat, cluster.checkpoints' `lab:alive:{worker}`, is there) or this one's:
# the viewers of a worker that died stop counting with it.
ALIVE = key("alive", "")
_LIVING = """
local n = 0
local counts = redis.call('HGETALL', KEYS[1])
for i = 1, #counts, 2 do
  if counts[i] == me or redis.call('EXISTS', alive .. counts[i]) == 1 then n = n + tonumber(counts[i + 1]) end
end
"""
# one more viewer on worker ARGV[1] unless that passes the cap ARGV[3] (then 0), atomically across workers
_TAKE_VIEWER = "local me, alive = ARGV[1], ARGV[2]\n" + _LIVING + """
redis.call('HINCRBY', KEYS[1], me, 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
if n + 1 > tonumber(ARGV[3]) then redis.call('HINCRBY', KEYS[1], me, -1) return 0 end
return n + 1
"""
_GIVE_VIEWER = """
if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return 0
"""
_COUNT_VIEWERS = "local me, alive = ARGV[1], ARGV[2]\n" + _LIVING + "return n"


def frames_channel(session_id: str) -> str:
    return key("frames", session_id)


def envelope(header: dict[str, Any], body: bytes) -> bytes:
    """What goes on a session's channel: a JSON header line, then framed WebSocket messages."""
    return json.dumps(header).encode() + b"\n" + body


def opened(data: bytes) -> tuple[dict[str, Any], bytes]:
    header, _, body = data.partition(b"\n")
    return json.loads(header), body


class Tap:
    """On A: publishes one session's broadcasts to the workers watching it (`fanout.HubTap`)."""

    def __init__(self, redis: Redis, session: Session) -> None:
        self.session = session
        self.channel = frames_channel(session.id)
        self.requests = 0  # watch requests so far: a tap asked for during a subscriber check stays
        self._redis = redis
        self._pending: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._publish_forever(), name="relay-tap")

    def relay(self, message: Encoded, kind: str) -> None:
        self._put({"kind": kind}, message.framed)

    def closing(self, code: int, reason: str, message: Encoded) -> None:
        self._put({"close": code, "reason": reason}, message.framed)

    def greet(self, viewer: str, parts: tuple[Part, ...]) -> None:
        """A viewer's greeting, then the audience count every client hears when a viewer joins."""
        self._put({"greet": viewer}, framed(parts))
        self.session.announce_audience()

    def gone(self, viewer: str) -> None:
        self._put({"gone": viewer}, b"")

    def beat(self) -> None:
        """Say this worker is still there (a paused session sends nothing else)."""
        self._put({"beat": 1}, b"")

    def _put(self, header: dict[str, Any], body: bytes) -> None:
        if len(self._pending) >= MAX_UNPUBLISHED:
            self._pending.popleft()
            logger.warning("Redis is slow: a message for the viewers of session %s on other workers was dropped",
                           self.session.id[:8])
        self._pending.append(envelope(header, body))
        self._wake.set()

    async def _publish_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch = list(self._pending)
            self._pending.clear()
            pipe = self._redis.pipeline(transaction=False)
            for data in batch:
                pipe.publish(self.channel, data)
            try:
                await pipe.execute()
            except Exception:
                logger.warning("could not publish session %s's messages to Redis", self.session.id[:8], exc_info=True)

    async def stop(self) -> None:
        """Publish what is queued (within a second), then stop."""
        deadline = time.monotonic() + 1.0
        while self._pending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Remote:
    """On B: one session another worker holds, and this worker's viewers of it."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.channel = frames_channel(session_id)
        self.hub = SessionHub()
        self.waiting: dict[str, ClientChannel] = {}  # viewer token → its channel, until greeted
        self.subscribed = asyncio.Event()
        self.heard_at = time.monotonic()  # the last message from the session's worker

    def deliver(self, data: bytes) -> None:
        self.heard_at = time.monotonic()
        header, body = opened(data)
        if "kind" in header:
            self.hub.broadcast(Encoded.from_framed(body), header["kind"])
        elif "greet" in header:
            channel = self.waiting.pop(header["greet"], None)
            if channel is not None and self.hub.listen(channel):
                channel.push(Encoded.from_framed(body))
        elif "gone" in header:
            channel = self.waiting.pop(header["gone"], None)
            if channel is not None:
                refuse(channel)
        elif "close" in header:
            message = Encoded.from_framed(body)
            for channel in self.hub:
                if body:
                    channel.push(message)
                channel.close(header["close"], header["reason"])


def refuse(channel: ClientChannel) -> None:
    """What a local viewer hears when its session closed before it was greeted."""
    channel.push((encode(error("this session is closed", "session_closed")),))
    channel.close(1000, "session closed")


class Relay:
    """A worker's side of the relay: it answers for the sessions it holds (taps, forks) and
    serves its viewers of sessions other workers hold (remotes)."""

    def __init__(self, link: ClusterLink, manager: SessionManager, settings: Settings) -> None:
        self.link = link
        self.manager = manager
        self.settings = settings
        self._redis = link.redis
        self._pubsub = link.redis.pubsub()
        self._taps: dict[str, Tap] = {}
        self._remotes: dict[str, Remote] = {}
        self._requests_ready = asyncio.Event()
        # a session's channel is subscribed to and left in order: a viewer arriving as the last
        # one leaves subscribes after the leaving unsubscribed, never before
        self._subscribing = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._take_viewer = self._redis.register_script(_TAKE_VIEWER)
        self._give_viewer = self._redis.register_script(_GIVE_VIEWER)
        self._count_viewers = self._redis.register_script(_COUNT_VIEWERS)

    @classmethod
    async def start(cls, link: ClusterLink, manager: SessionManager, settings: Settings) -> Relay:
        """The relay, listening; the manager's share codes now live in Redis."""
        manager.shares = ShareBook(RedisDirectory(link), lambda session_id: share_value(session_id, link.worker))
        relay = cls(link, manager, settings)
        await relay._pubsub.subscribe(REQUESTS)
        for job in (relay._read_forever(), relay._check_taps_forever(), relay._watch_sockets_forever()):
            relay._spawn(job)
        await asyncio.wait_for(relay._requests_ready.wait(), 10)
        return relay

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for tap in list(self._taps.values()):
            await tap.stop()
        await self._pubsub.aclose()

    def _spawn(self, job: Any) -> None:
        task = asyncio.get_running_loop().create_task(job)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- reading Redis ---------------------------------------------------------------------
    async def _read_forever(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("the relay's Redis subscription failed; retrying", exc_info=True)
                await asyncio.sleep(1.0)
                continue
            if message is None:
                continue
            channel = message["channel"].decode()
            if message["type"] == "subscribe":
                if channel == REQUESTS:
                    self._requests_ready.set()
                elif (remote := self._remote_of(channel)) is not None:
                    remote.subscribed.set()
            elif message["type"] == "message":
                try:
                    if channel == REQUESTS:
                        self._answer(json.loads(message["data"]))
                    elif (remote := self._remote_of(channel)) is not None:
                        remote.deliver(message["data"])
                except Exception:  # one bad message must not stop the relay
                    logger.exception("a relay message on %s failed", channel)

    def _remote_of(self, channel: str) -> Remote | None:
        return self._remotes.get(channel.removeprefix(frames_channel("")))

    async def shared(self, code: str) -> Session | Elsewhere:
        """The session a share code names: here, or on another worker (404 when none)."""
        try:
            return self.manager.shared(code)
        except NotFound:
            normal = normalise(code)
            value = await self.manager.shares.directory.find(SHARE, normal) if normal is not None else None
            if value is None or (where := shared_at(value)).worker == self.link.worker:
                raise
            return where

    # --- A: answering for the sessions held here -------------------------------------------
    def _answer(self, request: dict[str, Any]) -> None:
        session_id = request["session"]
        try:
            session = self.manager.get(session_id)
        except NotFound:
            if request["worker"] == self.link.worker:  # the worker named for it says it is gone
                if request["op"] == "watch":
                    self._spawn(self._publish_gone(session_id, request["viewer"]))
                else:
                    self._spawn(self._reply_fork(request["reply"], forks.GONE))
            return
        if request["op"] == "watch":
            tap = self._tap(session_id, session)
            tap.requests += 1
            self._spawn(self._greet(tap, request["viewer"]))
        elif request["op"] == "fork":
            self._spawn(self._answer_fork(session, request["reply"]))

    def _tap(self, session_id: str, session: Session) -> Tap:
        tap = self._taps.get(session_id)
        if tap is None:
            tap = self._taps[session_id] = Tap(self._redis, session)
            session.hub.tap = tap
        return tap

    async def _greet(self, tap: Tap, viewer: str) -> None:
        """Greet a viewer on another worker, the audience count it then hears counting it."""
        session = tap.session
        with contextlib.suppress(Exception):  # Redis went away: the count waits for the next check
            await self._count_elsewhere(session)
        greeting = session.submit(lambda: session.greet_elsewhere(lambda parts: tap.greet(viewer, parts)))
        greeting.add_done_callback(lambda done: self._failed_greeting(done, tap, viewer))

    async def _count_elsewhere(self, session: Session) -> bool:
        """Update the session's count of viewers on other workers (the cluster's count, less the
        viewers here); True when it changed."""
        hub = session.hub
        elsewhere = max(0, await self.viewers(session.id) - hub.viewers_here)
        changed, hub.viewers_elsewhere = elsewhere != hub.viewers_elsewhere, elsewhere
        return changed

    def _failed_greeting(self, greeting: Any, tap: Tap, viewer: str) -> None:
        if greeting.cancelled() or greeting.exception() is not None:  # the session closed first
            with contextlib.suppress(RuntimeError):
                self.manager.loop.call_soon_threadsafe(tap.gone, viewer)

    async def _publish_gone(self, session_id: str, viewer: str) -> None:
        await self._redis.publish(frames_channel(session_id), envelope({"gone": viewer}, b""))

    async def _answer_fork(self, session: Session, reply: str) -> None:
        try:
            data = await session.run(lambda: forks.snapshot(session))
        except Exception:  # the session closed meanwhile
            data = forks.GONE
        await self._reply_fork(reply, data)

    async def _reply_fork(self, reply: str, data: bytes) -> None:
        name = key("fork", reply)
        pipe = self._redis.pipeline(transaction=False)
        pipe.rpush(name, data)
        pipe.expire(name, int(FORK_SECONDS) * 2)
        await pipe.execute()

    async def _check_taps_forever(self) -> None:
        """Drop the taps of sessions that ended or that no other worker listens to any more."""
        while True:
            await asyncio.sleep(TAP_CHECK_SECONDS)
            for session_id, tap in list(self._taps.items()):
                asked = tap.requests
                try:
                    [(_, listeners)] = await self._redis.pubsub_numsub(tap.channel)
                except Exception:
                    logger.warning("could not count the listeners of %s", tap.channel, exc_info=True)
                    continue
                session = tap.session
                if (listeners == 0 and tap.requests == asked) or session.closed:
                    if session.hub.tap is tap:
                        session.hub.tap, session.hub.viewers_elsewhere = None, 0
                    del self._taps[session_id]
                    await tap.stop()
                    if not session.closed:
                        session.announce_audience()
                else:
                    tap.beat()
                    with contextlib.suppress(Exception):
                        if await self._count_elsewhere(session):
                            session.announce_audience()

    # --- B: this worker's viewers of sessions held elsewhere -------------------------------
    async def watch(self, websocket: WebSocket, elsewhere: Elsewhere, identity: Identity) -> None:
        """Serve an accepted viewer socket of a session another worker holds, until it ends."""
        channel = ClientChannel(websocket, Role.VIEWER, self.settings.timing.send_timeout_seconds)
        remote = await self._join(elsewhere.session_id, channel)
        viewer = secrets.token_urlsafe(9)
        remote.waiting[viewer] = channel
        writer = asyncio.create_task(channel.run(), name="ws-writer")
        reader = asyncio.create_task(self._read_only(channel, identity), name="ws-reader")
        late = asyncio.get_running_loop().call_later(GREETING_SECONDS, self._not_greeted, remote, viewer)
        try:
            request = {"op": "watch", "session": elsewhere.session_id, "worker": elsewhere.worker, "viewer": viewer}
            try:
                await asyncio.wait_for(remote.subscribed.wait(), GREETING_SECONDS)
                asked = await self._redis.publish(REQUESTS, json.dumps(request))
            except Exception:  # Redis did not answer: as if nobody held the session
                logger.warning("could not ask for session %s's stream", elsewhere.session_id[:8], exc_info=True)
                asked = 0
            if not asked:
                self._not_greeted(remote, viewer)
            await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            late.cancel()
            reader.cancel()
            await finish(channel, writer)
            remote.waiting.pop(viewer, None)
            remote.hub.discard(channel)
            async with self._subscribing:
                if not len(remote.hub) and self._remotes.get(remote.session_id) is remote:
                    del self._remotes[remote.session_id]
                    with contextlib.suppress(Exception):
                        await self._pubsub.unsubscribe(remote.channel)

    async def close_viewers(self, code: int, reason: str) -> None:
        """Shutdown: close this worker's viewers of other workers' sessions, and wait (briefly)."""
        await close_hubs(lambda: [remote.hub for remote in self._remotes.values()], code, reason)

    def _not_greeted(self, remote: Remote, viewer: str) -> None:
        channel = remote.waiting.pop(viewer, None)
        if channel is not None:
            refuse(channel)

    async def _join(self, session_id: str, channel: ClientChannel) -> Remote:
        """The session's `Remote`, with `channel` in its hub, its subscription asked for (its
        `subscribed` is set once Redis confirms it: only then may its greeting be asked for)."""
        async with self._subscribing:
            remote = self._remotes.get(session_id)
            if remote is None:
                remote = self._remotes[session_id] = Remote(session_id)
                with contextlib.suppress(Exception):  # Redis is down: `subscribed` never comes
                    await self._pubsub.subscribe(remote.channel)
            remote.hub.join(channel)
            return remote

    async def _read_only(self, channel: ClientChannel, identity: Identity) -> None:
        """A remote viewer's reader: its messages get what a local viewer's get."""
        await control.read_forever(channel, identity, self.manager.ledger, self.settings.limits.max_messages_per_second,
                                   lambda text: channel.push((encode(control.viewer_reply(text)),)))

    async def _watch_sockets_forever(self, interval: float = 0.5) -> None:
        """The send watchdog of this worker's remote viewers (the manager's covers the local ones),
        and the close of those whose session's worker went silent."""
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for remote in list(self._remotes.values()):
                if now - remote.heard_at > SILENCE_SECONDS and not remote.waiting:
                    remote.heard_at = now
                    remote.hub.close_all(1012, "the presenter's server stopped answering")
                for channel in remote.hub:
                    channel.check(now)

    # --- every worker: the viewer cap across workers ----------------------------------------
    @contextlib.asynccontextmanager
    async def viewer_slot(self, session_id: str) -> AsyncIterator[None]:
        """One viewer of `session_id` counted across the cluster while the block runs; the
        `CapReached` of `too_many_viewers` when the session's viewers on every worker fill its cap."""
        limit = self.settings.limits.max_viewers_per_session
        name = key("viewers", session_id)
        if not await self._take_viewer(keys=[name], args=[self.link.worker, ALIVE, limit, VIEWERS_TTL_SECONDS]):
            quota = self.manager.sockets.viewers
            raise CapReached(quota.refusal.format(limit=limit), quota.code, "", {"maximum": limit},
                             retry_after=RETRY_AFTER[Resource.SOCKETS])
        try:
            yield
        finally:
            await asyncio.shield(self._give_viewer(keys=[name], args=[self.link.worker]))

    async def viewers(self, session_id: str) -> int:
        """How many watch `session_id` on every worker."""
        return int(await self._count_viewers(keys=[key("viewers", session_id)], args=[self.link.worker, ALIVE]))

    # --- B: a fork of a session held elsewhere ---------------------------------------------
    async def fork(self, elsewhere: Elsewhere, identity: Identity) -> Session:
        """A new session here in the state of the session another worker holds (its fork
        snapshot, `forks`), owned by `identity`."""
        reply = secrets.token_urlsafe(12)
        request = {"op": "fork", "session": elsewhere.session_id, "worker": elsewhere.worker, "reply": reply}
        gone = NotFound("no shared session: it ended on its worker (check the code)")
        if not await self._redis.publish(REQUESTS, json.dumps(request)):
            raise gone
        answer = await self._redis.blpop([key("fork", reply)], timeout=FORK_SECONDS)
        if answer is None or answer[1] == forks.GONE:
            raise gone
        return await forks.open_fork(self.manager, answer[1], identity)
