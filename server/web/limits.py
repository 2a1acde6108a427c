"""Size and rate limits on what clients send: HTTP bodies (413) and WebSocket messages per
second (a token bucket per socket). The WebSocket message *size* cap is uvicorn's
`ws_max_size` (set by `backprop_lab.server.cli`), which closes an oversized message's socket with 1009.
"""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backprop_lab.server.web.security import send_plain


class BodyLimit:
    """ASGI middleware: a request body over `max_bytes` gets 413, whether it announces its
    length (refused before reading) or streams it (refused when the count passes the cap)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"the request body is larger than {self.max_bytes:,} bytes"
        for key, value in scope["headers"]:
            if key.lower() == b"content-length":
                try:
                    too_large = int(value) > self.max_bytes
                except ValueError:
                    too_large = False
                if too_large:
                    await send_plain(send, 413, message, "http.response")
                    return
        received = 0

        async def counting_receive() -> Message:
            # Raised while the route reads its body: FastAPI passes an HTTPException raised
            # there on to its handler, which answers 413 in the usual {"detail"} shape.
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, message)
            return event

        await self.app(scope, counting_receive, send)


class TokenBucket:
    """At most `rate` events a second on average, bursts up to `rate`."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.updated = time.monotonic()

    def allow(self, cost: float = 1.0) -> bool:
        """Take `cost` tokens if there are that many (an event that weighs `cost` events)."""
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False
