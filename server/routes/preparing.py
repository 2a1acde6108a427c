"""What the server answers while the engine is being prepared (a cold start compiling its
kernels: `backprop_lab.server.runtime.preparation`), as one ASGI middleware.

- `/api/…`: 503 in the API's error shape, `code` `engine_preparing` with the progress in
  `params` and a `Retry-After` header, or `engine_failed` when the preparation failed (no
  `Retry-After`: waiting will not help). `/api/v1/health` adds `status` (`preparing`, `failed`),
  so a script polls it until it answers 200.
- a WebSocket handshake: refused before it is accepted, with the same 503.
- a page (`GET /`, `/watch/…`, `/teacher?key=…`, any other path): the preparing page
  (templates/preparing.html, js/preparing.js), which shows the progress and reloads itself into
  the page asked for once the engine is ready.
- the files that page and /docs need (`/static/…`, `/vendor/…`, `/docs`, `/openapi.json`):
  served as always; they need no engine.

Once the engine is ready every request passes straight through.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from backprop_lab.server.routes import pages
from backprop_lab.server.runtime.preparation import Preparation, Stage
from backprop_lab.server.settings import Settings
from backprop_lab.server.web.security import refuse_websocket, send_json

HEALTH = "/api/v1/health"
ALWAYS_SERVED = ("/static/", "/vendor/", "/docs", "/openapi.json")
PAGE_METHODS = frozenset({"GET", "HEAD"})


def answer_headers(preparation: Preparation) -> list[tuple[bytes, bytes]]:
    """Never cached; `Retry-After` unless the preparation failed (waiting will not help)."""
    headers = [(b"cache-control", b"no-store")]
    if preparation.stage is not Stage.FAILED:
        headers.append((b"retry-after", str(preparation.retry_after()).encode()))
    return headers


class PreparingGate:
    """ASGI middleware: the answers above until `preparation` is ready."""

    def __init__(self, app: ASGIApp, preparation: Preparation, settings: Settings) -> None:
        self.app = app
        self.preparation = preparation
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        preparation = self.preparation
        if preparation.ready or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["type"] == "websocket":  # a server without the denial response: 1013, "try again later"
            await refuse_websocket(scope, receive, send, 503, preparation.problem(), answer_headers(preparation), 1013)
            return
        if path.startswith(ALWAYS_SERVED):
            await self.app(scope, receive, send)
            return
        if path.startswith("/api/") or scope["method"] not in PAGE_METHODS:
            body = preparation.problem()
            if path == HEALTH:
                body["status"] = preparation.stage.value
            await send_json(send, 503, body, "http.response", answer_headers(preparation))
            return
        page = pages.preparing_page(Request(scope, receive), self.settings, preparation)
        await page(scope, receive, send)
