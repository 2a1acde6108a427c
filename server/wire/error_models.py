"""The shape of a refusal (docs/api.md, "Errors") and the OpenAPI entries routes declare for it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    """404, 413, 429 and other refusals: what went wrong, in a sentence. A 429 adds which cap
    (`code`, e.g. `too_many_neurons`), the request `field` that hit it and its `params`
    (`maximum`, …), so a page can say it in its reader's language (docs/api.md, "Errors")."""

    detail: str
    code: str | None = None
    field: str | None = None
    params: dict[str, Any] | None = None


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries for the refusals a route can answer with."""
    described = {
        403: "Classroom mode: you may see it but not change it; `code` says why (`not_yours`, `teacher_only`).",
        404: "Unknown session or data set id (or, in classroom mode, another's session); `code` `unknown_class` for "
        "a class code that names no open class.",
        409: "Not in the present state; `code` says why (`class_paused`: the teacher paused the class; "
        "`teacher_cannot_join`).",
        413: "The request body is too large.",
        429: "A cap or a classroom share was reached (sessions, network size, uploads, …); `code` says which and "
        "`detail` what to do.",
    }
    out: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut, "description": described[code]} for code in codes}
    if 429 in out:
        out[429]["headers"] = RETRY_AFTER_HEADER
    return out


RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds after which trying again has a chance.",
                                      "schema": {"type": "integer"}}}


UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Classroom mode: a bearer token that is neither the teacher key nor a "
          "student's token (docs/api.md, \"Classroom mode\")."}
}

# any route, while a first start compiles the engine (backprop_lab.server.routes.preparing)
PREPARING: dict[int | str, dict] = {
    503: {"model": ErrorOut, "headers": RETRY_AFTER_HEADER,
          "description": "The engine is being prepared (a first start compiles it): `code` `engine_preparing`, the "
          "progress in `params`; or `engine_failed` (docs/api.md, \"Errors\")."}
}


def json_refusals(entries: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The refusals `entries` of a route whose success is not JSON (a CSV, a file): their bodies
    still are (the app's 401 and 503 among them, which FastAPI would otherwise document in the
    route's media type)."""
    schema = {"$ref": "#/components/schemas/ErrorOut"}
    return {code: {"description": entry["description"], "content": {"application/json": {"schema": schema}}}
            for code, entry in {**UNAUTHORIZED, **PREPARING, **entries}.items()}
