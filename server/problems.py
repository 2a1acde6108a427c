"""The ways a request can be refused, independent of HTTP or WebSocket.

Sessions and the manager raise these; `server.errors` turns them into HTTP answers (422, 429,
404) and `server.control` into WebSocket `error` messages.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from engine.config import Config
from engine.validation import ConfigError

CONFIG_FIELDS = frozenset(field.name for field in fields(Config))


class InvalidInput(ValueError):
    """Input that is well-formed but not acceptable; `location` names the field, e.g.
    `("body", "loss")` or `("query", "index")`. `context` (optional) is the error's `ctx` in
    FastAPI's shape: for the engine's refusals its stable `code` and `params`."""

    def __init__(
        self,
        location: tuple[str | int, ...],
        message: str,
        kind: str = "value_error",
        context: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.location = location
        self.message = message
        self.kind = kind
        self.context = context

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.location[1:]) or str(self.location[0])


def config_problem(error: ValueError, prefix: tuple[str | int, ...] = ("body",)) -> InvalidInput:
    """The engine's refusal of a config, located at the field it names: a `ConfigError` carries
    the field, its code and params; any other ValueError (a data set that cannot be built) is
    located at the whole config."""
    if isinstance(error, ConfigError) and error.field in CONFIG_FIELDS:
        context = {"code": error.code, "params": error.params}
        return InvalidInput((*prefix, error.field), f"{error.field}: {error.message}", context=context)
    return InvalidInput(prefix, str(error))


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
