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

import json
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from backprop_lab.server.routes import pages
from backprop_lab.server.runtime.preparation import Preparation, Stage
from backprop_lab.server.settings import Settings

HEALTH = "/api/v1/health"
ALWAYS_SERVED = ("/static/", "/vendor/", "/docs", "/openapi.json")
PAGE_METHODS = frozenset({"GET", "HEAD"})


def retry_headers(preparation: Preparation) -> list[tuple[bytes, bytes]]:
    if preparation.stage is Stage.FAILED:
        return []
    return [(b"retry-after", str(preparation.retry_after()).encode())]


async def send_json(send: Send, status: int, body: dict[str, Any], prefix: str,
                    headers: list[tuple[bytes, bytes]]) -> None:
    encoded = json.dumps(body).encode()
    await send({
        "type": f"{prefix}.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(encoded)).encode()),
                    (b"cache-control", b"no-store"), *headers],
    })
    await send({"type": f"{prefix}.body", "body": encoded})


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
        if scope["type"] == "websocket":
            await receive()  # the websocket.connect event
            if "websocket.http.response" in scope.get("extensions", {}):
                await send_json(send, 503, preparation.problem(), "websocket.http.response", retry_headers(preparation))
            else:  # a server without the denial-response extension: "try again later"
                await send({"type": "websocket.close", "code": 1013})
            return
        if path.startswith(ALWAYS_SERVED):
            await self.app(scope, receive, send)
            return
        if path.startswith("/api/") or scope["method"] not in PAGE_METHODS:
            body = preparation.problem()
            if path == HEALTH:
                body["status"] = preparation.stage.value
            await send_json(send, 503, body, "http.response", retry_headers(preparation))
            return
        page = pages.preparing_page(Request(scope, receive), self.settings, preparation)
        await page(scope, receive, send)
