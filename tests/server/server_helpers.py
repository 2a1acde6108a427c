"""Small helpers shared by the server tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from backprop_lab.server.web.wire_socket import unframed
from backprop_lab.server.wire.frame_codec import decode_frame

READ_SECONDS = 20.0  # for anything to show on a socket, on two cores shared with other test processes

# A server reports ready only once the engine's kernels are compiled or loaded from numba's cache:
# well under a second with a warm cache, but a cold one (a fresh clone) compiled for 90 s here
# while other jobs shared the 2 cores. Waiting is cheap, a start that failed still fails at once.
SERVER_START_SECONDS = 300
TEACHER_KEY = "a-teacher-key-for-tests-only"  # the `classroom` fixture's (conftest.py)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def client_from(base: str, address: str, **options: Any) -> httpx.Client:
    """An HTTP client whose connections come from `address` (127.0.0.x: every one of them is
    this machine), keeping its cookies like a browser: another student, on another laptop."""
    return httpx.Client(base_url=base, transport=httpx.HTTPTransport(local_address=address), timeout=60, **options)


def layers_of(params: dict[str, Any]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(W (n_in, n_out), b (n_out,)) per layer from the API's `{"layers": [{"weights", "biases"}, …]}`
    (…/params, …/gradients, a loss surface's directions), as engine/reference.py takes them."""
    return [(np.array(layer["weights"], dtype=float), np.array(layer["biases"], dtype=float))
            for layer in params["layers"]]


def strict_json(text: str | bytes) -> Any:
    """json.loads that refuses NaN and Infinity, as a browser's JSON.parse does."""

    def refuse(constant: str) -> object:
        raise ValueError(f"non-finite number {constant} on the wire")

    return json.loads(text, parse_constant=refuse)


class Inbox:
    """A WebSocket client's received messages: `(arrival time, parsed JSON or bytes)`."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: list[tuple[float, Any]] = []

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def collect(self, seconds: float) -> list[tuple[float, Any]]:
        """Everything that arrives within `seconds`; texts are parsed strictly (no NaN)."""
        import asyncio
        import time

        got: list[tuple[float, Any]] = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), left)
            except TimeoutError:
                break
            got.append((time.monotonic(), strict_json(raw) if isinstance(raw, str) else raw))
        self.messages.extend(got)
        return got

    async def until(self, kind: str, seconds: float = 5.0, **match: Any) -> dict[str, Any]:
        """The next JSON message of type `kind` (with the given field values); a frame comes
        decoded with its binary (`backprop_lab.server.wire.frame_codec.decode_frame`)."""
        import asyncio
        import time

        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            raw = await asyncio.wait_for(self.ws.recv(), left)
            if isinstance(raw, bytes):
                continue
            message = strict_json(raw)
            self.messages.append((time.monotonic(), message))
            if message.get("type") == kind and all(message.get(k) == v for k, v in match.items()):
                if kind != "frame":
                    return message
                data = await asyncio.wait_for(self.ws.recv(), left) if "arrays" in message else None
                assert data is None or isinstance(data, bytes), "a frame's index not followed by its binary"
                return decode_frame(message, data)
        raise AssertionError(f"no {kind} message within {seconds} s")


def of_type(messages: list[tuple[float, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for _, m in messages if isinstance(m, dict) and m.get("type") == kind]


def decoded_frames(messages: list[tuple[float, Any]]) -> list[dict[str, Any]]:
    """The frames among `messages`, each decoded with the binary message right after it."""
    out = []
    for position, (_, message) in enumerate(messages):
        if isinstance(message, dict) and message.get("type") == "frame":
            if "arrays" in message and position + 1 == len(messages):
                break  # its binary came after the messages were collected
            data = messages[position + 1][1] if "arrays" in message else None
            assert data is None or isinstance(data, bytes), "a frame's index not followed by its binary"
            out.append(decode_frame(message, data))
    return out


def framed_messages(data: bytes) -> list[str | bytes]:
    """The WebSocket messages (server to client: unmasked) in `data`, as a client reads them,
    parsed by the websockets library (`wire_socket.unframed`)."""
    return unframed(data)


@dataclass
class Reader:
    """A socket read all the time (as a page does), its JSON messages kept; `until` waits up to
    `seconds` for one."""

    ws: ClientConnection
    seconds: float
    messages: list[dict[str, Any]] = field(default_factory=list)

    async def run(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.ws:
                if isinstance(raw, str):
                    self.messages.append(strict_json(raw))

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def until(self, found: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.seconds
        seen = 0
        while time.monotonic() < deadline:
            for message in self.messages[seen:]:
                if found(message):
                    return message
            seen = len(self.messages)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no {what} within {self.seconds} s")


@contextlib.asynccontextmanager
async def reading(url: str, origin: str, headers: dict[str, str],
                  seconds: float = READ_SECONDS) -> AsyncIterator[Reader]:
    """A `Reader` on the socket at `url`, closed after the block."""
    ws = await connect(url, origin=origin, additional_headers=headers, max_size=2**24, close_timeout=1)
    reader = Reader(ws, seconds)
    task = asyncio.create_task(reader.run())
    try:
        yield reader
    finally:
        await ws.close()
        await task
