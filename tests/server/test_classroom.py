"""The classroom against a real uvicorn on 127.0.0.1: sharing a session by its code, 30 viewers
watching it live, read-only, the presenter seeing how many watch, and a viewer's fork that
trains on its own from the presenter's exact state."""

from __future__ import annotations

import asyncio
import logging
import socket

import httpx
import numpy as np
import pytest
from server_helpers import Inbox, of_type
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.live.share_codes import ALPHABET
from backprop_lab.server.runtime.fanout import ClientChannel, Role
from backprop_lab.server.settings import Limits
from backprop_lab.server.web.security import host_name

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def share(http: httpx.Client, sid: str) -> dict:
    response = http.post(f"/api/v1/sessions/{sid}/share")
    assert response.status_code == 200, response.text
    return response.json()


def weights(http: httpx.Client, sid: str) -> list[np.ndarray]:
    layers = http.get(f"/api/v1/sessions/{sid}/params").json()["layers"]
    return [np.array(layer[key]) for layer in layers for key in ("weights", "biases")]


async def watch(live, code: str) -> tuple[Inbox, dict]:  # type: ignore[no-untyped-def]
    ws = await connect(f"{live.ws}/ws/watch/{code}", origin=live.base, max_size=2**24, close_timeout=1)
    inbox = Inbox(ws)
    return inbox, await inbox.until("hello")


def test_sharing_gives_one_short_code_per_session_and_the_viewer_page_address(live, http):
    sid = live.new_session()
    first = share(http, sid)
    assert len(first["code"]) == 6 and set(first["code"]) <= set(ALPHABET)
    assert first["spoken"] == f"{first['code'][:3]} {first['code'][3:]}"
    assert first["url"] == f"{live.base}/watch/{first['code']}" and first["viewers"] == 0
    assert first["local_only"] is True  # on 127.0.0.1 the address works on this computer only
    assert share(http, sid)["code"] == first["code"], "sharing again changed the code"
    info = http.get(f"/api/v1/shares/{first['spoken'].lower()}")
    assert info.status_code == 200 and info.json() == first
    assert http.get("/api/v1/shares/XXXXXX").status_code == 404
    assert share(http, live.new_session())["code"] != first["code"]
    assert http.post("/api/v1/sessions/no-such-session/share").status_code == 404


def test_the_viewer_page_is_served_for_a_known_code_and_an_unknown_one_gets_the_join_form(live, http):
    code = share(http, live.new_session())["code"]
    page = http.get(f"/watch/{code.lower()}")
    assert page.status_code == 200 and 'data-role="viewer"' in page.text and f'data-share-code="{code}"' in page.text
    missing = http.get("/watch/XXXXXX")
    assert missing.status_code == 404 and 'id="join-form"' in missing.text
    hostile = http.get('/watch/"><img src=x onerror=alert(1)>')
    assert hostile.status_code == 404 and "<img" not in hostile.text, "a typed code came back as markup"
    assert http.get("/watch").status_code == 200


def test_the_join_form_works_without_its_script(live, http):
    """A student who presses Enter before js/join.js has run sends the form's plain GET."""
    code = share(http, live.new_session())["code"]
    typed = http.get("/watch", params={"code": f" {code[:3].lower()}-{code[3:]} "}, follow_redirects=False)
    assert typed.status_code == 303 and typed.headers["location"] == f"/watch/{code}"
    wrong = http.get("/watch", params={"code": "nope"})
    assert wrong.status_code == 422 and 'aria-invalid="true"' in wrong.text and "six letters" in wrong.text
    hostile = http.get("/watch", params={"code": "<img src=x>"})
    assert hostile.status_code == 422 and "<img" not in hostile.text


async def test_an_unknown_share_code_is_refused_before_accept(live, http):
    for code in ("XXXXXX", "not-a-code", "%3Cscript%3E"):
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{live.ws}/ws/watch/{code}", origin=live.base)
        assert refused.value.response.status_code == 404
    sid = live.new_session()
    code = share(http, sid)["code"]
    assert http.delete(f"/api/v1/sessions/{sid}").status_code == 204
    with pytest.raises(InvalidStatus) as gone:
        await connect(f"{live.ws}/ws/watch/{code}", origin=live.base)
    assert gone.value.response.status_code == 404, "the code outlived its session"


