"""Per-client queues: latest-wins frames, control messages never dropped, stuck clients cut; the
outbox that carries the training threads' messages to the event loop, in order."""

from __future__ import annotations

import asyncio
import threading

import pytest
from server_helpers import framed_messages

from backprop_lab.server.runtime.fanout import ChannelState, ClientChannel, Outbox, Role, SessionHub
from backprop_lab.server.web.wire_socket import WIRE_EXTENSION

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeSocket:
    scope: dict = {"extensions": {}}  # a server that offers no framed write: sends part by part

    def __init__(self, blocked: bool = False) -> None:
        self.sent: list[str | bytes] = []
        self.closed_with: int | None = None
        self.blocked = blocked

    async def send_text(self, text: str) -> None:
        if self.blocked:
            await asyncio.sleep(3600)
        self.sent.append(text)

    async def send_bytes(self, data: bytes) -> None:
        await self.send_text(data)  # type: ignore[arg-type]

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code


async def test_frames_are_latest_wins_and_control_messages_keep_their_order():
    socket = FakeSocket()
    channel = ClientChannel(socket, Role.CONTROL, send_timeout=1)  # type: ignore[arg-type]
    channel.push(("config-1",))
    channel.push(("frame-1",), "frame")
    channel.push(("heat-1", b"\x01"), "heatmaps")
    channel.push(("frame-2",), "frame")
    channel.push(("state",))
    channel.push(("heat-2", b"\x02"), "heatmaps")
    assert channel.pending == 4
    channel.close(1001)
    await asyncio.wait_for(channel.run(), 1)
    assert socket.sent == ["config-1", "frame-2", "state", "heat-2", b"\x02"] and socket.closed_with == 1001


async def test_a_frame_replaces_only_pending_frames_that_carry_no_block_it_lacks():
    socket = FakeSocket()
    channel = ClientChannel(socket, Role.CONTROL, send_timeout=1)  # type: ignore[arg-type]
    channel.push(("full-1", b"1"), "frame")
    channel.push(("weights-2", b"2"), "frame_params")
    channel.push(("json-3",), "frame_scalars")
    channel.push(("weights-4", b"4"), "frame_params")  # replaces 2 and 3, not the numbers of 1
    assert channel.pending == 2
    channel.push(("json-5",), "frame_scalars")
    channel.push(("full-6", b"6"), "frame")  # carries every block: replaces every pending frame
    channel.push(("json-7",), "frame_scalars")
    channel.close(1000)
    await asyncio.wait_for(channel.run(), 1)
    assert socket.sent == ["full-6", b"6", "json-7"]


