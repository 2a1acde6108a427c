"""Fan-out of a session's messages to its sockets: a small outbound queue per client.

The producer (the training thread, through the event loop) never awaits a client. It drops
each message into every client's queue and moves on; a writer task per client drains that
queue into its socket. The queue stays small whatever the client does:

- frames and heatmaps are *latest wins*: a newer one replaces the unsent older one, so a slow
  client sees fewer frames, never stale ones, and never makes the server hold more. A frame
  replaces only pending frames that carry no block it lacks (`SUPERSEDES`: a frame with every
  block replaces any frame, a frame with the weights only replaces weights-only and JSON-only
  frames), so a slow client still gets the newest numbers; a frame and its binary go together;
- control messages (config, state, snapshots, replies) are never dropped; a client that lets
  too many of them pile up is stuck and gets closed;
- a send that does not finish within `send_timeout` (the client stopped reading and the
  socket's buffers are full) closes that client (`check`, called by the manager's watchdog).

A message is encoded once by the producer, WebSocket framing included (`Encoded`); every
client's queue holds the same object, and where the server offers it (`WireProtocol`) a client's
writer hands everything pending to its socket in one write: the cost of a frame grows with its
audience by one write per client, not by a JSON encoding, two frames and two writes.

The training threads hand their messages to the event loop through one `Outbox` per loop: a
message joins a list, which the loop hands to the sessions' hubs in order, a batch at a time;
a message wakes the loop only when it is idle, and while messages keep coming the loop polls
for them (`Outbox.POLL_SECONDS`), as each wake-up is a system call and a GIL hand-over.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.websockets import WebSocket

from backprop_lab.server.web.wire_socket import framed, unframed, wire_write

logger = logging.getLogger(__name__)

Part = str | bytes  # a text (JSON) or binary WebSocket message
# latest-wins kinds → the pending kinds a newer message of that kind replaces (backprop_lab.server.live.frames)
SUPERSEDES: dict[str, frozenset[str]] = {
    "frame": frozenset({"frame", "frame_params", "frame_scalars"}),  # every block
    "frame_params": frozenset({"frame_params", "frame_scalars"}),  # the weights only
    "frame_scalars": frozenset({"frame_scalars"}),  # the JSON alone, no binary
    "race": frozenset({"race"}),  # a running race's newer numbers (its last message is a control one)
    "heatmaps": frozenset({"heatmaps"}),
    "audience": frozenset({"audience"}),  # a newer viewer count replaces an unsent older one
    "class": frozenset({"class"}),  # the teacher's class view (/ws/classes/{code}): the newest replaces the older
    "lesson": frozenset({"lesson"}),  # the presenter's lesson step: the newest replaces an unsent older one
}


class Role(enum.Enum):
    CONTROL = "control"  # may send control messages (the session's own page or script)
    VIEWER = "viewer"  # read-only: a shared session's audience (/ws/watch/{code})


class ChannelState(enum.Enum):
    OPEN = "open"
    CLOSING = "closing"  # a close is queued behind the last messages
    CLOSED = "closed"


class Encoded:
    """A message as every client gets it: its parts, sent back to back (a JSON text, and the
    binary that follows a frame or heatmaps message), and the same as WebSocket frames, built
    once (`framed`) and shared by every client's queue."""

    __slots__ = ("_parts", "_framed")

    def __init__(self, parts: tuple[Part, ...]) -> None:
        self._parts: tuple[Part, ...] | None = parts
        self._framed: bytes | None = None

    @classmethod
    def framed_now(cls, parts: tuple[Part, ...]) -> Encoded:
        """Encoded with its framing built here (the producer's thread), not on the event loop."""
        message = cls(parts)
        message._framed = framed(parts)
        return message

    @classmethod
    def from_framed(cls, data: bytes) -> Encoded:
        """Messages framed elsewhere (another worker's, `backprop_lab.server.cluster.relay`): sent as
        they came; their parts are read out of the framing only for a socket without the framed
        write (`--ws websockets`)."""
        message = cls(())
        message._parts, message._framed = None, data
        return message

    @property
    def parts(self) -> tuple[Part, ...]:
        if self._parts is None:
            self._parts = tuple(unframed(self.framed))
        return self._parts

    @property
    def framed(self) -> bytes:
        if self._framed is None:
            self._framed = framed(self.parts)
        return self._framed


Message = tuple[Part, ...] | Encoded


@dataclass(frozen=True)
class Outbound:
    kind: str  # "control", "close" or a key of SUPERSEDES
    message: Encoded
    close_code: int = 1000


NO_MESSAGE = Encoded(())


