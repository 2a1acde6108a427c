"""Client → server messages: the dispatch table from each message type to its model and its
handler, and the replies.

A handler runs on the event loop and must not wait: it validates, then submits the work to
the session's training thread, in the order the messages arrived. Results come back through a
future; broadcasts (state, config, frames, snapshots, phases) are published by the session
itself, and the direct replies (`probe`, `parameter_check`, `error`) go to this socket only,
carrying the message's `id` as `reply_to`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, get_args

from pydantic import ValidationError

from backprop_lab.server.classroom.identity import Identity
from backprop_lab.server.classroom.quotas import Ledger, Resource
from backprop_lab.server.live.lifecycle import InvalidTransition
from backprop_lab.server.live.manager import SessionManager
from backprop_lab.server.live.session import Session
from backprop_lab.server.runtime.fanout import ClientChannel, Outbox, Role
from backprop_lab.server.web.assets import static_dir
from backprop_lab.server.web.errors import clean, pydantic_problem
from backprop_lab.server.web.lessons import lesson_step
from backprop_lab.server.web.limits import TokenBucket
from backprop_lab.server.wire import protocol
from backprop_lab.server.wire.problems import CapReached, Conflict, InvalidInput, NotFound
from backprop_lab.server.wire.protocol import (
    CheckParameter,
    ClientMessage,
    ClientMessageType,
    ConfigChange,
    LessonShown,
    MessageId,
    Pause,
    PhaseStep,
    Play,
    Probe,
    ProtocolError,
    RaceStart,
    RaceStop,
    Reset,
    SetParameter,
    Speed,
    Step,
    encode,
    error,
)

logger = logging.getLogger(__name__)
JSON = dict[str, Any]


@dataclass
class Context:
    """One socket's view of its session."""

    session: Session
    channel: ClientChannel
    manager: SessionManager
    loop: asyncio.AbstractEventLoop
    identity: Identity  # who holds the socket: its messages and races count in their share

    def reply(self, message: JSON) -> None:
        self.channel.push((encode(message),))

    def run(
        self,
        work: Callable[[], Any],
        reply_to: MessageId | None,
        answer: Callable[[Any], JSON | None] | None = None,
    ) -> None:
        """Submit `work` to the training thread; send `answer(result)` (or the error) back."""
        future = self.session.submit(work)
        future.add_done_callback(lambda done: self._from_thread(done, reply_to, answer))

    def _from_thread(self, future: Future[Any], reply_to: MessageId | None, answer: Any) -> None:
        # through the loop's outbox, behind every message the job published (dropped when the
        # loop is closed: shutting down)
        Outbox.of(self.loop).put(self._finish, future, reply_to, answer)

    def _finish(self, future: Future[Any], reply_to: MessageId | None, answer: Any) -> None:
        if future.cancelled():
            return
        problem = future.exception()
        if problem is None:
            message = answer(future.result()) if answer is not None else None
            if message is not None:
                if reply_to is not None:
                    message["reply_to"] = reply_to
                self.reply(message)
            return
        if isinstance(problem, InvalidInput | CapReached):
            self.reply(refusal(problem, reply_to))
        elif isinstance(problem, InvalidTransition):
            self.reply(error(str(problem), "invalid", reply_to, field="", reason="not_now"))
        elif isinstance(problem, NotFound):
            self.reply(error(problem.message, "session_closed", reply_to))
        else:  # a bug or an engine failure: this session ends, the server goes on
            logger.error("session %s failed on a control message", self.session.id[:8], exc_info=problem)
            self.session.submit(self.session.close)
            if self.session.on_failure is not None:
                self.session.on_failure(self.session, problem)


def _play(ctx: Context, message: Play) -> None:
    ctx.run(ctx.session.play, message.id)


def _pause(ctx: Context, message: Pause) -> None:
    ctx.run(ctx.session.pause, message.id)


def _step(ctx: Context, message: Step) -> None:
    ctx.run(lambda: ctx.session.start_steps(message.steps, streamed=True), message.id)


def _phase(ctx: Context, message: PhaseStep) -> None:
    ctx.run(ctx.session.next_phase, message.id)


