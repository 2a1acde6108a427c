"""Building frames: float64 when training stands still, float32 while it streams; the weights
in every frame, the gradients, updates and probe after each re-evaluation; a large network kept
within its byte budget; and one encoding handed to every client."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import orjson
import pytest

from backprop_lab.engine.config import Config
from backprop_lab.engine.trainer import Trainer
from backprop_lab.server.analyses import readouts
from backprop_lab.server.live.frames import FrameBuilder
from backprop_lab.server.live.recording import History
from backprop_lab.server.runtime.cadence import BYTES_BURST_SECONDS, Cadence
from backprop_lab.server.runtime.fanout import ClientChannel, Role, SessionHub
from backprop_lab.server.settings import Timing
from backprop_lab.server.wire.frame_codec import decode_frame


class FakeSocket:
    scope: dict = {"extensions": {}}  # a server that offers no framed write: sends part by part

    def __init__(self) -> None:
        self.sent: list[str | bytes] = []

    async def send_text(self, text: str) -> None:
        self.sent.append(text)

    async def send_bytes(self, data: bytes) -> None:
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        pass


def builder_for(trainer: Trainer, timing: Timing | None = None) -> FrameBuilder:
    frames = FrameBuilder(Cadence(), timing or Timing())
    frames.rebuilt(trainer)
    return frames


def build(frames: FrameBuilder, trainer: Trainer, refresh: bool, exact: bool) -> tuple[dict, str, tuple]:
    def probe():  # type: ignore[no-untyped-def]
        return readouts.sample_trace(trainer, "train", 0, ("index",))

    parts, kind = frames.frame(trainer, "running", History(), probe, refresh, not exact, exact)
    data = parts[1] if len(parts) == 2 else None
    return decode_frame(orjson.loads(parts[0]), data), kind, parts


def test_a_frame_that_stands_still_carries_every_block_as_float64():
    trainer = Trainer(Config())
    trainer.step(5)
    frame, kind, parts = build(builder_for(trainer), trainer, refresh=True, exact=True)
    assert kind == "frame" and frame["dtype"] == "float64" and isinstance(parts[0], str) and isinstance(parts[1], bytes)
    assert set(frame) >= {"params", "gradients", "updates", "probe", "metrics", "metrics_step", "steps_per_second"}
    assert np.array_equal(frame["params"][0]["weights"], trainer.network.layout.views(trainer.network.parameters)[0][0])


def test_while_playing_the_numbers_come_once_per_re_evaluation_and_the_weights_every_frame():
    trainer = Trainer(Config())
    frames = builder_for(trainer, Timing(frame_bytes_per_second=10**9))  # frames back to back here
    kinds = []
    for refresh in (True, False, False, True, False):
        trainer.step(3)
        frame, kind, _ = build(frames, trainer, refresh=refresh, exact=False)
        kinds.append(kind)
        assert frame["dtype"] == "float32" and "params" in frame
        assert ("probe" in frame) == ("gradients" in frame) == ("updates" in frame) == refresh
    assert kinds == ["frame", "frame_params", "frame_params", "frame", "frame_params"]


def test_a_large_network_sends_arrays_only_as_often_as_its_byte_budget_allows():
    trainer = Trainer(Config(hidden_layers=(16,) * 6))
    budget = 300_000
    frames = builder_for(trainer, Timing(frame_bytes_per_second=budget))
    with_arrays: list[int] = []  # bytes of each frame that carried arrays
    kinds = []
    started = time.perf_counter()
    while time.perf_counter() - started < 0.5:
        trainer.step(1)
        _, kind, parts = build(frames, trainer, refresh=len(kinds) % 3 == 0, exact=False)
        kinds.append(kind)
        if len(parts) == 2:
            with_arrays.append(len(parts[0]) + len(parts[1]))
        time.sleep(1 / 60)
    elapsed = time.perf_counter() - started
    # ~27 KB a frame with every block: about 11 a second carry arrays, the others go as JSON alone
    assert "frame_scalars" in kinds and kinds.count("frame") >= 3
    # a leaky bucket: the budget over the time, plus the burst it lets through, plus the last frame
    allowed = budget * (elapsed + BYTES_BURST_SECONDS) + max(with_arrays)
    assert sum(with_arrays) <= allowed, f"{sum(with_arrays)} bytes of arrays in {elapsed:.2f} s"


@pytest.mark.anyio
async def test_a_frame_and_its_binary_are_encoded_once_for_every_client():
    trainer = Trainer(Config())
    _, kind, parts = build(builder_for(trainer), trainer, refresh=True, exact=False)
    hub = SessionHub()
    sockets = [FakeSocket(), FakeSocket(), FakeSocket()]
    channels = [ClientChannel(s, Role.CONTROL, send_timeout=1) for s in sockets]  # type: ignore[arg-type]
    for channel in channels:
        hub.join(channel)
        hub.listen(channel)
    hub.broadcast(parts, kind)
    hub.close_all(1000)
    await asyncio.gather(*(channel.run() for channel in channels))
    for socket in sockets:
        assert len(socket.sent) == 2 and socket.sent[0] is parts[0] and socket.sent[1] is parts[1]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
