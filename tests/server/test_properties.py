"""Properties of the live server against random input, on the module's real uvicorn (`live`):

- an import (`POST /api/v1/runs/import`, server/routes/runs.py and server/saved/capture.py), on a
  server keeping its runs in SQLite and on one keeping them in PostgreSQL (`runs_live`), of a real
  export that Hypothesis has mutated — wrong types, shapes, non-finite numbers (as JSON's NaN
  and as strings), huge numbers, missing keys, extra keys and nesting — is either imported
  exactly (its re-export says everything the document says) or refused with a 422 in FastAPI's
  shape, `detail: [{loc, msg, type}]`; never a 500;
- random WebSocket messages on /ws/sessions/{id} (random JSON, every client message type with
  random fields, garbage text, binary) never break the session: each gets at most an `error` of
  a documented code, and afterwards the same socket still plays, pauses, steps and resets, and
  REST still reads the session;
- and the server logs no unhandled exception meanwhile (a 500, a failed session or a socket
  task that died all log at ERROR).
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import logging
import math
from collections.abc import Iterator
from typing import Any, get_args

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from server_helpers import Inbox, strict_json
from websockets.asyncio.client import connect

from backprop_lab.server.live.control import DISPATCH
from backprop_lab.server.wire.config_models import ConfigIn
from backprop_lab.server.wire.protocol import ErrorCode

JSON = Any

# --- what the server logged ------------------------------------------------------------------


class ErrorRecords(logging.Handler):
    """Every record at ERROR or above: `server.web.errors` logs each 500, `server.live.session` and
    `backprop_lab.server.live.control` a failed session, asyncio a socket task whose exception nobody read."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def assert_none(self) -> None:
        assert not self.records, [self.format(record) for record in self.records]


@pytest.fixture(scope="module")
def server_errors(live) -> Iterator[ErrorRecords]:
    handler = ErrorRecords()
    handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("uvicorn")]  # uvicorn's loggers do not propagate
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    # A task's unread exception is logged when the task is collected: once here, as a full
    # collection takes a fifth of a second.
    gc.collect()
    for logger in loggers:
        logger.removeHandler(handler)
    handler.assert_none()


# --- random JSON ---------------------------------------------------------------------------------

# Numbers a parser or a validator may trip on: non-finite ones (JSON's readers take NaN and
# Infinity, Python's among them), the same as strings, beyond float64 and int64, and the least.
NUMBER_TEXTS = ("NaN", "Infinity", "-Infinity", "nan", "inf", "1e999", "-1e999", "1.5", "7", "0x10", "", " 1 ")
HUGE_NUMBERS = (10**30, -(10**30), 2**63, 2**64, 10**400, 1e308, -1e308, 5e-324, -0.0)
FIELD_NAMES = ("format", "version", "run", "step", "epoch", "layers", "weights", "biases", "resume", "orders", "data",
               "csv", "name", "config", "type", "id", "changes", "__proto__")

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(NUMBER_TEXTS)
    | st.sampled_from(HUGE_NUMBERS)
)
keys = st.sampled_from(FIELD_NAMES) | st.text(max_size=12)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4), max_leaves=12
)


# --- the import --------------------------------------------------------------------------------

CSV = "a,b,label\n" + "".join(f"{i * 0.37 % 3:.3f},{i * 1.13 % 2:.3f},{'xy'[i % 2]}\n" for i in range(12))
# Parts of a document the import ignores or derives, as the export document says (run_schemas):
# a new id and time, the upload's name from `data`, the layer sizes from the config.
DERIVED = {("exported",), ("run", "id"), ("run", "created"), ("run", "upload"), ("run", "resume", "layer_sizes")}
FOLLOWS_THE_DATA_SET = ("run", "config", "loss")  # null: the data set's loss, which the export names