def _reset(ctx: Context, message: Reset) -> None:
    ctx.run(ctx.session.reset, message.id)


def _config(ctx: Context, message: ConfigChange) -> None:
    session = ctx.session
    config, table = ctx.manager.prepare_config(session, message.changes, ("changes",))
    ctx.run(lambda: session.configure(config, table), message.id)


def _speed(ctx: Context, message: Speed) -> None:
    ctx.run(lambda: ctx.session.set_speed(message.steps_per_second), message.id)


def _set_parameter(ctx: Context, message: SetParameter) -> None:
    m = message
    ctx.run(lambda: ctx.session.set_parameter(m.layer, m.kind, m.i, m.j, m.value), m.id)


def _probe(ctx: Context, message: Probe) -> None:
    ctx.run(
        lambda: ctx.session.set_probe(message.split, message.index),
        message.id,
        lambda probe: {"type": "probe", "probe": probe},
    )


def _check_parameter(ctx: Context, message: CheckParameter) -> None:
    m = message
    ctx.run(
        lambda: ctx.session.check_parameter(m.layer, m.kind, m.i, m.j),
        m.id,
        lambda result: {"type": "parameter_check", **result},
    )


def _race_start(ctx: Context, message: RaceStart) -> None:
    m = message
    ledger, identity = ctx.manager.ledger, ctx.identity
    ctx.run(lambda: ctx.session.start_race(m.learning_rates, m.steps, m.steps_per_second,
                                           lambda: ledger.claim(Resource.RACES, identity)), m.id)


def _race_stop(ctx: Context, message: RaceStop) -> None:
    ctx.run(ctx.session.stop_race, message.id)


def _lesson(ctx: Context, message: LessonShown) -> None:
    """A bookmark for the viewers, not work: checked against the lesson files (an unknown lesson
    or step is refused naming the field), then told to every client of the session at once."""
    place = message.lesson
    if place is not None:
        lesson_step(static_dir(ctx.manager.settings), place.id, place.step, ("lesson", "id"), ("lesson", "step"))
    ctx.session.show_lesson(None if place is None else place.model_dump())


Handler = Callable[[Context, Any], None]

# The dispatch table: every client message type, its model and its handler.
DISPATCH: dict[str, tuple[type[ClientMessage], Handler]] = {
    "play": (Play, _play),
    "pause": (Pause, _pause),
    "step": (Step, _step),
    "phase": (PhaseStep, _phase),
    "reset": (Reset, _reset),
    "config": (ConfigChange, _config),
    "speed": (Speed, _speed),
    "set_parameter": (SetParameter, _set_parameter),
    "probe": (Probe, _probe),
    "check_parameter": (CheckParameter, _check_parameter),
    "race_start": (RaceStart, _race_start),
    "race_stop": (RaceStop, _race_stop),
    "lesson": (LessonShown, _lesson),
}
assert set(DISPATCH) == set(get_args(ClientMessageType)), "every client message type needs a handler"

# What a message weighs against its student's rate of messages (classroom mode, backprop_lab.server.classroom.quotas):
# one, but for those whose work is many times a probe's — a race builds up to 8 trainers (10–30
# ms), a parameter's check takes two passes over the split, a config or a reset may rebuild the
# network — so a student cannot buy the training threads with the cheap count of messages.
MESSAGE_COSTS: dict[str, float] = {"race_start": 20, "check_parameter": 4, "config": 2, "reset": 2}


# The messages that train the session: refused (`class_paused`) while its owner's class is paused.
TRAINING_MESSAGES = frozenset({"play", "step", "phase"})


def _reply_id(data: JSON) -> MessageId | None:
    value = data.get("id")
    if isinstance(value, str) and len(value) <= 128:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**53:
        return value
    return None


def refusal(problem: InvalidInput | CapReached, reply_to: MessageId | None) -> JSON:
    """The `error` for a refused field: `invalid`, with its field, reason and params."""
    try:
        params = clean(problem.params)
    except OverflowError:
        params = {}
    return error(problem.message, "invalid", reply_to, field=problem.field, reason=problem.code, params=params)


