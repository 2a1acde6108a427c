"""Who is asking: the teacher or a student (docs/reliability.md, "Identities").

Outside classroom mode (the default, 127.0.0.1) the one local user is the teacher, with no
prompt: every request is the teacher's. In classroom mode (`--classroom`, or `--host 0.0.0.0`):

- The **teacher** holds a secret key (`--teacher-key`, the environment variable
  `BACKPROP_LAB_TEACHER_KEY`, or one drawn at start). The teacher link the start prints,
  `/teacher?key=…`, stores the key in an HttpOnly, SameSite=Strict cookie and sends the browser
  on to the page, so the key leaves the address bar; a script sends `Authorization: Bearer <key>`.
- Everyone else is a **student**: an anonymous identity handed out on first contact, as a random
  token in the same cookie (a browser keeps it; a script keeps the cookie too, or sends the token
  as a bearer token). A student is known by a hash of the token (`Identity.id`), never by the
  token itself, so an owner id shown in a list gives nobody the key to act as that student.

The middleware resolves each HTTP request and WebSocket handshake to an `Identity` before any
route runs and leaves it in the ASGI scope; `identity_of(connection)` reads it back. A bearer
token that is neither the teacher key nor a student token is refused (401): a script with a
wrong key should hear so, not silently become a stranger.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backprop_lab.server.web.security import refuse_websocket, send_plain

COOKIE = "lab_identity"
COOKIE_SECONDS = 365 * 24 * 3600  # a student keeps their runs across a term's lessons
TEACHER_ID = "teacher"
TEACHER_KEY_VARIABLE = "BACKPROP_LAB_TEACHER_KEY"
MIN_TEACHER_KEY_LENGTH = 12
STUDENT_TOKEN = re.compile(r"s\.[A-Za-z0-9_-]{22}")  # "s." + 128 random bits, URL-safe
SCOPE_KEY = "backprop_lab.identity"


class Role(enum.Enum):
    TEACHER = "teacher"
    STUDENT = "student"


@dataclass(frozen=True)
class Identity:
    id: str  # "teacher", or "s_" + a hash of a student's token
    role: Role
    address: str  # the connection's source address: quotas count per address too

    @property
    def is_teacher(self) -> bool:
        return self.role is Role.TEACHER

    def owns(self, owner: str) -> bool:
        """May act on what `owner` made: its owner, and the teacher on anything."""
        return self.is_teacher or owner == self.id


def new_teacher_key() -> str:
    return secrets.token_urlsafe(24)


def new_student_token() -> str:
    return "s." + secrets.token_urlsafe(16)


def student_id(token: str) -> str:
    return "s_" + hashlib.sha256(token.encode()).hexdigest()[:24]


def check_teacher_key(key: str) -> str:
    """The key as given, or ValueError saying why it cannot be one."""
    if len(key) < MIN_TEACHER_KEY_LENGTH or not key.isprintable() or " " in key:
        raise ValueError(f"a teacher key has at least {MIN_TEACHER_KEY_LENGTH} characters and no spaces")
    if STUDENT_TOKEN.fullmatch(key):
        raise ValueError("a teacher key cannot have the shape of a student's token")
    return key


class Identities:
    """Turns a connection's credentials into an `Identity`."""

    def __init__(self, classroom: bool, teacher_key: str) -> None:
        self.classroom = classroom
        self.teacher_key = teacher_key

    def is_teacher_key(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.teacher_key.encode())

    def from_token(self, token: str, address: str) -> Identity | None:
        """The identity a credential names, or None when it names nobody."""
        if self.is_teacher_key(token):
            return Identity(TEACHER_ID, Role.TEACHER, address)
        if STUDENT_TOKEN.fullmatch(token):
            return Identity(student_id(token), Role.STUDENT, address)
        return None

    def resolve(self, headers: dict[str, str], address: str) -> tuple[Identity | None, str | None]:
        """(the identity, a new student token to hand out or None); (None, None) for a bearer
        token that names nobody."""
        if not self.classroom:
            return Identity(TEACHER_ID, Role.TEACHER, address), None
        authorization = headers.get("authorization", "")
        scheme, _, credential = authorization.partition(" ")
        if scheme.lower() == "bearer" and credential.strip():
            return self.from_token(credential.strip(), address), None
        cookie = cookie_value(headers.get("cookie", ""))
        if cookie:
            known = self.from_token(cookie, address)
            if known is not None:
                return known, None
        token = new_student_token()
        return Identity(student_id(token), Role.STUDENT, address), token


def cookie_value(header: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def set_cookie_header(token: str) -> tuple[bytes, bytes]:
    """The Set-Cookie that hands `token` to a browser: HttpOnly (no script reads it) and
    SameSite=Strict (no other site's page sends it)."""
    value = f"{COOKIE}={token}; Path=/; Max-Age={COOKIE_SECONDS}; HttpOnly; SameSite=Strict"
    return b"set-cookie", value.encode("latin-1")


def identity_of(connection: HTTPConnection) -> Identity:
    identity = connection.scope.get(SCOPE_KEY)
    assert isinstance(identity, Identity), "IdentityMiddleware must wrap the app"
    return identity


class IdentityMiddleware:
    """ASGI middleware: every HTTP request and WebSocket handshake gets its `Identity` in the
    scope; a student's first HTTP answer carries the cookie that keeps it."""

    def __init__(self, app: ASGIApp, identities: Identities) -> None:
        self.app = app
        self.identities = identities

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        client = scope.get("client")
        address = str(client[0]) if client else "unknown"
        identity, new_token = self.identities.resolve(headers, address)
        if identity is None:
            message = "the bearer token is not this server's teacher key nor a student's token"
            if scope["type"] == "websocket":
                await refuse_websocket(scope, receive, send, 401, {"detail": message})
            else:
                await send_plain(send, 401, message, "http.response")
            return
        scope[SCOPE_KEY] = identity
        if new_token is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                sets_its_own = any(key.lower() == b"set-cookie" and value.startswith(COOKIE.encode() + b"=")
                                   for key, value in headers)  # the teacher link's
                if not sets_its_own:
                    message["headers"] = [*headers, set_cookie_header(new_token)]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