async def test_thirty_viewers_get_the_presenter_s_frames_and_the_presenter_sees_them_count(live, http):
    sid = live.new_session(dataset="spiral", hidden_layers=[6, 6])
    code = share(http, sid)["code"]
    presenter = Inbox(await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24))
    async with presenter.ws:
        await presenter.until("hello")
        viewers = [await watch(live, code) for _ in range(30)]
        for _, hello in viewers:
            assert hello["role"] == "viewer" and hello["session_id"] is None, "a viewer learnt the session id"
            assert hello["snapshot"]["config"]["dataset"] == "spiral"
        await presenter.until("audience", viewers=30)
        assert share(http, sid)["viewers"] == 30
        await presenter.send({"type": "play"})

        async def frames_of(inbox: Inbox) -> list[int]:
            got = await inbox.collect(1.5)
            return [message["step"] for message in of_type(got, "frame")]

        steps = await asyncio.gather(*(frames_of(inbox) for inbox, _ in viewers), presenter.collect(1.5))
        for seen in steps[:-1]:
            assert len(seen) >= 20, f"a viewer got {len(seen)} frames in 1.5 s of play"
            assert seen == sorted(seen) and seen[-1] > seen[0]
        await presenter.send({"type": "pause"})
        await asyncio.gather(*(inbox.ws.close() for inbox, _ in viewers[:10]))  # at once: each may wait 1 s
        await presenter.until("audience", viewers=20)
        await asyncio.gather(*(inbox.ws.close() for inbox, _ in viewers[10:]))


async def test_a_viewer_s_play_step_reset_and_config_are_refused(live, http):
    sid = live.new_session()
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 5})
    before = weights(http, sid)
    viewer, _ = await watch(live, share(http, sid)["code"])
    async with viewer.ws:
        for number, message in enumerate([
            {"type": "play"}, {"type": "step", "steps": 50}, {"type": "reset"},
            {"type": "config", "changes": {"learning_rate": 0.5}},
            {"type": "set_parameter", "layer": 0, "kind": "weight", "i": 0, "j": 0, "value": 3.0},
        ]):
            await viewer.send({**message, "id": number})
            refusal = await viewer.until("error", reply_to=number)
            assert refusal["code"] == "read_only"
    session = http.get(f"/api/v1/sessions/{sid}").json()
    assert session["step"] == 5 and session["state"] == "paused" and session["config"]["learning_rate"] == 0.03
    assert all(np.array_equal(a, b) for a, b in zip(before, weights(http, sid), strict=True))


async def test_a_fork_starts_from_the_presenter_s_exact_state_and_trains_on_its_own(live, http):
    sid = live.new_session(dataset="xor", hidden_layers=[5, 3], optimizer="adam", learning_rate=0.01, batch_size=7)
    http.post(f"/api/v1/sessions/{sid}/step", json={"steps": 37})  # mid-epoch, with Adam's memory
    code = share(http, sid)["code"]
    forked = http.post(f"/api/v1/shares/{code.lower()}/fork")
    assert forked.status_code == 201, forked.text
    fork = forked.json()
    assert fork["id"] != sid and fork["step"] == 37 and fork["state"] == "paused"
    assert fork["config"] == http.get(f"/api/v1/sessions/{sid}").json()["config"]
    assert all(np.array_equal(a, b) for a, b in zip(weights(http, sid), weights(http, fork["id"]), strict=True))
    # both trained 40 more steps land on the same weights: optimiser state and data order came along
    for target in (sid, fork["id"]):
        assert http.post(f"/api/v1/sessions/{target}/step", json={"steps": 40}).status_code == 200
    assert all(np.array_equal(a, b) for a, b in zip(weights(http, sid), weights(http, fork["id"]), strict=True))
    # and from here they are independent
    http.patch(f"/api/v1/sessions/{fork['id']}/config", json={"learning_rate": 0.3})
    http.post(f"/api/v1/sessions/{fork['id']}/step", json={"steps": 10})
    assert http.get(f"/api/v1/sessions/{sid}").json()["step"] == 77
    assert not np.array_equal(weights(http, sid)[0], weights(http, fork["id"])[0])
    assert http.post("/api/v1/shares/XXXXXX/fork").status_code == 404


async def test_a_viewer_of_a_fork_s_presenter_does_not_watch_the_fork(live, http):
    sid = live.new_session()
    code = share(http, sid)["code"]
    fork_id = http.post(f"/api/v1/shares/{code}/fork").json()["id"]
    viewer, _ = await watch(live, code)
    async with viewer.ws:
        http.post(f"/api/v1/sessions/{fork_id}/step", json={"steps": 3})
        got = await viewer.collect(0.5)
        assert not of_type(got, "frame"), "the fork's frames reached the presenter's viewers"


