"""Every answer of the lab carries the headers a browser enforces (backprop_lab.server.web.headers): pages, static
and vendored files, the API explorer and its schema, JSON answers of every status the API gives,
the plain refusals of the Host/Origin guard and the body cap, and a WebSocket's denied handshake.

The expected values are written out here, not read from backprop_lab.server.web.headers: this is the policy a
reviewer signs off, and a change to it should show up as a change to this file too."""

from __future__ import annotations

import re

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

EXPECTED = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "style-src-attr 'unsafe-hashes' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "permissions-policy": "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), "
    "geolocation=(), gyroscope=(), hid=(), idle-detection=(), magnetometer=(), microphone=(), midi=(), "
    "payment=(), publickey-credentials-get=(), screen-wake-lock=(), serial=(), usb=(), xr-spatial-tracking=()",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}


def assert_headed(headers: httpx.Headers, what: str) -> None:
    """Each header once, with exactly its value."""
    for name, value in EXPECTED.items():
        assert headers.get_list(name) == [value], f"{what}: {name} is {headers.get_list(name)}"


@pytest.fixture(scope="module")
def boom(live):  # type: ignore[no-untyped-def]
    """A route that fails as a bug would, for the last-resort 500."""

    async def fail() -> None:
        raise RuntimeError("a bug, on purpose")

    live.app.add_api_route("/test-only/boom", fail)
    return "/test-only/boom"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/watch", 200),
        ("/watch/XXXXXX", 404),
        ("/static/js/main.js", 200),
        ("/static/css/app.css", 200),
        ("/static/no-such-file.js", 404),
        ("/vendor/plotly.min.js", 200),
        ("/docs", 200),
        ("/static/js/apidocs.js", 200),
        ("/vendor/swagger-ui/swagger-ui.css", 200),
        ("/openapi.json", 200),
        ("/api/v1/health", 200),
        ("/api/v1/options", 200),
        ("/api/v1/sessions/no-such-session", 404),
        ("/no/such/path", 404),
    ],
)
def test_pages_files_and_answers_carry_every_header(http, path, status):
    response = http.get(path)
    assert response.status_code == status, response.text[:200]
    assert_headed(response.headers, path)


def test_refusals_of_every_kind_carry_every_header(live, boom):
    def ask(method: str, path: str, **request: object) -> httpx.Response:
        # a connection each: after a 500 or an unread body the server closes the one it answered on
        return httpx.request(method, f"{live.base}{path}", timeout=60, **request)  # type: ignore[arg-type]

    cap = live.settings.limits.max_body_bytes
    streamed = iter([b" " * 2**20] * (cap // 2**20 + 1))  # no Content-Length: counted as it comes
    answers = [
        (405, "a method the path has not", ask("DELETE", "/api/v1/health")),
        (422, "invalid input", ask("POST", "/api/v1/sessions", json={"learning_rate": "fast"})),
        (429, "a cap", ask("POST", "/api/v1/sessions", json={"hidden_layers": [1] * 17})),
        (500, "a bug", ask("GET", boom)),
        (413, "a body announced too large", ask("POST", "/api/v1/sessions", content=b" " * (cap + 1))),
        (413, "a body streamed too large", ask("POST", "/api/v1/sessions", content=streamed)),
        (400, "a foreign Host", ask("GET", "/api/v1/health", headers={"host": "evil.example"})),
        (403, "a foreign Origin", ask("POST", "/api/v1/sessions", json={}, headers={"origin": "http://evil.example"})),
    ]
    for status, what, response in answers:
        assert response.status_code == status, f"{what}: {response.text[:200]}"
        assert_headed(response.headers, what)


def test_the_api_explorer_runs_no_inline_script_or_style(http):
    page = http.get("/docs")
    policy = page.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    scripts = re.findall(r"<script\b[^>]*>", page.text)
    assert scripts and all(" src=" in tag for tag in scripts), scripts
    assert "<style" not in page.text and " style=" not in page.text
    start = http.get(re.search(r'src="(/static/js/apidocs\.js[^"]*)"', page.text)[1])  # type: ignore[index]
    assert start.status_code == 200 and start.headers["content-type"].startswith("text/javascript")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "foreign", "status"),
    [
        ("/ws/sessions/no-such-session", False, 404),
        ("/ws/watch/XXXXXX", False, 404),
        ("/ws/sessions/no-such-session", True, 403),
    ],
)
async def test_a_denied_websocket_handshake_carries_every_header(live, path, foreign, status):
    origin = "http://evil.example" if foreign else live.base
    with pytest.raises(InvalidStatus) as denied:
        await connect(f"{live.ws}{path}", origin=origin)  # type: ignore[arg-type]
    response = denied.value.response
    assert response.status_code == status
    assert_headed(httpx.Headers(list(response.headers.raw_items())), f"{path} from {origin}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