@pytest.fixture(scope="module")
def runs_http(runs_live) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runs_live.base, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def exports(runs_live, runs_http) -> list[JSON]:
    """Real exports of real runs: a built-in data set, and an uploaded CSV that travels with its run."""
    live, http = runs_live, runs_http
    upload = http.post("/api/v1/datasets", files={"file": ("two classes.csv", CSV.encode(), "text/csv")})
    assert upload.status_code == 201, upload.text
    sessions = [
        live.new_session(dataset="xor", samples=24, hidden_layers=[3], optimizer="adam", batch_size=5,
                         regularization="l2", regularization_rate=0.01),
        live.new_session(dataset=upload.json()["id"], hidden_layers=[2], optimizer="momentum", batch_size=4),
    ]
    documents = []
    for session_id in sessions:
        assert http.post(f"/api/v1/sessions/{session_id}/step", json={"steps": 9}).status_code == 200
        run = http.post("/api/v1/runs", json={"session_id": session_id, "name": "a run"}).json()
        documents.append(http.get(f"/api/v1/runs/{run['id']}/export").json())
    return documents


def pick_path(draw: st.DrawFn, document: JSON) -> list[str | int]:
    """A path from the root into `document`, descending seven times in eight at each level."""
    path: list[str | int] = []
    value = document
    while isinstance(value, dict | list) and value and draw(st.integers(0, 7)):
        key = draw(st.sampled_from(sorted(value) if isinstance(value, dict) else range(len(value))))
        path.append(key)
        value = value[key]
    return path


def replaced(document: JSON, path: list[str | int], value: JSON) -> JSON:
    if not path:
        return value
    container = document
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value
    return document


def removed(document: JSON, path: list[str | int]) -> JSON:
    if not path:
        return {}
    container = document
    for key in path[:-1]:
        container = container[key]
    del container[path[-1]]
    return document


def value_at(document: JSON, path: list[str | int]) -> JSON:
    for key in path:
        document = document[key]
    return document


def ordinary(value: JSON) -> bool:
    """A number as an export writes them: not a bool, finite, well inside float64's range."""
    return isinstance(value, int | float) and not isinstance(value, bool) and abs(value) < 1e15


def changed_numbers(number: float) -> st.SearchStrategy[JSON]:
    """The number far from it, not a number, or as another type."""
    return st.sampled_from([number * 1e300, math.trunc(number), str(number), True, math.nan, math.inf, -math.inf])


