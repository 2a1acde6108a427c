"""The WebSocket protocol, version 3: every message's type and fields. `docs/protocol.md` is the
prose of this module; both carry `PROTOCOL_VERSION` and change together.

Server → client: JSON text messages, each with a `"type"` (`ServerMessageType`). A `heatmaps`
message is followed by exactly one binary message holding its bytes (`backprop_lab.server.analyses.heatmaps`); a
`frame` with an `"arrays"` index is followed by exactly one binary message holding its weights,
gradients, updates and probe numbers (`backprop_lab.server.wire.frame_codec`: the layout, and a decoder for
scripts); a `race` with a `"thumbnails"` index is followed by one binary message of its copies'
thumbnails (`server.analyses.live_race`). Version 2: frames carry their arrays as that binary instead of JSON.
Version 3: the learning-rate race (`race_start`, `race_stop`, `race`); an `error` that refuses a
field says which and why in words a page can translate (`field`, `reason`, `params`) besides its
English `message`; the classroom — a viewer's `hello` (on `/ws/watch/{code}`) has no session id
and says `role`, and an `audience` message tells every client how many viewers watch; a frame
carries `surface_id` and `surface_point`, the current weights' coordinates on the loss surface
last computed for the session (`backprop_lab.server.analyses.loss_surfaces`); the teacher's class (still
version 3: only messages added) — a `class` message tells a student's control sockets about their class
(`backprop_lab.server.classes.student_news`), and `class_paused` refuses training while the
teacher has paused it; a `lesson` message (both ways: the presenter's page says which lesson
step it shows, every client of the session hears it) lets viewers follow a lesson. Client → server: JSON
text objects with a `"type"` (`ClientMessageType`), validated by the models below; the
dispatch table that maps each type to its model and its handler is `backprop_lab.server.live.control.DISPATCH`.

Encoding: `encode` writes NumPy arrays directly (orjson) and writes NaN and ±Infinity as
`null`, so no non-finite number ever reaches the wire, even from a diverging network.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import numpy as np
import orjson
from pydantic import BaseModel, ConfigDict, Field

from backprop_lab.engine.lr_lab import RACE_COPIES
from backprop_lab.server.wire.bounds import counted
from backprop_lab.server.wire.config_models import ConfigIn, LearningRate, SplitName
from backprop_lab.server.wire.session_models import MAX_STEPS_PER_REQUEST

PROTOCOL_VERSION = 3

ServerMessageType = Literal[
    "hello",
    "snapshot",
    "frame",
    "heatmaps",
    "config",
    "state",
    "phase",
    "probe",
    "parameter_check",
    "diverged",
    "race",
    "audience",
    "class",
    "lesson",
    "error",
]
ClientMessageType = Literal[
    "play", "pause", "step", "phase", "reset", "config", "speed", "set_parameter", "probe", "check_parameter",
    "race_start", "race_stop", "lesson",
]
ErrorCode = Literal[
    "bad_json", "bad_message", "unknown_type", "invalid", "rate_limited", "read_only", "session_closed", "internal",
    "class_paused",
]
MAX_STEPS_PER_SECOND = 100_000
MAX_RACE_STEPS = 100_000  # a live race's length; a REST sweep's is the request cap's
MAX_LESSON_STEPS = 100  # a bound for the message's model; the lesson file says how many it has
MessageId = str | int


# --- client → server ---------------------------------------------------------------------
class ClientMessage(BaseModel):
    """Every client message: a `type`, and an optional `id` echoed as `reply_to` in the reply
    sent to that client alone (`probe`, `parameter_check`, `error`)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    type: ClientMessageType
    id: Annotated[str, Field(max_length=128)] | Annotated[int, Field(ge=-(2**53), le=2**53)] | None = None


class Play(ClientMessage):
    type: Literal["play"]


class Pause(ClientMessage):
    type: Literal["pause"]


class Step(ClientMessage):
    type: Literal["step"]
    steps: Annotated[int, Field(ge=1, le=MAX_STEPS_PER_REQUEST)] = 1


class PhaseStep(ClientMessage):
    type: Literal["phase"]


class Reset(ClientMessage):
    type: Literal["reset"]


class ConfigChange(ClientMessage):
    type: Literal["config"]
    changes: ConfigIn


class Speed(ClientMessage):
    type: Literal["speed"]
    steps_per_second: Annotated[float, Field(ge=0, le=MAX_STEPS_PER_SECOND)] = Field(
        description="0 = as fast as the engine goes"
    )


