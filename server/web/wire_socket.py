"""The WebSocket server protocol: uvicorn's websockets-sansio, with one write per message.

A session's messages are encoded once for every client (`backprop_lab.server.runtime.fanout`):
the JSON text and, for a frame or heatmaps, the binary that follows it. Sent through ASGI, each
part then costs every client a trip through Starlette, the middlewares and uvicorn, its own
WebSocket framing and its own socket write (a system call): a hall of 200 students at 20 frames
a second is 8,000 of them a second, and the writes were a fifth of the server's time holding the
GIL (docs/budgets.md, "A lecture hall").

`WireProtocol` offers the application an ASGI extension, `WIRE_EXTENSION`, whose `write`
coroutine takes bytes already framed as server-to-client WebSocket messages (unmasked, no
compression: per-message deflate is off) and hands them to the socket in one write, after
uvicorn's own flow control. The messages and their order on the wire are exactly what two
`websocket.send` events would give: the protocol (docs/protocol.md) does not change, only the
cost of sending it. The framing itself is the websockets library's (`frames`).

Under another server, or `--ws websockets` / `--ws wsproto`, the extension is absent and the
application sends part by part through ASGI, as before.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.streams import StreamReader

WIRE_EXTENSION = "backprop_lab.wire"
_FIN_TEXT, _FIN_BINARY = 0x80 | Opcode.TEXT, 0x80 | Opcode.BINARY  # a whole message in one frame
_SHORT, _MEDIUM, _LONG = struct.Struct("!BB"), struct.Struct("!BBH"), struct.Struct("!BBQ")  # by payload length
WireWrite = Callable[[bytes], Awaitable[None]]


def framed(parts: tuple[str | bytes, ...]) -> bytes:
    """`parts` as server-to-client WebSocket messages (RFC 6455, 5.2: one final frame each,
    unmasked): a text message per `str`, a binary one per `bytes`, back to back. The header is
    written here rather than by `websockets.frames.Frame`, whose checks and buffer cost a frame
    built after a training slice several microseconds each; `unframed` reads them back with it."""
    chunks: list[bytes] = []
    for part in parts:
        if isinstance(part, str):
            payload, first = part.encode(), _FIN_TEXT
        else:
            payload, first = part, _FIN_BINARY
        size = len(payload)
        if size < 126:
            chunks.append(_SHORT.pack(first, size))
        elif size < 65536:
            chunks.append(_MEDIUM.pack(first, 126, size))
        else:
            chunks.append(_LONG.pack(first, 127, size))
        chunks.append(payload)
    return b"".join(chunks)


def unframed(data: bytes) -> list[str | bytes]:
    """The messages `framed` made `data` of, back as `framed` took them."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    parts: list[str | bytes] = []
    while True:
        try:
            next(Frame.parse(reader.read_exact, mask=False))
        except StopIteration as parsed:
            frame = parsed.value
            parts.append(frame.data.decode() if frame.opcode is Opcode.TEXT else bytes(frame.data))
        except EOFError:
            return parts


class WireProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering `WIRE_EXTENSION` in every socket's scope."""

    async def run_asgi(self) -> None:
        self.scope["extensions"][WIRE_EXTENSION] = {"write": self.write_framed}  # type: ignore[index]
        await super().run_asgi()

    async def write_framed(self, data: bytes) -> None:
        """Send `data` (whole WebSocket messages, `framed`) in one write, once the transport
        takes more (uvicorn's flow control). Raises `ClientDisconnected` once the socket is
        closing, as uvicorn's own `send` does."""
        await self.writable.wait()
        if self.disconnected or self.close_sent or self.transport.is_closing():
            raise ClientDisconnected()
        self.transport.write(data)


def wire_write(scope_extensions: dict[str, object] | None) -> WireWrite | None:
    """The socket's framed write, when its server offers one."""
    offered = (scope_extensions or {}).get(WIRE_EXTENSION)
    return offered.get("write") if isinstance(offered, dict) else None