@st.composite
def mutated(draw: st.DrawFn, documents: list[JSON]) -> JSON:
    """A copy of one of `documents` with one to three random changes; half the documents get only
    gentle ones (another finite number, a key left out), which an import may well accept."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    gentle = draw(st.booleans())
    changes = ["nudge", "remove"] if gentle else ["replace", "remove", "add a key", "nest", "number", "resize"]
    for _ in range(draw(st.integers(1, 3))):
        path = pick_path(draw, document)
        target = value_at(document, path)
        change = draw(st.sampled_from(changes))
        if change == "nudge" and ordinary(target):
            document = replaced(document, path, draw(st.sampled_from([target + 1, -target - 1, float(target)])))
        elif change == "nudge":
            continue
        elif change == "remove":
            document = removed(document, path)
        elif change == "add a key" and isinstance(target, dict):
            target[draw(keys)] = draw(json_values)
        elif change == "nest":
            document = replaced(document, path, draw(st.sampled_from([[target], {"value": target}])))
        elif change == "number" and ordinary(target):
            document = replaced(document, path, draw(changed_numbers(target)))
        elif change == "resize" and isinstance(target, list) and target and draw(st.booleans()):
            target.append(copy.deepcopy(draw(st.sampled_from(target))))
        elif change == "resize" and isinstance(target, list) and target:
            target.pop()
        else:
            document = replaced(document, path, draw(json_values))
    return document


def same_json(exported: JSON, document: JSON) -> bool:
    """Equal as JSON values: one number type (1 and 1.0 alike), but true is not 1, "1" is not 1."""
    if isinstance(document, bool) or isinstance(exported, bool):
        return type(document) is type(exported) and document == exported
    if isinstance(document, int | float) and isinstance(exported, int | float):
        return document == exported
    return type(document) is type(exported) and document == exported


def assert_says_all_the_document_says(exported: JSON, document: JSON, path: tuple[str | int, ...] = ()) -> None:
    """Every value of `document` is in `exported` at the same place, but for the parts the import
    derives; a key the document leaves out may be filled in (every config field has a default)."""
    if path in DERIVED or (path == FOLLOWS_THE_DATA_SET and document is None):
        return
    if isinstance(document, dict):
        assert isinstance(exported, dict), (path, exported)
        for key, value in document.items():
            assert key in exported, (path, key)
            assert_says_all_the_document_says(exported[key], value, (*path, key))
    elif isinstance(document, list):
        assert isinstance(exported, list) and len(exported) == len(document), (path, exported)
        for index, (again, value) in enumerate(zip(exported, document, strict=True)):
            assert_says_all_the_document_says(again, value, (*path, index))
    else:
        assert same_json(exported, document), (path, exported, document)


def assert_fastapi_422(body: JSON) -> None:
    detail = body["detail"]
    assert isinstance(detail, list) and detail
    for item in detail:
        assert isinstance(item["loc"], list) and item["loc"][0] == "body", item
        assert isinstance(item["msg"], str) and item["msg"] and isinstance(item["type"], str), item


@settings(max_examples=200)
@given(data=st.data())
def test_an_import_of_a_mutated_export_is_exact_or_a_422_never_a_500(runs_http, exports, server_errors, data):
    http = runs_http
    document = data.draw(mutated(exports), label="document")
    body = json.dumps(document)  # NaN and Infinity as JSON's readers take them
    response = http.post("/api/v1/runs/import", content=body, headers={"Content-Type": "application/json"})
    answer = strict_json(response.text)  # a refusal of NaN does not echo NaN
    assert response.status_code in (201, 422), response.text
    event(f"answered {response.status_code}")
    if response.status_code == 422:
        assert_fastapi_422(answer)
    else:
        exported = http.get(f"/api/v1/runs/{answer['id']}/export").json()
        assert_says_all_the_document_says(exported, document)
        assert http.delete(f"/api/v1/runs/{answer['id']}").status_code == 204
    server_errors.assert_none()


# --- the WebSocket -------------------------------------------------------------------------------

SESSION = {"dataset": "xor", "samples": 40, "hidden_layers": [3], "learning_rate": 0.03, "batch_size": 8}
ERROR_CODES = set(get_args(ErrorCode)) - {"internal"}  # "internal": the session failed
SECONDS = 20.0  # for an answer, on two cores shared with other test processes

# Near-valid values of every config field (in range, just out of it, unknown names), so that many
# changes pass validation and reach the engine; random JSON tries the rest.
PLAUSIBLE_CONFIG: dict[str, st.SearchStrategy[JSON]] = {
    "dataset": st.sampled_from(["circle", "plane", "iris", "five_class", "nope", "csv_gone"]),
    "samples": st.integers(0, 300),
    "noise": st.floats(-0.1, 0.6),
    "train_ratio": st.floats(0.0, 1.0),
    "seed": st.integers(-1, 2**64),
    "features": st.lists(st.sampled_from(["x1", "x2", "x1_squared", "sin_x1", "x3"]), max_size=4),
    "hidden_layers": st.lists(st.integers(-1, 8), max_size=4),
    "activation": st.sampled_from(["relu", "sigmoid", "linear", "swish"]),
    "loss": st.sampled_from(["mse", "cross_entropy", None, "hinge"]),
    "optimizer": st.sampled_from(["sgd", "momentum", "adam", "lbfgs"]),
    "learning_rate": st.floats(-1.0, 1200.0),
    "momentum": st.floats(-0.1, 1.1),
    "batch_size": st.integers(-1, 100),
    "regularization": st.sampled_from(["none", "l1", "l2", "l3"]),
    "regularization_rate": st.floats(-1.0, 11.0),
    "init": st.sampled_from(["xavier", "he", "uniform", "zeros"]),
}
assert set(PLAUSIBLE_CONFIG) == set(ConfigIn.model_fields), "every config field is tried"
PLAUSIBLE_FIELDS: dict[str, st.SearchStrategy[JSON]] = {
    "id": st.text(max_size=140) | st.integers(-(2**60), 2**60),
    "steps": st.integers(-2, 300),
    "steps_per_second": st.floats(-10.0, 2000.0),
    "changes": st.fixed_dictionaries({}, optional=PLAUSIBLE_CONFIG),
    "layer": st.integers(-1, 3),
    "kind": st.sampled_from(["weight", "bias", "neuron"]),
    "i": st.integers(-1, 4),
    "j": st.integers(-1, 4),
    "value": st.floats(),
    "split": st.sampled_from(["train", "test", "validation"]),
    "index": st.integers(-1, 100),
    "learning_rates": st.lists(st.floats(-1.0, 1200.0), max_size=9),
}


@st.composite
def typed_messages(draw: st.DrawFn) -> str:
    """A message of a real type with most of its fields, each plausible three times in four
    (else random JSON), and at times a field that no message has."""
    kind = draw(st.sampled_from(sorted(DISPATCH)))
    message: dict[str, JSON] = {"type": kind}
    for name in DISPATCH[kind][0].model_fields:
        if name != "type" and draw(st.integers(0, 3)):
            plausible = PLAUSIBLE_FIELDS.get(name, json_values)
            message[name] = draw(st.one_of(plausible, plausible, plausible, json_values))
    if draw(st.integers(0, 5)) == 0:
        message[draw(keys)] = draw(json_values)
    return json.dumps(message)


# Three messages in four of a real type, the rest random JSON, garbage text or binary.
client_messages = st.one_of(
    typed_messages(), typed_messages(), typed_messages(),
    json_values.map(json.dumps) | st.text(max_size=60) | st.binary(max_size=60),
)


async def state_after(inbox: Inbox, message: JSON, *states: str) -> JSON:
    """Sends `message`, then waits for a `state` message in one of `states`."""
    await inbox.send(message)
    while True:
        state = await inbox.until("state", SECONDS)
        if state["state"] in states:
            return state


async def exchange(live, session_id: str, messages: list[str | bytes]) -> list[JSON]:
    """Sends `messages` on one socket, then checks that the same socket still controls the
    session: back to the session's config, reset, play, pause and a step of 2, each answered."""
    async with connect(f"{live.ws}/ws/sessions/{session_id}", origin=live.base, max_size=2**24,
                       close_timeout=1) as ws:
        inbox = Inbox(ws)
        await inbox.until("hello", SECONDS)
        for message in messages:
            await ws.send(message)
        await inbox.send({"type": "race_stop"})
        await inbox.send({"type": "probe", "id": "after the random messages"})
        await inbox.until("probe", SECONDS, reply_to="after the random messages")  # their answers came before
        await inbox.send({"type": "config", "changes": {**ConfigIn().model_dump(), **SESSION}, "id": "back"})
        await inbox.send({"type": "reset"})
        assert (await inbox.until("snapshot", SECONDS))["step"] == 0
        await state_after(inbox, {"type": "play"}, "running")
        paused = await state_after(inbox, {"type": "pause"}, "paused")
        await inbox.send({"type": "step", "steps": 2})
        await inbox.until("frame", SECONDS, step=paused["step"] + 2)
        return [message for _, message in inbox.messages]


@settings(max_examples=60)
@given(messages=st.lists(client_messages, min_size=1, max_size=8))
def test_random_messages_never_break_a_session(live, http, server_errors, messages):
    session_id = live.new_session(**SESSION)
    try:
        received = asyncio.run(exchange(live, session_id, messages))
        errors = [message for message in received if isinstance(message, dict) and message.get("type") == "error"]
        assert all(error["code"] in ERROR_CODES and isinstance(error["message"], str) for error in errors), errors
        answer = http.get(f"/api/v1/sessions/{session_id}")
        assert answer.status_code == 200 and answer.json()["state"] == "paused"
    finally:
        http.delete(f"/api/v1/sessions/{session_id}")
    server_errors.assert_none()