class _ParameterAddress(ClientMessage):
    layer: Annotated[int, Field(ge=0)]
    kind: Literal["weight", "bias"]
    i: Annotated[int, Field(ge=0)]
    j: Annotated[int, Field(ge=0)] = 0


class SetParameter(_ParameterAddress):
    type: Literal["set_parameter"]
    value: Annotated[float, Field(ge=-1e12, le=1e12)]


class CheckParameter(_ParameterAddress):
    type: Literal["check_parameter"]


class Probe(ClientMessage):
    type: Literal["probe"]
    split: SplitName = "train"
    index: Annotated[int, Field(ge=0)] = 0


class RaceStart(ClientMessage):
    """Race copies of the session's config (its seed: identical initial weights and data
    order), one per rate; replaces a race already running."""

    type: Literal["race_start"]
    learning_rates: Annotated[list[LearningRate], counted(RACE_COPIES)]
    steps: Annotated[int, Field(ge=1, le=MAX_RACE_STEPS)] = 1000
    steps_per_second: Annotated[float, Field(ge=0, le=MAX_STEPS_PER_SECOND)] = Field(
        default=500.0, description="0 = as fast as the engine goes"
    )


class RaceStop(ClientMessage):
    type: Literal["race_stop"]


class LessonPlace(BaseModel):
    """A lesson step the session's page shows (docs/lessons.md): the lesson file's id, the step
    (1-based), and whether the step's task is met on that page."""

    model_config = ConfigDict(extra="forbid")
    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    step: Annotated[int, Field(ge=1, le=MAX_LESSON_STEPS)]
    done: bool = False


class LessonShown(ClientMessage):
    """The presenter's page is at this lesson step (null: at none); its viewers follow it."""

    type: Literal["lesson"]
    lesson: LessonPlace | None


# --- server → client ---------------------------------------------------------------------
def error(
    message: str,
    code: ErrorCode,
    reply_to: MessageId | None = None,
    *,
    field: str | None = None,
    reason: str | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An `error` message. `code` is the kind of failure (what the page does about it); for a
    refused field, `field` names it and `reason` and `params` say why, with the same words as
    the REST 422/429 `code` and `params` (docs/api.md, "Errors"), so the page can translate it;
    `message` is the English sentence."""
    out: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if reason is not None:
        out["field"] = field or ""
        out["reason"] = reason
        out["params"] = params or {}
    if reply_to is not None:
        out["reply_to"] = reply_to
    return out


Role = Literal["control", "viewer"]


def hello(session_id: str | None, snapshot: dict[str, Any], role: Role = "control",
          moved_from: int | None = None) -> dict[str, Any]:
    """The first message. A viewer's carries no session id: the id is the key that controls the
    session, and a share code gives only the right to watch. `moved_from`: the session went on
    here from its checkpoint at that step after the worker that held it died (a cluster); the
    first control socket after that hears it, once."""
    return {"type": "hello", "protocol": PROTOCOL_VERSION, "session_id": session_id, "role": role,
            "snapshot": snapshot, "moved_from": moved_from}


def audience(viewers: int) -> dict[str, Any]:
    """How many viewers watch the session through its share code (sent when that changes)."""
    return {"type": "audience", "viewers": viewers}


def lesson(place: dict[str, Any] | None) -> dict[str, Any]:
    """The lesson step the session's presenter shows (null: none), for its viewers to follow."""
    return {"type": "lesson", "lesson": place}


def _default(value: Any) -> Any:
    """What orjson cannot write itself: non-contiguous arrays and stray NumPy scalars."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_bytes(message: Any) -> bytes:
    """JSON bytes; NaN and ±Infinity (Python floats and inside arrays) become null."""
    return orjson.dumps(message, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)


def encode(message: Any) -> str:
    """A JSON text message. Encoded once per message: every client gets this same string."""
    return encode_bytes(message).decode()


class ProtocolError(Exception):
    """A client message that cannot be handled; answered with an `error` of this code."""

    def __init__(self, code: ErrorCode, message: str, reply_to: MessageId | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reply_to = reply_to


def decode(text: str) -> dict[str, Any]:
    """The JSON object of a client message, or `ProtocolError("bad_json" / "bad_message")`."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError("bad_json", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ProtocolError("bad_message", 'a message is a JSON object with a "type"')
    return data