async def test_in_classroom_mode_a_student_s_browser_at_this_machine_s_address_is_admitted(live_factory, caplog):
    caplog.set_level(logging.INFO, logger="backprop_lab.server.live.manager")
    classroom = live_factory(host="0.0.0.0")  # the classroom allow-lists, listening on loopback only
    lan = host_name(classroom.settings.public_url().split("//")[1].rstrip("/"))
    if lan == "127.0.0.1":
        pytest.skip("this machine has no network address other than loopback")
    port = classroom.settings.port
    student = {"host": f"{lan}:{port}", "origin": f"http://{lan}:{port}"}
    with httpx.Client(base_url=classroom.base, timeout=30) as http:
        sid = http.post("/api/v1/sessions", json={}).json()["id"]
        shared = http.post(f"/api/v1/sessions/{sid}/share", headers=student)
        assert shared.status_code == 200 and shared.json()["url"].startswith(f"http://{lan}:{port}/watch/")
        assert shared.json()["local_only"] is False  # the LAN address: students' machines reach it
        code = shared.json()["code"]
        assert f"students open {shared.json()['url']}" in caplog.text, "the console did not print the code's page"
        page = http.get(f"/watch/{code}", headers={"host": student["host"]})
        assert page.status_code == 200 and 'data-role="viewer"' in page.text
        assert http.post(f"/api/v1/shares/{code}/fork", headers=student).status_code == 201
        foreign = http.post(f"/api/v1/shares/{code}/fork", headers={**student, "origin": "http://evil.example"})
        assert foreign.status_code == 403
    # the student's browser names this machine's address; the bytes still go to 127.0.0.1 only
    with socket.create_connection(("127.0.0.1", port)) as loopback:
        ws = await connect(f"ws://{lan}:{port}/ws/watch/{code}", sock=loopback, origin=student["origin"])
        async with ws:
            hello = await Inbox(ws).until("hello")
            assert hello["role"] == "viewer"


async def test_viewers_get_the_very_objects_the_presenter_gets_so_an_audience_costs_no_encoding(
    live, http, monkeypatch
):
    pushed: list[tuple[Role, str, tuple]] = []
    original = ClientChannel.push

    def recording(channel: ClientChannel, parts: tuple, kind: str = "control") -> None:
        pushed.append((channel.role, kind, parts))  # the live server runs in this process
        original(channel, parts, kind)

    monkeypatch.setattr(ClientChannel, "push", recording)
    sid = live.new_session()
    code = share(http, sid)["code"]
    presenter = Inbox(await connect(f"{live.ws}/ws/sessions/{sid}", origin=live.base, max_size=2**24))
    async with presenter.ws:
        await presenter.until("hello")
        viewers = [await watch(live, code) for _ in range(3)]
        await presenter.send({"type": "play"})
        await asyncio.gather(*(inbox.collect(0.6) for inbox, _ in viewers), presenter.collect(0.6))
        await presenter.send({"type": "pause"})
        for inbox, _ in viewers:
            await inbox.ws.close()
    # (each socket's greeting — hello and the heatmaps of that moment — is its own, once)
    frames = [(role, parts) for role, kind, parts in pushed if kind.startswith("frame")]
    to_presenter = {id(parts) for role, parts in frames if role is Role.CONTROL}
    to_viewers = [parts for role, parts in frames if role is Role.VIEWER]
    assert len(to_viewers) > 30, "the viewers got too few frames to tell"
    assert all(id(parts) in to_presenter for parts in to_viewers), "a viewer's frame was encoded again"


async def test_viewers_have_a_cap_of_their_own_and_do_not_take_the_presenter_s_sockets(live_factory):
    small = live_factory(limits=Limits(max_sockets_per_session=1, max_viewers_per_session=2))
    sid = small.new_session()
    code = httpx.post(f"{small.base}/api/v1/sessions/{sid}/share").json()["code"]
    first, _ = await watch(small, code)
    second, _ = await watch(small, code)
    async with first.ws, second.ws:
        with pytest.raises(InvalidStatus) as refused:
            await connect(f"{small.ws}/ws/watch/{code}", origin=small.base)
        assert refused.value.response.status_code == 429
        presenter = await connect(f"{small.ws}/ws/sessions/{sid}", origin=small.base)
        async with presenter:  # the one control socket still fits beside two viewers
            assert (await Inbox(presenter).until("hello"))["role"] == "control"