def _describe(problem: ValidationError) -> str:
    first = problem.errors()[0]
    where = ".".join(str(part) for part in first["loc"] if part not in ("type",)) or "message"
    more = f" (and {problem.error_count() - 1} more)" if problem.error_count() > 1 else ""
    return f"{where}: {first['msg']}{more}"


class _Refused(Exception):
    """A message refused before any handler: its `error` reply."""

    def __init__(self, reply: JSON) -> None:
        super().__init__(reply.get("message"))
        self.reply = reply


def _read(text: str) -> tuple[str, Any, Handler, MessageId | None]:
    """One client message decoded and validated: (its type, its model, its handler, its `id`);
    `_Refused` with the `error` reply when it is none of the protocol's messages."""
    reply_to: MessageId | None = None
    try:
        data = protocol.decode(text)
        reply_to = _reply_id(data)
        kind = data.get("type")
        entry = DISPATCH.get(kind) if isinstance(kind, str) else None
        if entry is None:
            known = ", ".join(DISPATCH)
            raise ProtocolError("unknown_type", f"unknown message type {kind!r}; known types: {known}")
        model, handler = entry
        try:
            message = model.model_validate(data)
        except ValidationError as problem:
            first = pydantic_problem(dict(problem.errors()[0]), skip=("type",))
            why = {"field": first["field"], "reason": first["code"], "params": first["params"]}
            raise _Refused(error(f"{kind}: {_describe(problem)}", "bad_message", reply_to, **why)) from None
    except ProtocolError as problem:
        raise _Refused(error(problem.message, problem.code, reply_to)) from None
    return str(kind), message, handler, reply_to


def viewer_reply(text: str) -> JSON:
    """What a viewer's message gets (a viewer controls nothing): the refusal of a message that
    is none of the protocol's, else `read_only`. Also for a viewer on another worker of a
    cluster than its session's (`backprop_lab.server.cluster.relay`)."""
    try:
        _, _, _, reply_to = _read(text)
    except _Refused as refused:
        return refused.reply
    return error("this is a read-only view; it cannot control the session", "read_only", reply_to)


async def read_forever(channel: ClientChannel, identity: Identity, ledger: Ledger, rate: int,
                       on_text: Callable[[str], None]) -> None:
    """A socket's reader: every text message to `on_text` within the socket's `rate` a second
    and its holder's share (the excess dropped, one `rate_limited` warning a second), a binary
    one refused; returns when the client leaves."""
    bucket = TokenBucket(rate)
    warned_at = 0.0
    while True:
        message = await channel.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if not (bucket.allow() and ledger.allow_message(identity)):
            now = time.monotonic()
            if now - warned_at > 1.0:  # one warning a second, not one per dropped message
                warned_at = now
                channel.push((encode(error(f"more than {rate} messages a second; some were dropped",
                                           "rate_limited")),))
            continue
        if text is None:
            channel.push((encode(error("binary messages are not part of the protocol; send JSON text",
                                       "bad_message")),))
            continue
        on_text(text)


def handle(ctx: Context, text: str) -> None:
    """Decode, validate and dispatch one client message; every refusal is an `error` reply."""
    if ctx.channel.role is Role.VIEWER:
        ctx.reply(viewer_reply(text))
        return
    try:
        kind, message, handler, reply_to = _read(text)
    except _Refused as refused:
        ctx.reply(refused.reply)
        return
    try:
        if kind in TRAINING_MESSAGES:
            try:
                ctx.manager.training_gate(ctx.session.owner)
            except Conflict as paused:
                raise ProtocolError("class_paused", paused.message) from None
        extra = MESSAGE_COSTS.get(kind, 1) - 1  # the one every message costs was taken as it came in
        if extra and not ctx.manager.ledger.allow_message(ctx.identity, extra):
            raise ProtocolError("rate_limited", f"{kind} weighs {extra + 1:g} messages of your share a second; "
                                "wait a moment and send it again")
        handler(ctx, message)
    except ProtocolError as problem:
        ctx.reply(error(problem.message, problem.code, reply_to))
    except (InvalidInput, CapReached) as problem:
        ctx.reply(refusal(problem, reply_to))
    except NotFound as problem:
        ctx.reply(error(problem.message, "session_closed", reply_to))