class ClientChannel:
    """The outbound side of one socket: its queue and the writer task that drains it."""

    def __init__(
        self, websocket: WebSocket, role: Role, send_timeout: float, max_pending_control: int = 256
    ) -> None:
        self.websocket = websocket
        self.role = role
        self.state = ChannelState.OPEN
        self.close_reason = ""
        self._send_timeout = send_timeout
        self._max_pending_control = max_pending_control
        self._items: deque[Outbound] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._sending_since: float | None = None
        self._write_framed = wire_write(websocket.scope.get("extensions"))

    @property
    def pending(self) -> int:
        return len(self._items)

    def push(self, message: Message, kind: str = "control") -> None:
        """Queue a message (or a message and its binary follower). Never blocks."""
        if self.state is not ChannelState.OPEN:
            return
        replaces = SUPERSEDES.get(kind)
        if replaces is not None:
            for item in [item for item in self._items if item.kind in replaces]:
                self._items.remove(item)  # an unsent older one: the newer replaces it
        elif sum(1 for item in self._items if item.kind == "control") >= self._max_pending_control:
            self._give_up("the client stopped reading (too many unsent messages)")
            return
        self._items.append(Outbound(kind, message if isinstance(message, Encoded) else Encoded(message)))
        self._wake.set()

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Send what is queued, then close the socket with `code`."""
        if self.state is not ChannelState.OPEN:
            return
        self.state = ChannelState.CLOSING
        self.close_reason = reason
        self._items.append(Outbound("close", NO_MESSAGE, code))
        self._wake.set()

    def _give_up(self, reason: str) -> None:
        logger.info("closing a stuck client: %s", reason)
        self.state = ChannelState.CLOSED
        self.close_reason = reason
        self._items.clear()
        self._wake.set()
        if self._writer is not None and self._writer is not asyncio.current_task():
            self._writer.cancel()  # it may be blocked in a send that would only time out

    async def run(self) -> None:
        """The writer task: returns when the socket is closed, failed or stuck."""
        self._writer = asyncio.current_task()
        try:
            while self.state is not ChannelState.CLOSED:
                await self._wake.wait()
                self._wake.clear()
                while self._items and self.state is not ChannelState.CLOSED:
                    item = self._items.popleft()
                    if item.kind == "close":
                        await self._close_socket(item.close_code)
                        return
                    if self._write_framed is not None:
                        if not await self._send_framed(self._framed_batch(item)):
                            return
                        continue
                    for part in item.message.parts:
                        if not await self._send(part):
                            return
        finally:
            self.state = ChannelState.CLOSED
            self._items.clear()

    async def _send(self, part: Part) -> bool:
        # No asyncio.wait_for per send (a task each, thousands a second): the manager's
        # watchdog calls `check` and gives up on a send that has been waiting too long.
        self._sending_since = time.monotonic()
        try:
            if isinstance(part, str):
                await self.websocket.send_text(part)
            else:
                await self.websocket.send_bytes(part)
        except Exception:  # the client went away (disconnect, reset, closed transport)
            self.state = ChannelState.CLOSED
            return False
        finally:
            self._sending_since = None
        return True

    def _framed_batch(self, first: Outbound) -> bytes:
        """`first` and every message queued behind it up to a close, as one write (a lone
        message is joined without a copy)."""
        batch = [first.message.framed]
        while self._items and self._items[0].kind != "close":
            batch.append(self._items.popleft().message.framed)
        return b"".join(batch)

    async def _send_framed(self, data: bytes) -> bool:
        assert self._write_framed is not None
        self._sending_since = time.monotonic()
        try:
            await self._write_framed(data)
        except Exception:  # the client went away (disconnect, reset, closed transport)
            self.state = ChannelState.CLOSED
            return False
        finally:
            self._sending_since = None
        return True

    def check(self, now: float) -> None:
        """The watchdog's visit: close a client whose send has been stuck past the timeout
        (it stopped reading, and the socket's buffers are full)."""
        if self._sending_since is not None and now - self._sending_since > self._send_timeout:
            self._give_up(f"a send waited longer than {self._send_timeout:g} s")

    async def _close_socket(self, code: int) -> None:
        self.state = ChannelState.CLOSED
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code, self.close_reason[:120]), self._send_timeout)


class HubTap(Protocol):
    """What else hears a hub's broadcasts: the viewers of this session on other workers of a
    cluster (`backprop_lab.server.cluster.relay`). Called on the event loop, in broadcast order."""

    def relay(self, message: Encoded, kind: str) -> None: ...

    def closing(self, code: int, reason: str, message: Encoded) -> None: ...


