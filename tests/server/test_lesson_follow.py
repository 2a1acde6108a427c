"""A viewer follows the presenter's lesson step (docs/protocol.md, `lesson`): the presenter's page
says which step it shows, every client of the session hears it, a viewer who comes later is told
after its hello, and a step that does not exist or a viewer trying to set one is refused."""

from __future__ import annotations

import pytest
from server_helpers import Inbox
from websockets.asyncio.client import connect

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_presenter_s_lesson_step_reaches_every_viewer_now_and_later(live, http):
    sid = live.new_session()
    code = http.post(f"/api/v1/sessions/{sid}/share").json()["code"]
    presenter = Inbox(await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24))
    early = Inbox(await connect(f"{live.ws}/ws/watch/{code}", origin=live.base, max_size=2**24))
    async with presenter.ws, early.ws:
        await presenter.until("hello")
        await early.until("hello")
        step = {"id": "activations", "step": 2, "done": False}
        await presenter.send({"type": "lesson", "lesson": step})
        assert (await early.until("lesson"))["lesson"] == step
        assert (await presenter.until("lesson"))["lesson"] == step  # the presenter's pages hear it too

        late = Inbox(await connect(f"{live.ws}/ws/watch/{code}", origin=live.base, max_size=2**24))
        async with late.ws:
            await late.until("hello")
            assert (await late.until("lesson"))["lesson"] == step  # told after its hello
            await presenter.send({"type": "lesson", "lesson": {"id": "activations", "step": 2, "done": True}})
            assert (await late.until("lesson"))["lesson"]["done"] is True
            await presenter.send({"type": "lesson", "lesson": None})  # the presenter left the lesson
            assert (await late.until("lesson"))["lesson"] is None

            await late.send({"type": "lesson", "lesson": step, "id": 7})  # a viewer only watches
            refused = await late.until("error")
            assert refused["code"] == "read_only" and refused["reply_to"] == 7


@pytest.mark.parametrize(
    ("lesson", "field", "reason"),
    [
        ({"id": "no_such_lesson", "step": 1}, "lesson.id", "unknown_lesson"),
        ({"id": "activations", "step": 99}, "lesson.step", "unknown_step"),
        ({"id": "activations", "step": 0}, "lesson.step", "greater_than_equal"),
        ({"id": "../etc", "step": 1}, "lesson.id", "string_pattern_mismatch"),
    ],
)
async def test_a_lesson_step_that_does_not_exist_is_refused_naming_the_field(live, lesson, field, reason):
    sid = live.new_session()
    presenter = Inbox(await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24))
    async with presenter.ws:
        await presenter.until("hello")
        await presenter.send({"type": "lesson", "lesson": lesson, "id": 1})
        refused = await presenter.until("error")
        assert refused["field"] == field and refused["reason"] == reason, refused
        assert refused["code"] in ("invalid", "bad_message")
