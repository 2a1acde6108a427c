"""The live learning-rate race over a real WebSocket: every copy streams its loss and a thumbnail,
a diverged copy ends with its step, the session itself is left alone, bad requests get an
`error`, and a race nobody can see any more stops."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from server_helpers import Inbox, strict_json
from websockets.asyncio.client import connect

from backprop_lab.server.analyses.live_race import RaceState

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def open_inbox(live, sid: str) -> Inbox:  # type: ignore[no-untyped-def]
    ws = await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24, close_timeout=1)
    inbox = Inbox(ws)
    await inbox.until("hello")
    return inbox


async def race_messages(inbox: Inbox, seconds: float = 30.0) -> list[tuple[dict, bytes | None]]:
    """Every `race` message with the binary that follows it, up to the race's last."""
    out: list[tuple[dict, bytes | None]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        raw = await asyncio.wait_for(inbox.ws.recv(), end - time.monotonic())
        if isinstance(raw, bytes):
            continue
        message = strict_json(raw)
        if message.get("type") == "error":
            raise AssertionError(message)
        if message.get("type") != "race":
            continue
        data = await asyncio.wait_for(inbox.ws.recv(), 5) if "thumbnails" in message else None
        assert data is None or isinstance(data, bytes), "a race's thumbnails index not followed by its bytes"
        out.append((message, data))
        if message["status"] in ("finished", "stopped"):
            return out
    raise AssertionError("the race did not end")


async def test_a_race_streams_every_copy_and_marks_the_diverged_one_at_its_step(live):
    sid = live.new_session(dataset="plane", hidden_layers=[6, 4], activation="relu")
    inbox = await open_inbox(live, sid)
    async with inbox.ws:
        await inbox.send({"type": "race_start", "learning_rates": [0.0001, 0.03, 50.0], "steps": 400,
                          "steps_per_second": 2000})
        messages = await race_messages(inbox)
    first, _ = messages[0]
    last, data = messages[-1]
    assert first["status"] == "started" and first["step"] == 0 and len(first["copies"]) == 3
    assert len({copy["loss"] for copy in first["copies"]}) == 1, "every copy starts from the same weights"
    assert last["status"] == "finished" and last["step"] == 400
    assert len(messages) >= 5, "the race streams while it runs"
    slow, good, huge = last["copies"]
    assert huge["diverged_at"] is not None and huge["step"] == huge["diverged_at"] - 1
    assert good["diverged_at"] is None and good["step"] == 400 and good["loss"] < slow["loss"]
    thumbnails = last["thumbnails"]
    g = thumbnails["resolution"]
    assert thumbnails["classify"] is False and data is not None and len(data) == last["bytes"] == 3 * g * g
    steps = [message["step"] for message, _ in messages]
    assert steps == sorted(steps)
    session = json.loads(await asyncio.to_thread(_get, live, sid))
    assert session["step"] == 0 and session["state"] == "idle", "the race trains copies, not the session"


def _get(live, sid: str) -> str:  # type: ignore[no-untyped-def]
    import httpx

    return httpx.get(f"{live.base}/api/v1/sessions/{sid}").text


async def test_a_classification_race_sends_two_thumbnail_blocks_per_copy_and_can_be_stopped(live):
    inbox = await open_inbox(live, live.new_session())
    async with inbox.ws:
        await inbox.send({"type": "race_start", "learning_rates": [0.01, 0.3], "steps": 100_000,
                          "steps_per_second": 100})
        await inbox.until("race", status="running")
        await inbox.send({"type": "race_stop"})
        messages = await race_messages(inbox)
    last, data = messages[-1]
    g = last["thumbnails"]["resolution"]
    assert last["status"] == "stopped" and last["step"] < 100_000
    assert data is not None and len(data) == 2 * 2 * g * g
    assert max(data[g * g: 2 * g * g]) <= 1, "the second block holds class indices"


@pytest.mark.parametrize("message", [
    {"type": "race_start", "learning_rates": []},
    {"type": "race_start", "learning_rates": [0.1] * 9},
    {"type": "race_start", "learning_rates": [0.1, -1]},
    {"type": "race_start", "learning_rates": [0.1], "steps": 0},
    {"type": "race_start", "learning_rates": [0.1], "steps_per_second": -1},
])
async def test_bad_race_requests_get_an_error_naming_the_field(live, message):
    inbox = await open_inbox(live, live.new_session())
    async with inbox.ws:
        await inbox.send({**message, "id": 7})
        reply = await inbox.until("error")
    assert reply["code"] == "bad_message" and reply["reply_to"] == 7
    assert reply["message"].startswith("race_start: " + ("steps" if "steps" in message else
                                                        "steps_per_second" if "steps_per_second" in message
                                                        else "learning_rates"))


async def test_a_race_stops_when_its_last_control_socket_closes(live):
    sid = live.new_session()
    inbox = await open_inbox(live, sid)
    async with inbox.ws:
        await inbox.send({"type": "race_start", "learning_rates": [0.01, 0.3], "steps": 100_000,
                          "steps_per_second": 0})
        await inbox.until("race", status="running")
        race = live.lab.manager.get(sid).race
        assert race is not None and race.running and _health(live)["races_running"] >= 1
    started = time.monotonic()
    while race.running:
        assert time.monotonic() - started < 2.0, "the race went on training for nobody"
        await asyncio.sleep(0.02)
    assert race.state is RaceState.STOPPED and race.race.step < 100_000
    assert _health(live)["races_running"] == 0


def _health(live) -> dict:  # type: ignore[no-untyped-def]
    import httpx

    return httpx.get(f"{live.base}/api/v1/health").json()
