"""HTTP answers for refusals: 422 in FastAPI's standard shape, 403, 404, 409, 429, and a last-resort 500.

The 422 handler replaces FastAPI's default for one reason: the default echoes each bad
`input` back, and an input of `NaN` or `1e999` (which Python's JSON parser reads as a float)
cannot be written as JSON, so the error about it would itself fail. Here inputs are cleaned:
non-finite numbers become the strings "NaN", "Infinity", "-Infinity", integers too large for
JSON readers become strings, and large inputs are left out rather than echoed.

Every refusal also says what it is in words a client can translate, besides FastAPI's English
`msg` (which scripts keep reading): each 422 item carries `code` (a stable word: pydantic's
error `type` for a malformed request, the engine's or server's code otherwise), `field` (the
dotted field name, without "body") and `params` (its numbers and names); a 429 body carries the
same three keys beside its `detail` sentence. docs/api.md lists the codes.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import JSONResponse, Response

from backprop_lab.server.wire.problems import (
    CapReached,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unavailable,
    field_of,
)
from backprop_lab.server.wire.protocol import encode_bytes

logger = logging.getLogger(__name__)
MAX_ECHO_ITEMS = 64


class JSONBody(JSONResponse):
    """JSON via `backprop_lab.server.wire.protocol.encode_bytes`: NumPy arrays written directly, never NaN.
    (A JSONResponse subclass, so FastAPI documents each route's `response_model` for it.)"""

    def render(self, content: Any) -> bytes:
        return encode_bytes(content)


def text(value: str) -> str:
    """`value` as JSON can carry it: a lone surrogate (JSON's "\\ud800" parses to one, and UTF-8
    cannot encode it) becomes U+FFFD."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char for char in value)
    return value


def clean(value: Any, budget: list[int] | None = None) -> Any:
    """A JSON-safe copy of an echoed input; raises OverflowError when it is too big to echo."""
    budget = budget if budget is not None else [MAX_ECHO_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        raise OverflowError
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)  # beyond what JSON readers (and orjson) take as an integer
    if isinstance(value, dict):
        return {text(str(key)): clean(item, budget) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean(item, budget) for item in value]
    if isinstance(value, bytes):
        return value[:200].decode("utf-8", "replace")
    if isinstance(value, str):
        return text(value[:200])
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)[:200]


def _params(error: dict[str, Any]) -> dict[str, Any]:
    """A pydantic error's numbers for a translated sentence: its `ctx` (bounds such as `gt`,
    `max_length`, `expected`) and, when it is small, the refused `value`."""
    params: dict[str, Any] = {}
    for key, value in (error.get("ctx") or {}).items():
        try:
            params[str(key)] = clean(value)
        except OverflowError:
            pass
    if "input" in error:
        try:
            value = clean(error["input"], [1])  # a scalar, not a whole body
        except OverflowError:
            pass
        else:
            params["value"] = value
    return params


def pydantic_problem(error: dict[str, Any], skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """`{"field", "code", "params"}` of one pydantic error: its location as a dotted field, its
    `type` as the code. `skip` drops location parts that are not fields (a message's type tag)."""
    location = tuple(part for part in error.get("loc", ()) if part not in skip)
    return {
        "field": field_of(tuple(part if isinstance(part, int | str) else str(part) for part in location)),
        "code": str(error.get("type", "value_error")),
        "params": _params(error),
    }


def validation_detail(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    detail = []
    for error in errors:
        item: dict[str, Any] = {
            "loc": [part if isinstance(part, int) else text(str(part)) for part in error.get("loc", ())],
            "msg": text(str(error.get("msg", ""))),
            "type": str(error.get("type", "value_error")),
            **pydantic_problem(error),
        }
        if "input" in error:
            try:
                item["input"] = clean(error["input"])
            except OverflowError:
                pass  # too large to echo back
        if "ctx" in error:
            try:
                item["ctx"] = clean(error["ctx"])
            except OverflowError:
                pass
        detail.append(item)
    return detail


def invalid(problem: InvalidInput) -> JSONBody:
    """A 422 in FastAPI's shape for a refusal found after validation (by the engine or a route),
    with its `code`, `field` and `params` (cleaned like an echoed input: a non-finite value as a
    string)."""
    try:
        params = clean(problem.params)
    except OverflowError:
        params = {}  # too large to echo back
    item: dict[str, Any] = {
        "loc": list(problem.location),
        "msg": problem.message,
        "type": problem.kind,
        "code": problem.code,
        "field": problem.field,
        "params": params,
    }
    return JSONBody({"detail": [item]}, status_code=422)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return JSONBody({"detail": validation_detail(list(exc.errors()))}, status_code=422)


async def _on_invalid_input(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput)
    return invalid(exc)


async def _on_cap(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CapReached)
    try:
        params = clean(exc.params)
    except OverflowError:
        params = {}
    body = {"detail": exc.message, "code": exc.code, "field": exc.field, "params": params}
    return JSONBody(body, status_code=429, headers={"Retry-After": str(exc.retry_after)})


async def _on_forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    return JSONBody({"detail": exc.message, "code": exc.code}, status_code=403)


async def _on_not_found(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotFound)
    body = {"detail": exc.message} if exc.code is None else {"detail": exc.message, "code": exc.code}
    return JSONBody(body, status_code=404)


async def _on_conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Conflict)
    return JSONBody({"detail": exc.message, "code": exc.code}, status_code=409)


async def _on_unavailable(request: Request, exc: Exception) -> Response:
    """503: the server cannot do it now. The body says why as a 429's does (`code`: the runs
    database's `disk_full`, `read_only`, `damaged`, `busy`, `unavailable` with its `path` in
    `params`, or `shutting_down`); one that passes says when to try again (`Retry-After`)."""
    assert isinstance(exc, Unavailable)
    if exc.logged:
        logger.error("%s: %s", exc.code, exc, exc_info=exc.__cause__)
    # cleaned: a file name that is not UTF-8 reaches Python with lone surrogates, which JSON cannot carry
    body = {"detail": text(str(exc)), "code": exc.code, "field": None, "params": clean(exc.params)}
    headers = None if exc.retry_after is None else {"Retry-After": str(exc.retry_after)}
    return JSONBody(body, status_code=503, headers=headers)


async def _on_anything_else(request: Request, exc: Exception) -> Response:
    """Last resort: a bug. Logged with its traceback; the client gets a clean message."""
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONBody({"detail": "internal error; the server log has the details"}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(InvalidInput, _on_invalid_input)
    app.add_exception_handler(CapReached, _on_cap)
    app.add_exception_handler(NotFound, _on_not_found)
    app.add_exception_handler(Forbidden, _on_forbidden)
    app.add_exception_handler(Conflict, _on_conflict)
    app.add_exception_handler(Unavailable, _on_unavailable)
    app.add_exception_handler(Exception, _on_anything_else)
