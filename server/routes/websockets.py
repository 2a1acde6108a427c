"""The WebSocket endpoints: `/ws/sessions/{id}`, control and live stream of one session, and
`/ws/watch/{code}`, the same stream read-only for a shared session's viewers (their control
messages get an `error` `read_only`, `backprop_lab.server.live.control`). Viewers join the session's hub, so the
frames they get are the very bytes its own clients get: an audience costs no second encoding.

Each socket has two tasks: a reader (always reading, so uvicorn keeps answering pings and
the client's messages are handled as they come) and a writer (`ClientChannel.run`, draining
its outbound queue). The socket ends when either ends: the client left, the writer closed it
or gave up on a stuck client. The origin and host checks ran before this (`backprop_lab.server.web.security`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from backprop_lab.server.classes import student_news
from backprop_lab.server.classroom.identity import Identity, identity_of
from backprop_lab.server.deps import Services
from backprop_lab.server.live import control
from backprop_lab.server.live.session import Session
from backprop_lab.server.runtime.fanout import ClientChannel, Outbox, Role, finish
from backprop_lab.server.web.errors import JSONBody
from backprop_lab.server.wire.problems import CapReached, NotFound
from backprop_lab.server.wire.protocol import error

logger = logging.getLogger(__name__)
router = APIRouter()


async def deny(websocket: WebSocket, status: int, message: str, code: str = "", retry_after: int | None = None,
               refusal: CapReached | None = None) -> None:
    """Refuse the handshake with an HTTP status (403 where the server cannot say more); a 429's
    body is a REST 429's (`code`, `field`, `params`: docs/api.md, "Errors")."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        body: dict[str, object] = {"detail": message, "code": code} if code else {"detail": message}
        if refusal is not None:
            body.update(field=refusal.field, params=refusal.params)
        await websocket.send_denial_response(JSONBody(body, status_code=status, headers=headers))
    else:
        await websocket.close(1008)


@router.websocket("/ws/sessions/{session_id}")
async def session_stream(websocket: WebSocket, session_id: str) -> None:
    services: Services = websocket.app.state.services
    identity = identity_of(websocket)
    if services.checkpoints is not None:  # a dead worker's session, from its checkpoint
        await services.checkpoints.recover(session_id)
    try:
        session = services.manager.owned(session_id, identity)
    except NotFound as problem:
        await deny(websocket, 404, problem.message)
        return
    await admit(websocket, session.id, services, Role.CONTROL, identity,
                functools.partial(serve, websocket, session, services, Role.CONTROL, identity))


@router.websocket("/ws/watch/{code}")
async def watch_stream(websocket: WebSocket, code: str) -> None:
    """A viewer; in a cluster the session may live on another worker (`server.cluster.relay`)."""
    services: Services = websocket.app.state.services
    identity = identity_of(websocket)
    relay = services.relay
    try:
        shared = services.manager.shared(code) if relay is None else await relay.shared(code)
    except NotFound as problem:
        await deny(websocket, 404, problem.message)
        return
    if isinstance(shared, Session):
        await admit(websocket, shared.id, services, Role.VIEWER, identity,
                    functools.partial(serve, websocket, shared, services, Role.VIEWER, identity))
    elif relay is not None:
        await admit(websocket, shared.session_id, services, Role.VIEWER, identity,
                    functools.partial(relay.watch, websocket, shared, identity))


async def admit(websocket: WebSocket, session_id: str, services: Services, role: Role, identity: Identity,
                served: Callable[[], Awaitable[None]]) -> None:
    """Reserve the socket's slots before accepting it (429 when a cap or the client's share is
    full), serve it (`served`), and give the slots back when it ends, however it ends
    (`server.live.socket_quotas`). In a cluster a viewer also counts against its session's cap
    on every worker."""
    try:
        reservation = await services.manager.sockets.admit(session_id, role, identity)
    except CapReached as refused:
        await deny(websocket, 429, refused.message, refused.code, refused.retry_after, refused)
        return
    with reservation:
        async with contextlib.AsyncExitStack() as held:
            if role is Role.VIEWER and services.relay is not None:
                try:
                    await held.enter_async_context(services.relay.viewer_slot(session_id))
                except CapReached as refused:
                    await deny(websocket, 429, refused.message, refused.code, refused.retry_after, refused)
                    return
            try:
                await websocket.accept()
            except (OSError, WebSocketDisconnect):  # the client left during the handshake
                return
            await served()


async def serve(websocket: WebSocket, session: Session, services: Services, role: Role, identity: Identity) -> None:
    """Run an accepted socket until it ends, then detach it (pausing a session nobody steers).

    The socket joins the session's hub here, on the event loop, before its greeting is queued,
    and leaves it in `finally`: the hub's counts are never behind the sockets, so the last
    control socket's end is always seen, however early it came (the greeting of a socket that
    already ended does nothing, `Session.attach`)."""
    channel = ClientChannel(websocket, role, services.settings.timing.send_timeout_seconds)
    ctx = control.Context(session, channel, services.manager, asyncio.get_running_loop(), identity)
    session.hub.join(channel)
    if role is Role.CONTROL:
        session.disconnected_at = None
    writer = asyncio.create_task(channel.run(), name="ws-writer")
    reader = asyncio.create_task(_read(ctx, services.settings.limits.max_messages_per_second), name="ws-reader")
    try:
        greeting = session.submit(lambda: session.attach(channel))
        greeting.add_done_callback(lambda done: _close_if_failed(ctx, done))
        if role is Role.CONTROL:  # then, behind the greeting, its owner's class (docs/protocol.md, `class`)
            greeting.add_done_callback(lambda done: Outbox.of(ctx.loop).put(student_news.greet, services.classes,
                                                                             session, channel))
        await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        reader.cancel()
        await finish(channel, writer)
        _leave(session, channel)


def _leave(session: Session, channel: ClientChannel) -> None:
    """The socket's end: out of the hub; a session whose last control socket this was pauses
    and stops its race (`Session.unattended`), and the reaper counts its resume time from now."""
    session.hub.discard(channel)
    if session.closed:
        return
    if channel.role is Role.VIEWER:
        session.announce_audience()
    elif session.hub.control_count == 0:
        session.disconnected_at = time.monotonic()
        with contextlib.suppress(Exception):  # the server is shutting down
            session.submit(session.unattended)


def _close_if_failed(ctx: control.Context, greeting: Future[None]) -> None:
    """The session closed before the socket could be greeted: say so and close it."""
    if greeting.cancelled() or greeting.exception() is None:
        return

    def refuse() -> None:
        ctx.reply(error("this session is closed", "session_closed"))
        ctx.channel.close(1000, "session closed")

    with contextlib.suppress(RuntimeError):
        ctx.loop.call_soon_threadsafe(refuse)


async def _read(ctx: control.Context, rate: int) -> None:
    def on_text(text: str) -> None:
        ctx.session.touch()
        control.handle(ctx, text)

    await control.read_forever(ctx.channel, ctx.identity, ctx.manager.ledger, rate, on_text)
