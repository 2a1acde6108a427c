"""Who may talk to the lab: a Host allow-list for every request and an Origin allow-list for
WebSockets and state-changing requests, as one ASGI middleware.

Why both. The server listens on 127.0.0.1, but any web page the user visits can make the
browser open a WebSocket to 127.0.0.1: the `Origin` header tells us which page asked, and only
the lab's own page (this host and port) may. A page that re-points its own DNS name at
127.0.0.1 (DNS rebinding) passes an Origin check against its own name, so the `Host` header
must name us too. Requests without an `Origin` (scripts, curl, the acceptance checks) are
allowed: browsers always send one on WebSockets and on cross-site POSTs.

Refusals happen before anything else runs: HTTP gets 400 (bad Host) or 403 (foreign Origin);
a WebSocket handshake gets 403 and is never accepted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def host_name(host_header: str) -> str:
    """'127.0.0.1:8000' → '127.0.0.1', '[::1]:8000' → '::1', lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:].split("]", 1)[0]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def normalise_origin(origin: str) -> str | None:
    """'http://Host:8000' → 'http://host:8000'; None for anything that is not scheme://host[:port]
    (including the literal 'null' of sandboxed frames and file:// pages)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class AccessGuard:
    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str], allowed_origins: frozenset[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.allowed_origins = allowed_origins

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        host = headers.get("host", "")
        if host_name(host) not in self.allowed_hosts:
            return 400, f"Host {host!r} is not one of this server's names"
        origin = headers.get("origin")
        needs_origin_check = scope["type"] == "websocket" or scope.get("method", "GET") not in SAFE_METHODS
        if origin is not None and needs_origin_check and normalise_origin(origin) not in self.allowed_origins:
            return 403, f"Origin {origin!r} may not use this server"
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is None:
            await self.app(scope, receive, send)
            return
        status, message = refused
        if scope["type"] == "websocket":
            await refuse_websocket(scope, receive, send, 403, {"detail": message})
        else:
            await send_plain(send, status, message, "http.response")


async def send_json(send: Send, status: int, body: dict[str, Any], prefix: str,
                    headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """An answer written straight to ASGI (`prefix`: `http.response`, or `websocket.http.response`
    for a refused handshake), from middleware that answers before any route runs."""
    encoded = json.dumps(body, separators=(",", ":")).encode()
    await send(
        {
            "type": f"{prefix}.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(encoded)).encode()),
                        *headers],
        }
    )
    await send({"type": f"{prefix}.body", "body": encoded})


async def send_plain(send: Send, status: int, message: str, prefix: str) -> None:
    await send_json(send, status, {"detail": message}, prefix)


async def refuse_websocket(scope: Scope, receive: Receive, send: Send, status: int, body: dict[str, Any],
                           headers: Sequence[tuple[bytes, bytes]] = (), close_code: int = 1008) -> None:
    """Answer a WebSocket handshake with an HTTP status and `body` instead of accepting it; a
    server without the denial-response extension gets a close before accept with `close_code`."""
    await receive()  # the websocket.connect event
    if "websocket.http.response" in scope.get("extensions", {}):
        await send_json(send, status, body, "websocket.http.response", headers)
    else:
        await send({"type": "websocket.close", "code": close_code})
