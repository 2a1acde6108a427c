"""The headers a browser enforces, on every answer the lab gives: pages, static files, the API's
JSON (refusals and the last-resort 500 included) and a WebSocket handshake's denial.

Why. The page draws names a user uploaded (column names, class labels) and a share code's viewer
runs the same page, so a bug that lets text become markup must not become script: the
Content-Security-Policy lets the browser run only the lab's own files, never inline script or
style, never `eval`, and connect only back to the lab (same-origin `ws:` included: CSP's 'self'
covers the WebSocket of the page's own host and port). No other site may frame the lab
(clickjacking a Reset), keep a handle on its window, sniff a JSON answer into script, read its
URLs from a Referer, or ask for a camera, a microphone or a position on its behalf.

What the pages need beyond 'self', found by loading them in Chromium and reading the policy's
violations (tests/browser/test_csp.py keeps them at none):
- `img-src data:`: the page's `data:,` favicon (templates/base.html: no favicon request) and the
  `data:` SVG icons of Swagger UI's stylesheet on /docs.
- `style-src-attr` allows one hash, the empty text's: Plotly's colour bar clears its rectangles'
  `style` attribute (`style=""`, which styles nothing) before styling them from script. Styles set
  from script (`element.style`, `insertRule`) are CSSOM, which CSP does not restrict.
- Plotly would create two inline `<style>` elements (its own rules, a map library's): base.html
  gives it the elements it looks for first, so its rules go into an empty sheet the app serves
  (static/css/plotly.css) and the map styles, which the lab never draws, are skipped.
- /docs starts Swagger UI from a file (static/js/apidocs.js, `backprop_lab.server.routes.apidocs`), not the
  inline script of FastAPI's page.

`SecurityHeaders` is an ASGI middleware; `HeadedFastAPI` puts it outside everything else, even
outside Starlette's last-resort 500 (which `add_middleware` cannot wrap), so no answer misses
them. docs/protocol.md ("Security") says the same for clients.
"""

from __future__ import annotations

import base64
import hashlib

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# CSP's source for the empty text (sha256, base64): the `style=""` of Plotly's colour bar.
EMPTY_STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(b"").digest()).decode()

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"style-src-attr 'unsafe-hashes' '{EMPTY_STYLE_HASH}'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)

# Powerful features the lab never uses, denied to it and to anything it might embed. Only
# names Chromium knows: it reports an unknown one as a console error on every page.
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": ", ".join(f"{feature}=()" for feature in DENIED_FEATURES),
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
}

_RAW_HEADERS = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in SECURITY_HEADERS.items()]
_RAW_NAMES = frozenset(name for name, _ in _RAW_HEADERS)
_RESPONSE_STARTS = frozenset({"http.response.start", "websocket.http.response.start"})


class SecurityHeaders:
    """ASGI middleware: `SECURITY_HEADERS` on every HTTP response and every WebSocket denial
    response, replacing any of the same name an inner layer set (this module owns them)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] in _RESPONSE_STARTS:
                kept = [(key, value) for key, value in message.get("headers", ()) if key.lower() not in _RAW_NAMES]
                message = {**message, "headers": kept + _RAW_HEADERS}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class HeadedFastAPI(FastAPI):
    """FastAPI with `SecurityHeaders` outermost. Starlette builds its stack as last-resort 500
    handler ⊃ user middleware ⊃ exception handlers ⊃ routes, and the 500 handler answers
    through the server's own `send`: only a layer outside it sees that answer too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())