class FramedSocket(FakeSocket):
    """A socket whose server offers the framed write (`WireProtocol`)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.scope = {"extensions": {WIRE_EXTENSION: {"write": self.write}}}

    async def write(self, data: bytes) -> None:
        self.writes.append(data)


async def test_where_the_server_offers_it_everything_pending_goes_in_one_write_as_the_same_messages():
    socket = FramedSocket()
    channel = ClientChannel(socket, Role.CONTROL, send_timeout=1)  # type: ignore[arg-type]
    channel.push(('{"type": "config"}',))
    channel.push(('{"type": "frame", "step": 1}', b"\x00\x01" * 100), "frame")
    channel.push(('{"type": "state", "é": 1}',))
    channel.close(1000)
    await asyncio.wait_for(channel.run(), 1)
    assert len(socket.writes) == 1 and socket.sent == []
    assert framed_messages(socket.writes[0]) == [
        '{"type": "config"}', '{"type": "frame", "step": 1}', b"\x00\x01" * 100, '{"type": "state", "é": 1}'
    ]
    assert socket.closed_with == 1000


async def test_a_client_whose_send_hangs_is_cut_by_the_watchdog():
    socket = FakeSocket(blocked=True)
    channel = ClientChannel(socket, Role.CONTROL, send_timeout=0.05)  # type: ignore[arg-type]
    writer = asyncio.create_task(channel.run())
    channel.push(("frame",), "frame")
    await asyncio.sleep(0.1)
    channel.check(asyncio.get_running_loop().time() + 10**6)  # any time far past the timeout
    await asyncio.wait_for(asyncio.gather(writer, return_exceptions=True), 1)
    assert channel.state is ChannelState.CLOSED and "waited longer" in channel.close_reason


async def test_too_many_unsent_control_messages_mean_a_stuck_client():
    channel = ClientChannel(FakeSocket(), Role.CONTROL, send_timeout=1, max_pending_control=3)  # type: ignore[arg-type]
    for index in range(4):
        channel.push((f"m{index}",))
    assert channel.state is ChannelState.CLOSED and channel.pending == 0


async def test_a_hub_hands_every_client_the_same_object():
    hub = SessionHub()
    sockets = [FakeSocket(), FakeSocket()]
    channels = [ClientChannel(s, Role.CONTROL, send_timeout=1) for s in sockets]  # type: ignore[arg-type]
    for channel in channels:
        hub.join(channel)
        hub.listen(channel)
    text = "".join(["{", '"type":"frame"', "}"])
    hub.broadcast((text,), "frame")
    hub.close_all(1000)
    await asyncio.gather(*(channel.run() for channel in channels))
    assert sockets[0].sent[0] is sockets[1].sent[0] is text


async def test_a_member_hears_broadcasts_once_greeted_and_one_gone_before_its_greeting_never_does():
    hub = SessionHub()
    early, late = FakeSocket(), FakeSocket()
    greeted = ClientChannel(early, Role.CONTROL, send_timeout=1)  # type: ignore[arg-type]
    dropped = ClientChannel(late, Role.VIEWER, send_timeout=1)  # type: ignore[arg-type]
    hub.join(greeted)
    hub.join(dropped)
    assert (hub.control_count, hub.viewer_count) == (1, 1), "counted from the start of its connection"
    hub.broadcast(("before the hello",), "frame")
    assert hub.listen(greeted)
    hub.broadcast(("after the hello",), "frame")
    dropped.close()  # its client left before its greeting came: the socket's end...
    hub.discard(dropped)
    assert not hub.listen(dropped) and len(hub) == 1  # ...and its greeting, late, changes nothing
    hub.broadcast(("later",))
    hub.close_all(1000)
    await asyncio.wait_for(asyncio.gather(greeted.run(), dropped.run()), 1)
    assert early.sent == ["after the hello", "later"] and late.sent == []


async def test_calls_from_threads_reach_the_loop_in_order_with_one_wake_up_a_batch(monkeypatch):
    loop = asyncio.get_running_loop()
    outbox = Outbox.of(loop)
    assert Outbox.of(loop) is outbox  # one per loop
    wake_ups = 0
    real = loop.call_soon_threadsafe

    def counted(*args):  # type: ignore[no-untyped-def]
        nonlocal wake_ups
        wake_ups += 1
        return real(*args)

    monkeypatch.setattr(loop, "call_soon_threadsafe", counted)
    seen: list[tuple[str, int]] = []

    def producer(name: str) -> None:
        for index in range(500):
            outbox.put(seen.append, (name, index))

    threads = [threading.Thread(target=producer, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outbox.put(seen.append, ("c", 0))  # from the loop's own thread too
    for _ in range(100):
        if len(seen) == 1001:
            break
        await asyncio.sleep(0.01)
    for name in "ab":  # each thread's calls in the order it made them
        assert [index for who, index in seen if who == name] == list(range(500))
    assert seen[-1] == ("c", 0) and wake_ups < 1001  # the loop was not woken once a call


async def test_a_failing_call_does_not_lose_the_rest_of_its_batch():
    outbox = Outbox.of(asyncio.get_running_loop())
    seen: list[int] = []

    def fail(_: int) -> None:
        raise RuntimeError("a bug in one callback")

    for index in range(3):
        outbox.put(fail if index == 1 else seen.append, index)
    await asyncio.sleep(0.05)
    assert seen == [0, 2]
