"""The ways a request can be refused, independent of HTTP or WebSocket.

Sessions and the manager raise these; `server.errors` turns them into HTTP answers (422, 429,
404) and `server.control` into WebSocket `error` messages.
"""

from __future__ import annotations

from dataclasses import fields

from engine.config import Config

CONFIG_FIELDS = frozenset(field.name for field in fields(Config))


class InvalidInput(ValueError):
    """Input that is well-formed but not acceptable; `location` names the field, e.g.
    `("body", "loss")` or `("query", "index")`."""

    def __init__(self, location: tuple[str | int, ...], message: str, kind: str = "value_error"):
        super().__init__(message)
        self.location = location
        self.message = message
        self.kind = kind

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.location[1:]) or str(self.location[0])


def config_problem(error: ValueError, prefix: tuple[str | int, ...] = ("body",)) -> InvalidInput:
    """An engine `validate_config` error ("field: message") located at that config field."""
    text = str(error)
    name, sep, message = text.partition(": ")
    if sep and name in CONFIG_FIELDS:
        return InvalidInput((*prefix, name), f"{name}: {message}")
    return InvalidInput(prefix, text)


class CapReached(Exception):
    """A configured cap (sessions, network size, rows, uploads, sockets) would be exceeded."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(LookupError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class SessionClosed(NotFound):
    """The session was deleted, expired or failed while a request for it was waiting."""
