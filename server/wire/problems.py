"""The ways a request can be refused, independent of HTTP or WebSocket.

Sessions and the manager raise these; `backprop_lab.server.web.errors` turns them into HTTP answers (422, 429,
404) and `backprop_lab.server.live.control` into WebSocket `error` messages.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from backprop_lab.engine.config import Config
from backprop_lab.engine.validation import ConfigError

CONFIG_FIELDS = frozenset(field.name for field in fields(Config))


class InvalidInput(ValueError):
    """Input that is well-formed but not acceptable; `location` names the field, e.g.
    `("body", "loss")` or `("query", "index")`. `code` is a stable word for the kind of problem
    and `params` its numbers and names (the vocabulary of docs/api.md, "Errors"), so a client can
    say it in its reader's language; `message` stays the English sentence for scripts."""

    def __init__(
        self,
        location: tuple[str | int, ...],
        message: str,
        kind: str = "value_error",
        code: str = "invalid",
        params: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.location = location
        self.message = message
        self.kind = kind
        self.code = code
        self.params = dict(params or {})

    @property
    def field(self) -> str:
        return field_of(self.location)

    def at(self, location: tuple[str | int, ...]) -> InvalidInput:
        """The same refusal located elsewhere (a REST body field instead of a socket's `changes`)."""
        return InvalidInput(location, self.message, self.kind, self.code, self.params)


def field_of(location: tuple[str | int, ...]) -> str:
    """The field a location names, without where it came from: ("body", "layers", 0) → "layers.0"."""
    parts = location[1:] if location and location[0] in ("body", "query", "path", "changes") else location
    return ".".join(str(part) for part in parts)


def config_problem(error: ValueError, prefix: tuple[str | int, ...] = ("body",)) -> InvalidInput:
    """The engine's refusal of a config, located at the field it names: a `ConfigError` carries
    the field, its code and params; any other ValueError (a data set that cannot be built) is
    located at the whole config."""
    if isinstance(error, ConfigError) and error.field in CONFIG_FIELDS:
        message = f"{error.field}: {error.message}"
        return InvalidInput((*prefix, error.field), message, code=error.code, params=error.params)
    return InvalidInput(prefix, str(error), code="invalid_config")


RETRY_AFTER_SECONDS = 10  # a refusal's Retry-After when nothing more precise is known


class CapReached(Exception):
    """A configured cap (sessions, network size, rows, uploads, sockets) or a client's share
    (`backprop_lab.server.classroom.quotas`) would be exceeded. `field` is the request field that hit it ("" when none
    did, e.g. the session count), `code` and `params` say which cap and its numbers, as for
    `InvalidInput`; `retry_after` is when trying again has a chance, in seconds."""

    def __init__(self, message: str, code: str = "cap_reached", field: str = "", params: dict[str, Any] | None = None,
                 retry_after: int = RETRY_AFTER_SECONDS):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field
        self.params = dict(params or {})
        self.retry_after = retry_after


class Unavailable(RuntimeError):
    """What the server cannot do now (503): its database failed, or it is shutting down. `code`
    and `params` say which in stable words a client translates; `retry_after` is when trying
    again has a chance, in seconds (None: not known). `logged`: a failure the server's log keeps."""

    logged = False

    def __init__(self, message: str, code: str, params: dict[str, Any] | None = None,
                 retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.params = dict(params or {})
        self.retry_after = retry_after


class Forbidden(PermissionError):
    """What the caller may see but not do (a student deleting a run the teacher published, or
    publishing one): 403 with a stable `code`."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class Conflict(RuntimeError):
    """What cannot be done in the present state (409 with a stable `code`): training while the
    teacher has paused the class, the teacher joining their own class."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


class NotFound(LookupError):
    """404; `code`, when given, says what was not found in a stable word (`unknown_class`)."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code


class SessionClosed(NotFound):
    """The session was deleted, expired or failed while a request for it was waiting."""
