"""Who may talk to the lab: Host and Origin allow-lists (DNS rebinding, cross-site pages)."""

from __future__ import annotations

import httpx
import pytest

from backprop_lab.server.settings import Settings
from backprop_lab.server.web.security import host_name, normalise_origin


def test_host_names_drop_the_port_and_brackets():
    assert host_name("127.0.0.1:8000") == "127.0.0.1"
    assert host_name("LOCALHOST") == "localhost"
    assert host_name("[::1]:8000") == "::1"
    assert host_name("127.0.0.1.evil.example:8000") == "127.0.0.1.evil.example"


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("HTTP://LocalHost:8000/", "http://localhost:8000"),
        ("null", None),
        ("file://", None),
        ("http://127.0.0.1:8000/path", None),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("http://127.0.0.1:99999", None),
    ],
)
def test_origins_are_normalised_or_refused(origin, normal):
    assert normalise_origin(origin) == normal


def test_the_default_allow_lists_are_loopback_on_this_port():
    settings = Settings(port=8123)
    assert settings.allowed_hosts() == {"127.0.0.1", "localhost", "::1"}
    origins = settings.allowed_origins()
    assert "http://127.0.0.1:8123" in origins and "http://localhost:8123" in origins
    assert "http://127.0.0.1:8124" not in origins and "http://evil.example:8123" not in origins


def test_classroom_mode_adds_this_machines_address_to_both_lists():
    settings = Settings(host="0.0.0.0", port=8123)
    url = settings.public_url()
    address = host_name(url.split("//")[1].rstrip("/"))
    assert address in settings.allowed_hosts()
    assert f"http://{address}:8123" in settings.allowed_origins()


def test_a_foreign_host_header_is_refused(live):
    response = httpx.get(f"{live.base}/api/v1/health", headers={"host": "evil.example"})
    assert response.status_code == 400
    response = httpx.get(f"{live.base}/api/v1/health", headers={"host": f"localhost:{live.settings.port}"})
    assert response.status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example"])
def test_a_state_change_from_a_foreign_page_is_refused(live, origin):
    response = httpx.post(f"{live.base}/api/v1/sessions", json={}, headers={"origin": origin})
    assert response.status_code == 403


def test_the_labs_own_page_and_scripts_without_origin_are_welcome(live):
    own = httpx.post(f"{live.base}/api/v1/sessions", json={}, headers={"origin": live.base})
    assert own.status_code == 201
    assert httpx.post(f"{live.base}/api/v1/sessions", json={}).status_code == 201
    # Reading is harmless without CORS headers: the browser keeps the answer from the page.
    assert httpx.get(f"{live.base}/api/v1/health", headers={"origin": "http://evil.example"}).status_code == 200