class SessionHub:
    """The sockets of one session. Lives on the event loop: call it only from there.

    A socket is a member from the moment its connection is served until it ends (`join`,
    `discard`, both on the event loop, so the counts are never behind the sockets), and hears
    the session's broadcasts once it has been greeted (`listen`): its `hello` comes first and
    nothing older than that snapshot follows it. A greeting that arrives after its socket ended
    finds it gone and does nothing, so a socket dropped during its handshake never lingers.
    """

    def __init__(self) -> None:
        self._channels: set[ClientChannel] = set()  # every member, greeted or not
        self._listening: set[ClientChannel] = set()  # the greeted members: broadcasts go to them
        self.tap: HubTap | None = None  # while other workers have viewers of this session
        self.viewers_elsewhere = 0  # this session's viewers on other workers (a cluster's relay counts them)

    def __len__(self) -> int:
        return len(self._channels)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(list(self._channels))

    @property
    def control_count(self) -> int:
        return sum(1 for channel in self._channels if channel.role is Role.CONTROL)

    @property
    def viewers_here(self) -> int:
        return len(self._channels) - self.control_count

    @property
    def viewer_count(self) -> int:
        """Everyone who watches: the viewers here and, in a cluster, on other workers."""
        return self.viewers_here + self.viewers_elsewhere

    def join(self, channel: ClientChannel) -> None:
        """A socket being served: counted from now on, broadcast to once greeted."""
        self._channels.add(channel)

    def listen(self, channel: ClientChannel) -> bool:
        """The greeting of `channel`: from now on it hears broadcasts. False when it already
        left (it must not be greeted, nor come back)."""
        if channel not in self._channels or channel.state is not ChannelState.OPEN:
            return False
        self._listening.add(channel)
        return True

    def discard(self, channel: ClientChannel) -> None:
        self._channels.discard(channel)
        self._listening.discard(channel)

    def broadcast(self, message: Message, kind: str = "control") -> None:
        """The same encoded message(s) into every greeted client's queue."""
        shared = message if isinstance(message, Encoded) else Encoded(message)
        for channel in self._listening:
            channel.push(shared, kind)
        if self.tap is not None:
            self.tap.relay(shared, kind)

    def tell_controls(self, parts: tuple[Part, ...]) -> None:
        """Into every greeted control client's queue, not the viewers': what only the session's
        own pages hear (its owner's class, `backprop_lab.server.classroom`)."""
        for channel in self._listening:
            if channel.role is Role.CONTROL:
                channel.push(parts)

    def close_all(self, code: int, reason: str = "", parts: Iterable[Part] = ()) -> None:
        """Queue `parts` (e.g. an error message), then close every socket with `code`."""
        message = Encoded(tuple(parts))
        for channel in list(self._channels):
            if message.parts:
                channel.push(message)
            channel.close(code, reason)
        if self.tap is not None:
            self.tap.closing(code, reason, message)


async def finish(channel: ClientChannel, writer: asyncio.Task[None]) -> None:
    """A socket's end: close its channel and give its writer a second to send what is queued
    (a close frame with its reason, last), then cancel it."""
    channel.close()
    try:
        await asyncio.wait_for(asyncio.shield(writer), 1.0)
    except (TimeoutError, asyncio.CancelledError, Exception):
        writer.cancel()


async def close_hubs(hubs: Callable[[], Iterable[SessionHub]], code: int, reason: str, seconds: float = 2.0) -> None:
    """Shutdown: close every socket of the hubs `hubs()` gives with `code` and wait up to `seconds`
    for them to go."""
    for hub in hubs():
        hub.close_all(code, reason)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(len(hub) for hub in hubs()):
        await asyncio.sleep(0.05)


class Outbox:
    """Calls from the training threads to the event loop (a session's broadcasts, a socket's
    greeting), made in order. One per event loop (`of`).

    Waking the loop costs a system call, and the woken loop then takes the GIL from whichever
    thread holds it, a training thread mid-frame as often as not: with 50 sessions at full speed
    that was a wake-up and a hand-over for nearly every one of 1,250 frames a second. So a put
    wakes the loop only when it is idle; while calls keep coming, the loop comes back for them
    every `POLL_SECONDS` on its own timer and runs all that arrived since in one go, and it goes
    idle again after a poll finds nothing. A call waits at most about that long: frames keep
    their rate and a reply to a control its order, a few milliseconds later at most."""

    POLL_SECONDS = 0.003

    _of_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Outbox] = weakref.WeakKeyDictionary()
    _made = threading.Lock()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._batch: list[tuple[Callable[..., None], tuple[Any, ...]]] = []
        self._polling = False  # the loop comes back for the batch on its own (under the lock)

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Outbox:
        with cls._made:
            outbox = cls._of_loop.get(loop)
            if outbox is None:
                outbox = cls._of_loop[loop] = cls(loop)
            return outbox

    def put(self, function: Callable[..., None], *args: Any) -> None:
        """`function(*args)` on the event loop, after everything put before it. From any thread;
        a loop that is gone (the server shutting down) drops it."""
        with self._lock:
            self._batch.append((function, args))
            if self._polling:
                return  # the loop is coming back for it
            self._polling = True
        try:
            self._loop.call_soon_threadsafe(self._run)
        except RuntimeError:  # the event loop is closed
            with self._lock:
                self._batch.clear()
                self._polling = False

    def _run(self) -> None:
        with self._lock:
            batch, self._batch = self._batch, []
            self._polling = bool(batch)  # calls came: more are likely, come back for them
        if not batch:
            return
        try:
            self._loop.call_later(self.POLL_SECONDS, self._run)
        except RuntimeError:  # the loop is closing: this batch still runs, later ones are dropped
            pass
        for function, args in batch:
            try:
                function(*args)
            except Exception:  # one failing callback must not lose the rest of the batch
                logger.exception("a call handed to the event loop failed")
