"""Identities (backprop_lab.server.classroom.identity): the teacher link, students' cookies and bearer tokens, and the
one local user outside classroom mode — against a real server in classroom mode on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import TEACHER_KEY
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from backprop_lab.server.classroom.identity import COOKIE, STUDENT_TOKEN, check_teacher_key, student_id

KEY = TEACHER_KEY


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_the_teacher_link_stores_the_key_in_a_strict_cookie_and_leaves_the_address_bar(classroom):
    with httpx.Client(base_url=classroom.base) as browser:
        answer = browser.get("/teacher", params={"key": KEY})
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert f"{COOKIE}={KEY}" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert browser.get("/api/v1/identity").json() == {"classroom": True, "role": "teacher", "id": "teacher"}


def test_a_wrong_teacher_link_is_refused_in_both_languages(classroom):
    answer = httpx.get(f"{classroom.base}/teacher", params={"key": KEY + "x"})
    assert answer.status_code == 403
    assert "not valid" in answer.text and "tidak berlaku" in answer.text
    assert f"{COOKIE}={KEY}" not in answer.headers.get("set-cookie", "")


def test_a_student_gets_an_anonymous_identity_once_and_keeps_it(classroom):
    with httpx.Client(base_url=classroom.base) as browser:
        first = browser.get("/api/v1/identity")
        token = first.cookies[COOKIE]
        assert STUDENT_TOKEN.fullmatch(token)
        assert first.json() == {"classroom": True, "role": "student", "id": student_id(token)}
        again = browser.get("/api/v1/identity")
        assert again.json()["id"] == student_id(token) and "set-cookie" not in again.headers
    # a script may send the same token as a bearer token instead of the cookie
    bearer = httpx.get(f"{classroom.base}/api/v1/identity", headers={"Authorization": f"Bearer {token}"})
    assert bearer.json()["id"] == student_id(token) and "set-cookie" not in bearer.headers
    # the id shown is a hash: it does not work as a token
    assert token not in bearer.text


def test_scripts_are_the_teacher_with_the_key_as_bearer_token_and_refused_with_a_wrong_one(classroom):
    teacher = httpx.get(f"{classroom.base}/api/v1/identity", headers={"Authorization": f"Bearer {KEY}"})
    assert teacher.json()["role"] == "teacher"
    wrong = httpx.post(f"{classroom.base}/api/v1/sessions", headers={"Authorization": "Bearer guessed-key-123"})
    assert wrong.status_code == 401 and "teacher key" in wrong.json()["detail"]


@pytest.mark.anyio
async def test_a_websocket_with_a_wrong_bearer_token_is_refused_before_accept(classroom):
    sid = httpx.post(f"{classroom.base}/api/v1/sessions", json={}, headers={"Authorization": f"Bearer {KEY}"}).json()
    with pytest.raises(InvalidStatus) as refused:
        await connect(f"{classroom.ws}/ws/sessions/{sid['id']}", additional_headers={"Authorization": "Bearer nope"})
    assert refused.value.response.status_code == 401


def test_outside_classroom_mode_the_local_user_is_the_teacher_without_a_prompt(live):
    answer = httpx.get(f"{live.base}/api/v1/identity")
    assert answer.json() == {"classroom": False, "role": "teacher", "id": "teacher"}
    assert "set-cookie" not in answer.headers
    assert httpx.get(f"{live.base}/teacher").status_code == 303  # nothing to unlock: on to the page


@pytest.mark.parametrize("key", ["short", "has a space in it", "s.AAAAAAAAAAAAAAAAAAAAAA"])
def test_a_teacher_key_must_be_a_secret_of_its_own_shape(key):
    with pytest.raises(ValueError):
        check_teacher_key(key)
